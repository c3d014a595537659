"""Time moves: advanced days load incrementally and equal a backfill and a full refresh; the drills lose nothing.

Two business days advanced one by one on the daily schedule (a copy of the built pipeline, scale 0.01) are the
reference: the same days as one backfill give the same marts, and so does the full refresh that mends a mart built by
an older model. The other drills start from their own copy of the built pipeline (day 0): a second writer knocking,
dbt killed mid-build and the same day run again; PostgreSQL going down during the extract; the load killed
mid-stream; a source column changing type. After each, the marts are compared and dbt's reconciliation tests
(source keys and money against raw and the marts) must pass.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
from conftest import Built
from helpers import (
    BIN,
    TEST_SCALE,
    assert_reconciled,
    assert_same_marts,
    build_results,
    copy_data_folder,
    daily_schedule_tick,
    execute,
    log_lines,
    mart_contents,
    ok,
    rows,
    run,
    scalar,
    start_run,
    wait_for,
)

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings
from tidewater.orchestrate.sources import meltano_sources
from tidewater.serve import published

pytestmark = pytest.mark.drill


@dataclass
class Advanced:
    """Two business days on from the built pipeline, one by one on the daily schedule (evaluated and launched as its
    daemon would)."""

    settings: Settings
    raw_orders_before: int
    fct_orders_in_elementary: dict[str, int]  # after each day's run, its row in Elementary's copy of the models
    marts: dict[str, list[tuple[Any, ...]]]
    # A dashboard's connection to the serving copy, held open through both runs: what it read before and after.
    held_reader_last_order_day: tuple[date, date]
    serving_copies: tuple[Path, Path]  # the copy current before the runs, and after


LAST_ORDER_DAY = "select max(order_date) from marts.fct_orders"


@pytest.fixture(scope="module")
def advanced(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Advanced:
    settings = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("advanced") / "data")
    raw_orders_before = scalar(settings, "select count(*) from raw_app.orders")
    # Elementary's tables as an older package left them (day 1), then its copy of the project's metadata from an
    # older project (day 2): each run must bring them up to date before its build.
    stale = {
        "2026-11-01": "update elementary.metadata set dbt_pkg_version = '0.0.1'",
        "2026-11-02": "select 1",
    }
    in_elementary = {}
    copy_before = published.current_database(settings)
    reader = published.connect(settings)
    read_before = reader.execute(LAST_ORDER_DAY).fetchone()[0]
    for day, make_stale in stale.items():
        with warehouse.connect(settings.warehouse, read_only=False) as connection:
            connection.execute(make_stale)
            connection.execute("delete from elementary.dbt_models where name = 'fct_orders'")
        (settings.data_dir / "elementary" / "uploaded-project.sha256").write_text("an older project")
        (request,) = daily_schedule_tick(settings)
        assert request["partition"] == day  # the next business day the sources have not reached
        assert execute(settings, "lifecycle", request["tags"])["success"]
        in_elementary[day] = scalar(settings, "select count(*) from elementary.dbt_models where name = 'fct_orders'")
    read_after = reader.execute(LAST_ORDER_DAY).fetchone()[0]
    reader.close()
    return Advanced(
        settings,
        raw_orders_before,
        in_elementary,
        mart_contents(settings),
        (read_before, read_after),
        (copy_before, published.current_database(settings)),
    )


def test_advanced_days_on_the_daily_schedule_load_incrementally(advanced: Advanced) -> None:
    settings = advanced.settings
    # The schedule passes no settings of its own: the folder's scale holds.
    assert json.loads((settings.data_dir / "run-parameters.json").read_text())["scale"] == 0.01
    assert scalar(settings, "select max(cast(ordered_at as date)) from marts.fct_orders") == date(2026, 11, 2)
    assert_reconciled(settings)

    # Meltano's bookmarks: only what changed is extracted (a full re-extract would double the raw rows).
    source_orders = scalar(settings, "select count(*) from audit.source_keys where entity = 'orders'")
    raw_orders_added = scalar(settings, "select count(*) from raw_app.orders") - advanced.raw_orders_before
    assert 0 < raw_orders_added < 0.2 * source_orders

    # Hard deletes: tombstoned in raw, gone from the marts; soft deletes flagged. A customer hard-deleted in the app
    # asked to be erased: recorded in the ledger, and no row of theirs left in raw or the snapshot's history.
    tombstones = "select record_id from raw_app.deleted_records where table_name = "
    erased = [r[0] for r in rows(settings, tombstones + "'customers'")]
    purged = [r[0] for r in rows(settings, tombstones + "'orders'")]
    assert len(erased) == 2 and len(purged) == 1
    ids = ", ".join(map(str, erased))
    for table in ("marts.dim_customers", "raw_app.customers", "snapshots.snp_app__customers"):
        assert not rows(settings, f"select 1 from {table} where customer_id in ({ids})"), table
    ledger = "select customer_id from privacy.erasure_requests where requested_by = 'app' order by 1"
    assert [r[0] for r in rows(settings, ledger)] == sorted(erased)
    assert not rows(settings, f"select 1 from marts.fct_orders where order_id = {purged[0]}")
    assert not rows(settings, f"select 1 from marts.fct_order_items where order_id = {purged[0]}")
    assert scalar(settings, "select count(*) from marts.dim_customers where is_deleted") >= 1

    # Schema change on day 2: the new column reaches raw and Elementary flags it (that table only); the staging
    # contract holds.
    assert rows(settings, "select 1 from raw_app.orders where gift_message is not null limit 1")
    results = build_results(settings)
    schema_tests = {k: r["status"] for k, r in results.items() if k.startswith("elementary_") and "schema_changes" in k}
    assert schema_tests.pop("elementary_source_schema_changes_app_orders_") == "warn"
    assert set(schema_tests.values()) == {"pass"}, schema_tests
    assert rows(settings, "select 1 from raw_events.events where extra_fields like '%consent_state%' limit 1")
    assert "gift_message" not in [r[0] for r in rows(settings, "describe staging.stg_app__orders")]

    # Late events (landing in the folder of the day they happened) reach the sessions.
    late = rows(
        settings,
        "select e.event_id from staging.stg_events__events as e join marts.fct_sessions as s "
        "on e.anonymous_id = s.anonymous_id where e.source_file like '2026-10-%/arrived-2026-11-0%' "
        "and not e.is_bot and not e.is_malformed",
    )
    assert late, "no late event of an advanced day reached fct_sessions"


def test_a_reader_of_the_serving_copy_neither_blocks_the_runs_nor_sees_them_half_done(advanced: Advanced) -> None:
    """A dashboard held the serving copy open through both days' runs: the runs wrote the warehouse all the same, and
    each promoted a new copy; the open connection kept reading the copy it opened, whole."""
    before, after = advanced.serving_copies
    assert after != before
    assert advanced.held_reader_last_order_day == (date(2026, 10, 31), date(2026, 10, 31))
    with published.connect(advanced.settings) as reader:
        assert reader.execute(LAST_ORDER_DAY).fetchone()[0] == date(2026, 11, 2)
    # The copy before the runs is gone (one previous copy is kept: the first day's); the new one is whole.
    assert not before.exists()
    assert published.current_database(advanced.settings).exists()


def test_each_run_brings_elementarys_tables_up_to_date(advanced: Advanced) -> None:
    """An older package's tables are rebuilt (day 1), an older project's metadata uploaded again (day 2)."""
    assert advanced.fct_orders_in_elementary == {"2026-11-01": 1, "2026-11-02": 1}
    assert scalar(advanced.settings, "select dbt_pkg_version from elementary.metadata") != "0.0.1"


def test_a_backfill_of_the_same_days_gives_the_same_marts(built: Built, advanced: Advanced, tmp_path: Path) -> None:
    """The same two days as one backfill, with Dagster's own CLI (the UI launches the same single run), the docs and
    the report left out as in the other runs the tests start."""
    backfilled = copy_data_folder(built.settings.data_dir, tmp_path / "backfill")
    result = subprocess.run(
        [str(BIN / "dagster"), "asset", "materialize", "--module-name", "tidewater.orchestrate.definitions",
         "--select", "not group:observability", "--partition-range", "2026-11-01...2026-11-02"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **backfilled.env(), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )  # fmt: skip
    PostgresServer(backfilled.postgres_dir).stop()  # the backfill's run started it
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert_reconciled(backfilled)
    assert_same_marts(mart_contents(backfilled), advanced.marts)


def test_a_mart_built_by_an_older_model_stops_the_build_and_a_full_refresh_gives_the_same_marts(
    advanced: Advanced, tmp_path: Path
) -> None:
    """fct_sessions as an older version of the model built it, without the column its incremental filter reads: the
    build stops naming the model and the full refresh (not DuckDB's Binder Error). The full refresh mends it and
    rebuilds from raw the marts the days built one by one."""
    settings = copy_data_folder(advanced.settings.data_dir, tmp_path / "older")
    with warehouse.connect(settings.warehouse, read_only=False) as con:
        con.execute("alter table marts.fct_sessions drop column events_loaded_at")
    result = run(settings)
    assert result.returncode != 0, result.stdout[-3000:]
    assert (
        "has no column events_loaded_at: it was built by an older version of fct_sessions. "
        "Rebuild it once: `tidewater run --full-refresh`"
    ) in result.stderr, result.stderr[-3000:]
    assert "Binder Error" not in result.stderr
    ok(run(settings, "--full-refresh"))
    assert_reconciled(settings)
    assert_same_marts(mart_contents(settings), advanced.marts)


def test_a_second_writer_is_refused_and_a_rerun_after_dbt_was_killed_mid_build_changes_nothing(
    built: Built, drill_folder: Settings
) -> None:
    settings = drill_folder
    counts_before = {s: t for s, t in warehouse.table_counts(settings.warehouse).items() if s != "elementary"}
    first = start_run(settings)
    since = time.time()
    wait_for(lambda: log_lines(settings.logs_dir / "el-tap-postgres.log", since, "Running job") > 0, first, "extract")
    second = run(settings)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "warehouse is locked by another run" in second.stderr and str(settings.warehouse) in second.stderr

    build_log = settings.logs_dir / "dbt-build.log"
    wait_for(lambda: log_lines(build_log, since, " OK created ") >= 20, first, "the build's first models")
    os.killpg(first.pid, signal.SIGKILL)
    first.communicate()
    PostgresServer(settings.postgres_dir).stop()  # the run's PostgreSQL, if kill -9 left it running

    ok(run(settings))
    assert_reconciled(settings)
    assert_same_marts(mart_contents(settings), mart_contents(built.settings))
    # Every table keeps exactly its rows (Elementary's own tables record each run: they grow by design).
    counts_after = {s: t for s, t in warehouse.table_counts(settings.warehouse).items() if s != "elementary"}
    assert counts_after == counts_before


def _state(settings: Settings, extractor: str) -> dict:
    found = next(s for s in meltano_sources() if s.extractor == extractor)
    return json.loads((settings.meltano_state_dir / found.state_id / "state.json").read_text())


def test_postgres_down_during_extract_fails_clearly_keeps_the_bookmark_and_the_next_run_catches_up(
    drill_folder: Settings,
) -> None:
    settings = drill_folder
    bookmark = _state(settings, "tap-postgres")
    started = start_run(settings, "--days", "1")
    since = time.time()
    wait_for(lambda: log_lines(settings.logs_dir / "el-tap-postgres.log", since, "Running job") > 0, started, "extract")
    assert PostgresServer(settings.postgres_dir).stop(), "PostgreSQL was not running during the extract"
    out, err = started.communicate(timeout=600)
    assert started.returncode == 2, out[-3000:] + err[-2000:]
    assert "==> business day 2026-11-01\n" in out and "day 1 (2026-11-01): " in out  # the day arrived first
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and "tap-postgres" in lines[0] and "el-tap-postgres.log" in lines[0], err
    assert "Traceback" not in err
    assert _state(settings, "tap-postgres") == bookmark, "the bookmark moved although the extract failed"

    caught_up = ok(run(settings))  # day 1 is in PostgreSQL already: this run extracts it
    assert "business time 2026-11-02T00:00:00" in caught_up.stdout
    assert_reconciled(settings)
    assert _state(settings, "tap-postgres") != bookmark
    assert scalar(settings, "select max(order_id) from marts.fct_orders") == scalar(
        settings, "select max(key_id) from audit.source_keys where entity = 'orders'"
    )


def _processes_of(data_dir: Path) -> list[str]:
    """Processes still alive that work on this data folder (its PostgreSQL, a Meltano, a tap or loader, dbt)."""
    found = []
    for process in psutil.process_iter(["pid", "cmdline", "environ"]):
        if process.info["pid"] == os.getpid():
            continue
        seen = (
            " ".join(process.info["cmdline"] or [])
            + " "
            + (process.info["environ"] or {}).get("TIDEWATER_DATA_DIR", "")
        )
        if str(data_dir) in seen:
            found.append(f"{process.info['pid']}: {' '.join(process.info['cmdline'] or [])[:200]}")
    return found


def test_stopping_the_run_mid_load_stops_all_it_started_and_loses_and_doubles_nothing(drill_folder: Settings) -> None:
    """SIGTERM to the run alone (what a container's stop sends; Ctrl-C reaches the whole group): it stops its loads
    and PostgreSQL and leaves no process behind, then a rerun loses and doubles nothing. No --scale: the folder's."""
    settings = drill_folder
    events_log = settings.logs_dir / "el-tap-landing-zone.log"
    # Batches of 2 lines from the tap, merged one by one by the loader: the stop lands between two merges.
    started = start_run(
        settings,
        "--days",
        "1",
        extra_env={"TARGET_DUCKDB_BATCH_SIZE_ROWS": "2", "TAP_LANDING_ZONE_BATCH_CONFIG_BATCH_SIZE": "2"},
    )
    since = time.time()
    wait_for(lambda: log_lines(events_log, since, "Loading ") >= 2, started, "two event batches")
    os.kill(started.pid, signal.SIGTERM)
    out, err = started.communicate(timeout=120)
    assert started.returncode != 0, out[-2000:]
    assert "Traceback" not in err, err[-3000:]
    deadline = time.monotonic() + 30
    while (left := _processes_of(settings.data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == [], "the stopped run left these running:\n" + "\n".join(left)
    assert not PostgresServer(settings.postgres_dir).is_running()
    assert json.loads((settings.data_dir / "run-parameters.json").read_text())["scale"] == TEST_SCALE

    landed_lines = sum(
        1 for path in (settings.landing_dir / "events").glob("*/*.jsonl") for line in path.open("rb") if line.strip()
    )
    loaded = scalar(settings, "select count(*) from raw_events.events")
    assert loaded < landed_lines, "the load finished before the kill: the drill did not cut it mid-stream"

    ok(run(settings))
    assert_reconciled(settings)
    counts = rows(settings, "select count(*), count(distinct (_source_file, _line_number)) from raw_events.events")[0]
    assert counts == (landed_lines, landed_lines)
    for table, key in (("orders", "order_id"), ("order_items", "order_item_id"), ("payments", "payment_id")):
        duplicated = rows(settings, f"select {key} from staging.stg_app__{table} group by 1 having count(*) > 1")
        assert not duplicated, (table, duplicated[:5])


def test_a_source_column_that_changes_type_stops_the_build_with_one_clear_message(drill_folder: Settings) -> None:
    """The app turns order_items.quantity into text. The loader keeps the old values in a renamed column and adds a
    text one; dbt must stop before any model, naming the column and both types."""
    settings = drill_folder
    server = PostgresServer(settings.postgres_dir)
    connection = server.start()
    try:
        with psycopg.connect(connection.conninfo) as conn:
            conn.execute("alter table public.order_items alter column quantity type text")
            conn.execute(
                "update public.order_items set quantity = quantity || ' pcs', "
                "updated_at = updated_at + interval '1 day' "
                "where order_item_id = (select max(order_item_id) from public.order_items)"
            )
    finally:
        server.stop()
    result = run(settings)
    assert result.returncode == 2, result.stdout[-3000:]
    assert "A source column changed type: raw_app.order_items.quantity is now VARCHAR (was HUGEINT" in result.stderr
    assert "Traceback" not in result.stderr
    build_log = (settings.logs_dir / "dbt-build.log").read_text()
    assert " OK created " not in build_log, "dbt built models although a source column changed type"
