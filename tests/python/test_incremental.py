"""Time moves: advanced days load incrementally and equal a backfill and a full refresh; the drills lose nothing.

Two business days advanced one by one on the daily schedule (a copy of the built pipeline, scale 0.01) are the
reference: the same days as one backfill give the same marts, and so does the full refresh that mends a mart built by
an older model. The interruption drills (kills, outages, a column changing type) are in test_interruptions.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import (
    assert_reconciled,
    assert_same_marts,
    build_results,
    copy_data_folder,
    daily_schedule_tick,
    execute,
    mart_contents,
    materialize,
    ok,
    rows,
    run,
    scalar,
)

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
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
    result = materialize(backfilled, "not group:observability", "--partition-range", "2026-11-01...2026-11-02")
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
