"""Interruptions lose and double nothing. Each drill starts from its own copy of the built pipeline (day 0): a second
writer knocking while dbt is killed mid-build and the same day is run again; PostgreSQL going down during the
extract; the run stopped mid-load; a source column changing type. After each, the marts are compared and dbt's
reconciliation tests (source keys and money against raw and the marts) must pass. A build on another engine,
stopped, leaves no dbt behind.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import Built
from helpers import (
    TEST_SCALE,
    assert_reconciled,
    assert_same_marts,
    log_lines,
    mart_contents,
    ok,
    rows,
    run,
    scalar,
    start_run,
    start_tidewater,
    wait_for,
)

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources

pytestmark = pytest.mark.drill


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


def test_stopping_a_build_on_another_engine_stops_its_dbt(drill_folder: Settings) -> None:
    """SIGTERM to `tidewater build --target postgres` alone, mid-build: the command ends, and so do the dbt it
    started (a process of its own, which would go on writing the warehouse) and the PostgreSQL it started."""
    settings = drill_folder
    started = start_tidewater(settings, "build", "--target", "postgres")
    build_log = settings.logs_dir / "dbt-build-postgres.log"
    since = time.time()
    wait_for(lambda: log_lines(build_log, since, " OK created ") >= 3, started, "the build's first models")
    builds = [
        child
        for child in psutil.Process(started.pid).children(recursive=True)
        if "build" in child.cmdline() and any(part.endswith("dbt") for part in child.cmdline()[:2])
    ]
    assert len(builds) == 1, [child.cmdline() for child in psutil.Process(started.pid).children(recursive=True)]
    os.kill(started.pid, signal.SIGTERM)
    out, err = started.communicate(timeout=120)
    assert started.returncode != 0, out[-2000:]
    assert "Traceback" not in err, err[-3000:]
    assert not builds[0].is_running(), "dbt went on building after its command was stopped"
    assert not PostgresServer(settings.postgres_dir).is_running()
