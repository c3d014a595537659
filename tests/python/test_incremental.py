"""Time moves (issue 6): advanced days load incrementally and equal a full refresh; the drills lose nothing.

One data folder of its own (a scale-0.01 run; the session's shared run is left alone) goes through, in order:
two advanced days (incremental), a full refresh, two reruns of the same day (with a second writer knocking),
PostgreSQL going down during the extract, the load killed mid-stream, and dbt killed mid-build. After each, the
marts are compared and dbt's reconciliation tests (source keys and money against raw and the marts) must pass.

Mart comparisons leave out the load-time columns (`*loaded_at`): a rerun re-delivers the bookmark row, which is
loaded again at a new time; every business column must be identical.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import BIN, TEST_SCALE, tidewater_cli

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import pipeline, warehouse
from tidewater.orchestrate.paths import PROJECT_ROOT, Paths

RECONCILIATION_TESTS = (
    "assert_source_keys_reach_raw_and_marts",
    "assert_source_totals_match_marts",
    "assert_landed_lines_reach_raw",
)


@dataclass
class Moving:
    paths: Paths
    marts: dict[str, list[tuple]] = field(default_factory=dict)


def _run(paths: Paths, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = tidewater_cli("run", "--scale", str(TEST_SCALE), "--no-docs", *args, data_dir=paths.data_dir,
                           extra_env=extra_env)  # fmt: skip
    return result


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-3000:]


def _start(paths: Paths, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A `tidewater run` in the background, in its own process group (so that kill -9 reaches its children)."""
    return subprocess.Popen(
        [str(BIN / "tidewater"), "--data-dir", str(paths.data_dir), "run", "--scale", str(TEST_SCALE), "--no-docs",
         *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )  # fmt: skip


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the run ended before {what}:\n{out[-3000:]}\n{err[-2000:]}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _log_lines(path: Path, since: float, needle: str) -> int:
    try:
        if path.stat().st_mtime < since:
            return 0
        return sum(1 for line in path.read_text(errors="replace").splitlines() if needle in line)
    except FileNotFoundError:
        return 0


def mart_contents(paths: Paths) -> dict[str, list[tuple]]:
    """Every row of every mart and metrics table, business columns only, sorted."""
    contents = {}
    with warehouse.connect(paths.warehouse) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'metrics') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        for schema, table in tables:
            columns = [
                name
                for (name,) in con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [schema, table],
                ).fetchall()
                if not name.endswith("loaded_at")
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            query = f'select {select} from {schema}."{table}" order by all'
            contents[f"{schema}.{table}"] = con.execute(query).fetchall()
    return contents


def assert_same_marts(actual: dict[str, list[tuple]], expected: dict[str, list[tuple]]) -> None:
    assert sorted(actual) == sorted(expected)
    differ = {
        name: (len(expected[name]), len(actual[name]), len(set(expected[name]) ^ set(actual[name])))
        for name in expected
        if actual[name] != expected[name]
    }
    assert not differ, f"tables that differ (rows expected, rows found, rows different): {differ}"


def _results(paths: Paths) -> dict[str, dict]:
    results = json.loads(paths.build_results_file.read_text())["results"]
    return {r["unique_id"].split(".")[2]: r for r in results}


def assert_reconciled(paths: Paths) -> None:
    results = _results(paths)
    for name in RECONCILIATION_TESTS:
        assert results[name]["status"] == "pass", (name, results[name].get("message"))


def _scalar(paths: Paths, sql: str) -> object:
    with warehouse.connect(paths.warehouse) as con:
        row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


@pytest.fixture(scope="module")
def moving(tmp_path_factory: pytest.TempPathFactory) -> Moving:
    paths = Paths.from_env(tmp_path_factory.mktemp("moving") / "data")
    _ok(_run(paths))
    return Moving(paths)


def test_advanced_days_load_incrementally_and_equal_a_full_refresh(moving: Moving) -> None:
    paths = moving.paths
    raw_orders_before = _scalar(paths, "select count(*) from raw_app.orders")
    result = _run(paths, "--days", "2")
    _ok(result)
    assert "day 1 (2026-11-01)" in result.stdout and "day 2 (2026-11-02)" in result.stdout
    assert "business time: 2026-11-03T00:00:00" in result.stdout
    assert_reconciled(paths)

    # Meltano's bookmarks: only what changed is extracted (a full re-extract would double the raw rows).
    source_orders = _scalar(paths, "select count(*) from audit.source_keys where entity = 'orders'")
    raw_orders_added = _scalar(paths, "select count(*) from raw_app.orders") - raw_orders_before
    assert 0 < raw_orders_added < 0.2 * source_orders

    # Hard deletes: tombstoned in raw, gone from the marts, recorded in the snapshot; soft deletes flagged.
    tombstones = "select record_id from raw_app.deleted_records where table_name = "
    erased = [r[0] for r in _rows(paths, tombstones + "'customers'")]
    purged = [r[0] for r in _rows(paths, tombstones + "'orders'")]
    assert len(erased) == 2 and len(purged) == 1
    assert not _rows(paths, f"select 1 from marts.dim_customers where customer_id in ({', '.join(map(str, erased))})")
    assert not _rows(paths, f"select 1 from marts.fct_orders where order_id = {purged[0]}")
    assert not _rows(paths, f"select 1 from marts.fct_order_items where order_id = {purged[0]}")
    deleted_versions = _rows(
        paths, "select customer_id from snapshots.snp_app__customers where dbt_is_deleted = 'True' order by 1"
    )
    assert [r[0] for r in deleted_versions] == sorted(erased)
    assert _scalar(paths, "select count(*) from marts.dim_customers where is_deleted") >= 1

    # Schema change on day 2: the new column reaches raw and Elementary flags it; the staging contract holds.
    assert _rows(paths, "select 1 from raw_app.orders where gift_message is not null limit 1")
    results = _results(paths)
    assert results["elementary_source_schema_changes_app_orders_"]["status"] == "warn"
    assert _rows(paths, "select 1 from raw_events.events where extra_fields like '%consent_state%' limit 1")
    assert "gift_message" not in [r[0] for r in _rows(paths, "describe staging.stg_app__orders")]

    # Late events (landing in the folder of the day they happened) reach the sessions.
    late = _rows(
        paths,
        "select e.event_id from staging.stg_events__events as e join marts.fct_sessions as s "
        "on e.anonymous_id = s.anonymous_id where e.source_file like '2026-10-%/arrived-2026-11-0%' "
        "and not e.is_bot and not e.is_malformed",
    )
    assert late, "no late event of an advanced day reached fct_sessions"

    incremental = mart_contents(paths)
    _ok(_run(paths, "--full-refresh"))
    assert_reconciled(paths)
    moving.marts = mart_contents(paths)
    assert_same_marts(incremental, moving.marts)


def _rows(paths: Paths, sql: str) -> list[tuple]:
    with warehouse.connect(paths.warehouse) as con:
        return con.execute(sql).fetchall()


def test_rerunning_the_same_day_changes_no_mart_row_and_a_second_writer_is_refused(moving: Moving) -> None:
    paths = moving.paths
    _ok(_run(paths))
    assert_same_marts(mart_contents(paths), moving.marts)

    first = _start(paths)
    el_log = paths.logs_dir / "el-tap-postgres.log"
    since = time.time()
    _wait_for(lambda: _log_lines(el_log, since, "Running job") > 0, first, "the first run's extract")
    second = tidewater_cli("run", "--scale", str(TEST_SCALE), "--no-docs", data_dir=paths.data_dir)
    out, err = first.communicate(timeout=1200)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "warehouse is locked by another run" in second.stderr and str(paths.warehouse) in second.stderr
    assert first.returncode == 0, out[-3000:] + err[-2000:]
    assert_reconciled(paths)
    assert_same_marts(mart_contents(paths), moving.marts)


def _state(paths: Paths, extractor: str) -> dict:
    loader = next(loader for _, tap, loader in pipeline.EL_TASKS if tap == extractor)
    return json.loads((paths.meltano_state_dir / f"dev:{extractor}-to-{loader}" / "state.json").read_text())


def test_postgres_down_during_extract_fails_clearly_keeps_the_bookmark_and_the_next_run_catches_up(
    moving: Moving,
) -> None:
    paths = moving.paths
    bookmark = _state(paths, "tap-postgres")
    run = _start(paths, "--days", "1")
    since = time.time()
    _wait_for(lambda: _log_lines(paths.logs_dir / "el-tap-postgres.log", since, "Running job") > 0, run, "extract")
    assert PostgresServer(paths.postgres_dir).stop(), "PostgreSQL was not running during the extract"
    out, err = run.communicate(timeout=600)
    assert run.returncode == 2, out[-3000:] + err[-2000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines[0].startswith("error: ") and "tap-postgres" in lines[0] and "el-tap-postgres.log" in lines[0]
    assert "Traceback" not in err
    assert _state(paths, "tap-postgres") == bookmark, "the bookmark moved although the extract failed"

    caught_up = _run(paths)  # day 3 is in PostgreSQL already: this run extracts it
    _ok(caught_up)
    assert_reconciled(paths)
    assert _state(paths, "tap-postgres") != bookmark
    assert _scalar(paths, "select max(order_id) from marts.fct_orders") == _scalar(
        paths, "select max(key_id) from audit.source_keys where entity = 'orders'"
    )


def test_killing_the_load_mid_stream_loses_and_doubles_nothing(moving: Moving) -> None:
    paths = moving.paths
    events_log = paths.logs_dir / "el-tap-landing-zone.log"
    # Batches of 2 lines from the tap, merged one by one by the loader: the kill lands between two merges.
    run = _start(
        paths,
        "--days",
        "1",
        extra_env={"TARGET_DUCKDB_BATCH_SIZE_ROWS": "2", "TAP_LANDING_ZONE_BATCH_CONFIG_BATCH_SIZE": "2"},
    )
    since = time.time()
    _wait_for(lambda: _log_lines(events_log, since, "Loading ") >= 2, run, "two event batches")
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate()
    PostgresServer(paths.postgres_dir).stop()  # the run's PostgreSQL, if kill -9 left it running

    landed_lines = sum(
        1 for path in (paths.landing_dir / "events").glob("*/*.jsonl") for line in path.open("rb") if line.strip()
    )
    loaded = _scalar(paths, "select count(*) from raw_events.events")
    assert loaded < landed_lines, "the load finished before the kill: the drill did not cut it mid-stream"

    _ok(_run(paths))
    assert_reconciled(paths)
    counts = _rows(
        paths,
        "select count(*), count(distinct (_source_file, _line_number)) from raw_events.events",
    )[0]
    assert counts == (landed_lines, landed_lines)
    for table, key in (("orders", "order_id"), ("order_items", "order_item_id"), ("payments", "payment_id")):
        duplicated = _rows(
            paths, f"select {key} from staging.stg_app__{table} group by 1 having count(*) > 1"
        )  # fmt: skip
        assert not duplicated, (table, duplicated[:5])
    moving.marts = mart_contents(paths)


def test_killing_dbt_mid_build_then_rerunning_gives_the_same_marts(moving: Moving) -> None:
    paths = moving.paths
    reference = moving.marts
    run = _start(paths)
    since = time.time()
    build_log = paths.logs_dir / "dbt-build.log"
    _wait_for(lambda: _log_lines(build_log, since, " OK created ") >= 20, run, "the build's first models")
    os.killpg(run.pid, signal.SIGKILL)
    run.communicate()
    PostgresServer(paths.postgres_dir).stop()

    _ok(_run(paths))
    assert_reconciled(paths)
    assert_same_marts(mart_contents(paths), reference)


def test_a_mart_built_by_an_older_model_stops_the_build_asking_for_a_full_refresh(moving: Moving) -> None:
    """fct_sessions as an older version of the model built it, without the column its incremental filter reads: the
    build stops naming the model and the full refresh (not DuckDB's Binder Error), and the full refresh mends it."""
    paths = moving.paths
    before = mart_contents(paths)
    with warehouse.connect(paths.warehouse, read_only=False) as con:
        con.execute("alter table marts.fct_sessions drop column events_loaded_at")
    result = _run(paths)
    assert result.returncode != 0, result.stdout[-3000:]
    assert (
        "has no column events_loaded_at: it was built by an older version of fct_sessions. "
        "Rebuild it once: `tidewater run --full-refresh`"
    ) in result.stderr, result.stderr[-3000:]
    assert "Binder Error" not in result.stderr
    _ok(_run(paths, "--full-refresh"))
    assert_reconciled(paths)
    assert_same_marts(mart_contents(paths), before)


def test_a_source_column_that_changes_type_stops_the_build_with_one_clear_message(moving: Moving) -> None:
    """Last (it breaks the folder on purpose): the app turns order_items.quantity into text. The loader keeps the old
    values in a renamed column and adds a text one; dbt must stop before any model, naming the column and types."""
    paths = moving.paths
    server = PostgresServer(paths.postgres_dir)
    connection = server.start()
    try:
        import psycopg

        with psycopg.connect(connection.conninfo) as conn:
            conn.execute("alter table public.order_items alter column quantity type text")
            conn.execute(
                "update public.order_items set quantity = quantity || ' pcs', "
                "updated_at = updated_at + interval '1 day' "
                "where order_item_id = (select max(order_item_id) from public.order_items)"
            )
    finally:
        server.stop()
    result = _run(paths)
    assert result.returncode == 2, result.stdout[-3000:]
    assert "A source column changed type: raw_app.order_items.quantity is now VARCHAR (was HUGEINT" in result.stderr
    assert "Traceback" not in result.stderr
    build_log = (paths.logs_dir / "dbt-build.log").read_text()
    assert " OK created " not in build_log, "dbt built models although a source column changed type"
