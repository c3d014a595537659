"""The lake and the same project on PostgreSQL and Spark (docs/scale-out.md): the lake holds what raw holds, row for
row, each day's file rewritten only when its rows changed; `tidewater build --target postgres|spark` builds every
node the engine can from the lake, with every test passing; the metric marts equal DuckDB's to the cent on both; and
PostgreSQL's reader role reads the marts and the metrics, nothing else."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from conftest import Built
from helpers import RECONCILIATION_TESTS, copy_data_folder, tidewater_cli

from tidewater.generate.postgres import Connection, PostgresServer
from tidewater.lake import export as lake
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
from tidewater.scale_out import build, postgres

pytestmark = pytest.mark.e2e

METRIC_MARTS = ("metrics_daily", "metrics_monthly_by_channel", "metrics_customer_cohorts")
# What each engine does not build (README, "Other engines"), by name; the tests that read these are not built either.
# dbt-postgres and dbt-spark run no dbt Python models (the order-again model), and the audiences use its scores;
# Spark without Delta has no snapshots, no information_schema (the structure check), and no Elementary tables (nor
# its hooks that fill them, nor the data health dashboard's exposure on them).
DUCKDB_ONLY = {
    "fct_order_again_model_runs",
    "fct_order_again_model_score_bins",
    "fct_customer_scores_daily",
    "dim_audience_likely_to_lapse",
    "fct_audience_memberships",
}
NOT_BUILT = {
    "postgres": (DUCKDB_ONLY, set()),
    "spark": (
        DUCKDB_ONLY | {"snp_app__customers", "snp_app__products"},
        {
            "assert_app_source_structure_unchanged",
            "dashboard_health",
            "elementary-on-run-start-0",
            "elementary-on-run-end-0",
        },
    ),
}


@dataclass(frozen=True)
class OnEngine:
    """A copy of the built data folder, built again by `tidewater build --target <engine>`."""

    engine: str
    settings: Settings
    returncode: int
    output: str
    connection: Connection | None = None  # PostgreSQL's, up for the tests


def _run(engine: str, settings: Settings) -> tuple[str, int]:
    result = tidewater_cli("build", "--target", engine, data_dir=settings.data_dir)
    return result.stdout + result.stderr, result.returncode


@pytest.fixture(scope="module")
def on_postgres(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OnEngine]:
    """The server is started first, so it is up for the tests (the command leaves a running server running), and
    stopped after."""
    copy = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("postgres") / "data")
    server = PostgresServer(copy.postgres_dir)
    connection = server.start()
    try:
        output, returncode = _run("postgres", copy)
        yield OnEngine("postgres", copy, returncode, output, connection)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def on_spark(built: Built, tmp_path_factory: pytest.TempPathFactory) -> OnEngine:
    copy = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("spark") / "data")
    output, returncode = _run("spark", copy)
    return OnEngine("spark", copy, returncode, output)


def _warehouse_conninfo(on: OnEngine, role: str | None = None) -> str:
    """The warehouse database as the server's owner, or as one of its roles."""
    assert on.connection is not None
    if role is None:
        return on.connection.conninfo.rsplit("/", 1)[0] + "/" + postgres.DATABASE
    passwords = json.loads(postgres.credentials_file(on.settings.postgres_dir).read_text())
    return f"postgresql://{role}:{passwords[role]}@{on.connection.host}:{on.connection.port}/{postgres.DATABASE}"


def _results(target_dir: Path) -> dict[str, str]:
    """dbt's last results: status by node id."""
    results = json.loads((target_dir / "run_results.json").read_text())["results"]
    return {result["unique_id"]: result["status"] for result in results}


def test_the_lake_holds_every_source_table_row_for_row(built: Built) -> None:
    settings = built.settings
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    tables = lake.source_tables(manifest)
    assert set(lake.tables(settings.lake_dir)) == set(tables)
    with warehouse.connect(settings.warehouse) as con:
        for table in tables:
            in_lake = f"select * from {lake.read(settings.lake_dir, table)}"
            raw_only = con.execute(f"select count(*) from (select * from {table} except all {in_lake})").fetchone()
            lake_only = con.execute(f"select count(*) from ({in_lake} except all select * from {table})").fetchone()
            assert (raw_only, lake_only) == ((0,), (0,)), table
        (events,) = con.execute(f"select count(*) from {lake.read(settings.lake_dir, 'raw_events.events')}").fetchone()
    assert events > 0


def _day_files(lake_dir: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in lake_dir.glob("raw/t/load_day=*/*.parquet")}


def test_a_lake_day_is_rewritten_only_when_its_rows_change(tmp_path: Path) -> None:
    source, lake_dir = tmp_path / "w.duckdb", tmp_path / "lake"
    with duckdb.connect(str(source)) as con:
        con.execute("create schema raw")
        con.execute("create table raw.t (id hugeint, amount decimal(18, 2), _sdc_batched_at timestamp)")
        con.execute("create table raw.empty (id bigint, note varchar)")
        con.execute(
            "insert into raw.t values (1, 1.50, '2026-11-01 10:00'), (2, 2.25, '2026-11-01 11:00'), "
            "(3, 3.00, '2026-11-02 09:00')"
        )

    def run() -> dict[str, lake.TableExport]:
        return {r.table: r for r in lake.export(source, lake_dir, ["raw.t", "raw.empty"])}

    first = run()
    assert (first["raw.t"].rows, first["raw.t"].days, first["raw.t"].days_written) == (3, 2, 2)
    before = _day_files(lake_dir)
    assert set(before) == {"load_day=2026-11-01", "load_day=2026-11-02"}
    assert run()["raw.t"].days_written == 0
    assert _day_files(lake_dir) == before

    # Row 2 loaded again a day later (the loader's merge): both days change, and the lake still holds it once.
    with duckdb.connect(str(source)) as con:
        con.execute("update raw.t set _sdc_batched_at = '2026-11-02 12:00', amount = 2.75 where id = 2")
    assert run()["raw.t"].days_written == 2
    # Row 1 erased: its day is left empty, so it goes.
    with duckdb.connect(str(source)) as con:
        con.execute("delete from raw.t where id = 1")
    removed = run()["raw.t"]
    assert (removed.days, removed.days_removed) == (1, 1)
    assert set(_day_files(lake_dir)) == {"load_day=2026-11-02"}
    with duckdb.connect() as con:
        rows = con.execute(f"select id, amount from {lake.read(lake_dir, 'raw.t')} order by id").fetchall()
        empty = con.execute(f"describe select * from {lake.read(lake_dir, 'raw.empty')}").fetchall()
        (empty_rows,) = con.execute(f"select count(*) from {lake.read(lake_dir, 'raw.empty')}").fetchone() or (None,)
    assert rows == [(2, Decimal("2.75")), (3, Decimal("3.00"))]
    assert [(name, kind) for name, kind, *_ in empty] == [("id", "BIGINT"), ("note", "VARCHAR")]
    assert empty_rows == 0
    # Nothing half-written or hidden left behind.
    assert not [p for p in lake_dir.rglob(".*")]


@pytest.mark.parametrize("engine", ["postgres", "spark"])
def test_each_engine_builds_every_node_it_can_with_every_test_passing(
    engine: str, built: Built, request: pytest.FixtureRequest
) -> None:
    on: OnEngine = request.getfixturevalue(f"on_{engine}")
    assert on.returncode == 0, on.output[-4000:]
    results = _results(build.target_dir(on.settings, engine))
    assert not {node: status for node, status in results.items() if status in ("error", "fail", "skipped")}
    for test in set(RECONCILIATION_TESTS) - NOT_BUILT[engine][1]:
        assert [status for node, status in results.items() if node.split(".")[2] == test] == ["pass"], test
    # Every node of the DuckDB build ran here too, but NOT_BUILT's and the tests that read its models.
    on_duckdb = json.loads(built.settings.build_results_file.read_text())["results"]
    missing = {result["unique_id"] for result in on_duckdb} - set(results)
    manifest = json.loads((built.settings.dbt_target_dir / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest["unit_tests"], **manifest["exposures"], **manifest["saved_queries"]}
    models, others = NOT_BUILT[engine]
    built_elsewhere = {node for node in missing if node.split(".")[0] in ("model", "snapshot")}
    assert {node.split(".")[-1] for node in built_elsewhere} == models
    readers = {node for node in missing - built_elsewhere if set(nodes[node]["depends_on"]["nodes"]) & built_elsewhere}
    assert {node.split(".")[-1] for node in missing - built_elsewhere - readers} == others


def _metric_mart(on: OnEngine, mart: str, columns: list[str]) -> list[tuple[Any, ...]]:
    """A metric mart's rows as the engine built it: PostgreSQL's table, or the Parquet files of Spark's."""
    listed = ", ".join(columns)
    if on.engine == "postgres":
        with psycopg.connect(_warehouse_conninfo(on)) as conn:
            return conn.execute(f"select {listed} from metrics.{mart}").fetchall()
    files = on.settings.data_dir / "spark" / "warehouse" / "metrics.db" / mart / "*.parquet"
    with duckdb.connect() as con:
        return con.execute(f"select {listed} from read_parquet('{files}')").fetchall()


def _rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows comparable across engines: money and counts exact, ratios (double) to 9 places."""
    normal = [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]
    return sorted(normal, key=repr)


@pytest.mark.parametrize("engine", ["postgres", "spark"])
@pytest.mark.parametrize("mart", METRIC_MARTS)
def test_metric_marts_are_equal_to_the_cent_on_every_engine(
    engine: str, mart: str, built: Built, request: pytest.FixtureRequest
) -> None:
    on: OnEngine = request.getfixturevalue(f"on_{engine}")
    assert on.returncode == 0, on.output[-4000:]
    with warehouse.connect(built.settings.warehouse) as con:
        columns = [name for name, *_ in con.execute(f"describe metrics.{mart}").fetchall()]
        on_duckdb = con.execute(f"select {', '.join(columns)} from metrics.{mart}").fetchall()
    assert on_duckdb
    assert _rows(_metric_mart(on, mart, columns)) == _rows(on_duckdb)


def test_the_reader_role_reads_marts_and_metrics_and_nothing_else(on_postgres: OnEngine) -> None:
    assert on_postgres.returncode == 0, on_postgres.output[-4000:]
    with psycopg.connect(_warehouse_conninfo(on_postgres, postgres.READER), autocommit=True) as conn:
        (orders,) = conn.execute("select count(*) from marts.fct_orders").fetchone() or (0,)
        (days,) = conn.execute("select count(*) from metrics.metrics_daily").fetchone() or (0,)
        assert orders > 0 and days > 0
        for denied in ("staging.stg_app__customers", "raw_app.customers", "audit.source_rows"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {denied} limit 1")
    assert os.stat(postgres.credentials_file(on_postgres.settings.postgres_dir)).st_mode & 0o077 == 0
    # The app database's own read-only role (tap-postgres') is another role, its password untouched.
    assert on_postgres.connection is not None
    with psycopg.connect(on_postgres.connection.reader_conninfo, autocommit=True) as conn:
        assert conn.execute("select count(*) from orders").fetchone()
