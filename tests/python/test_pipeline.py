"""The pipeline end to end at scale 0.01: every source row reaches the marts exactly once, money to the cent,."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from conftest import Built
from helpers import dbt_cli

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources

pytestmark = pytest.mark.e2e


def _warehouse_rows(run: Built, sql: str) -> list[tuple[Any, ...]]:
    with warehouse.connect(run.settings.warehouse) as connection:
        return connection.execute(sql).fetchall()


def _source_rows(conninfo: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql).fetchall()


def _dbt_results(run: Built) -> list[dict[str, Any]]:
    return json.loads(run.settings.build_results_file.read_text())["results"]


def test_run_reports_where_things_are_what_it_built_and_its_warnings_by_name(built: Built) -> None:
    out = built.stdout
    assert "Tidewater run complete" in out
    assert str(built.settings.warehouse) in out
    assert str(built.settings.docs_file) in out
    assert str(built.settings.report_file) in out
    assert f"http://127.0.0.1:{built.settings.ui_port}/runs/" in out
    for layer in ("raw", "staging", "intermediate", "marts", "metrics"):
        assert f"    {layer} " in out, f"no row count for the {layer} layer in the summary"
    assert "dbt tests:" in out
    warned = [r["unique_id"].split(".")[2] for r in _dbt_results(built) if r["status"] == "warn"]
    assert warned and all(f"warn: {name} " in out for name in warned), (warned, out[-2000:])


def test_each_step_says_when_it_starts_and_how_long_it_took(built: Built) -> None:
    out = built.stdout
    for step in ("generate_sources", "extract_load", "reconciliation_snapshot", "dbt_build", "docs_and_report"):
        assert f"==> {step}\n" in out and f"    {step} done in " in out, step
    for source in meltano_sources():  # the loads run side by side in one step: each says when it ends
        assert f"    {source.label}: loaded in " in out, source.name
    assert "nodes done" in out, "the dbt build shows no progress"


def test_dbt_build_has_no_failures(built: Built) -> None:
    results = _dbt_results(built)
    failed = [r["unique_id"] for r in results if r["status"] in ("error", "fail", "runtime error")]
    assert not failed
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "seed", "test"} <= kinds
    assert "unit_test" not in kinds  # the daily build leaves them out: the next test runs them


@pytest.mark.drill
def test_the_models_unit_tests_pass_as_a_user_runs_them(drill_folder: Settings) -> None:
    """`dbt test --select resource_type:unit_test` on a built warehouse (unit tests read their inputs' column
    types from it): every unit test of the project runs, and passes."""
    manifest = json.loads((drill_folder.dbt_target_dir / "manifest.json").read_text())
    expected = {uid for uid, test in manifest["unit_tests"].items() if test["package_name"] == "tidewater"}
    assert len(expected) >= 10
    result = dbt_cli(drill_folder, "test", "--select", "resource_type:unit_test")
    assert result.returncode == 0, result.stdout[-3000:]
    results = json.loads((drill_folder.dbt_target_dir / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert statuses == dict.fromkeys(expected, "pass")


def test_every_source_order_is_in_the_marts_exactly_once(built: Built, source_db: str) -> None:
    source = {row[0] for row in _source_rows(source_db, "select order_id from orders")}
    marts = [row[0] for row in _warehouse_rows(built, "select order_id from marts.fct_orders")]
    assert len(marts) == len(set(marts)), "an order appears twice in fct_orders"
    assert set(marts) == source, (
        f"missing: {sorted(source - set(marts))[:10]}, extra: {sorted(set(marts) - source)[:10]}"
    )


def test_every_source_order_line_is_in_the_marts_exactly_once(built: Built, source_db: str) -> None:
    source = {row[0] for row in _source_rows(source_db, "select order_item_id from order_items")}
    marts = [row[0] for row in _warehouse_rows(built, "select order_item_id from marts.fct_order_items")]
    assert len(marts) == len(set(marts)), "an order line appears twice in fct_order_items"
    assert set(marts) == source


def test_revenue_in_the_marts_equals_the_source_to_the_cent(built: Built, source_db: str) -> None:
    ((source_revenue,),) = _source_rows(
        source_db, "select sum(quantity * unit_price - discount_amount) from order_items"
    )
    ((lines_revenue,),) = _warehouse_rows(built, "select sum(net_amount) from marts.fct_order_items")
    ((orders_revenue,),) = _warehouse_rows(built, "select sum(order_revenue) from marts.fct_orders")
    assert Decimal(str(lines_revenue)) == source_revenue
    assert Decimal(str(orders_revenue)) == source_revenue
    ((refunds_source,),) = _source_rows(source_db, "select sum(amount) from payments where payment_type = 'refund'")
    ((refunds_marts,),) = _warehouse_rows(built, "select sum(refund_amount) from marts.fct_orders")
    assert Decimal(str(refunds_marts)) == refunds_source


def test_raw_holds_every_source_row_once(built: Built, source_db: str) -> None:
    """Guards against loader bugs such as target-duckdb dropping the first row of each batch."""
    for table, key in [
        ("customers", "customer_id"),
        ("suppliers", "supplier_id"),
        ("products", "product_id"),
        ("orders", "order_id"),
        ("order_items", "order_item_id"),
        ("payments", "payment_id"),
    ]:
        ((source_count,),) = _source_rows(source_db, f"select count(*) from {table}")
        ((raw_count, raw_keys),) = _warehouse_rows(
            built, f"select count(*), count(distinct {key}) from raw_app.{table}"
        )
        assert raw_count == raw_keys == source_count, table


def test_every_source_row_matches_raw_and_the_source_has_what_staging_reads(built: Built) -> None:
    """The drift checks hold on a normal run: every row's fingerprint (all six keyed app tables, every declared
    column compared) equals raw's, every selected table and declared column is in the source, nothing undeclared."""
    results = {r["unique_id"].split(".")[2]: r["status"] for r in _dbt_results(built)}
    for test in ("assert_app_source_rows_match_raw", "assert_app_source_structure_unchanged"):
        assert results[test] == "pass", test
    assert results["warn_app_source_columns_not_declared"] == "pass"
    snapshotted = _warehouse_rows(built, "select table_name from audit.source_tables where is_snapshotted order by 1")
    assert [r[0] for r in snapshotted] == ["customers", "order_items", "orders", "payments", "products", "suppliers"]
    uncompared = _warehouse_rows(
        built,
        "select table_name, column_name from audit.source_columns where is_declared and not is_compared order by 1, 2",
    )
    # Only the columns raw holds as pseudonyms: their HMAC's key is not PostgreSQL's to compute.
    personal = ["address_line", "email", "first_name", "last_name", "phone"]
    assert uncompared == [("customers", column) for column in personal]


def test_every_landed_event_line_is_in_raw(built: Built) -> None:
    landing = built.settings.landing_dir / "events"
    lines = sum(1 for path in landing.glob("*/*.jsonl") for line in path.read_bytes().splitlines() if line.strip())
    ((raw_lines,),) = _warehouse_rows(built, "select count(*) from raw_events.events")
    assert raw_lines == lines


def test_malformed_event_lines_are_kept_and_flagged(built: Built) -> None:
    bad = _warehouse_rows(
        built,
        "select _source_file, _line_number, parse_error, raw_line from raw_events.events where parse_error is not null",
    )
    assert bad, "the generator writes at least one malformed line per run"
    for source_file, line_number, error, raw_line in bad:
        assert source_file.endswith(".jsonl") and line_number >= 1
        assert error.startswith("malformed JSON") and raw_line
    warned = {r["unique_id"] for r in _dbt_results(built) if r["status"] == "warn"}
    assert any("malformed" in unique_id for unique_id in warned), warned


def test_unparseable_spend_is_kept_and_flagged(built: Built) -> None:
    rows = _warehouse_rows(
        built,
        "select count(*) from staging.stg_marketing__marketing_spend where spend_amount is null",
    )
    assert rows[0][0] >= 1
    warned = {r["unique_id"] for r in _dbt_results(built) if r["status"] == "warn"}
    assert any("spend" in unique_id for unique_id in warned), warned


def test_orders_without_a_customer_are_kept_and_flagged(built: Built, source_db: str) -> None:
    source = {r[0] for r in _source_rows(source_db, "select order_id from orders where customer_id is null")}
    assert source, "the generator writes at least one order with no customer"
    marts = {r[0] for r in _warehouse_rows(built, "select order_id from marts.fct_orders where customer_id is null")}
    assert marts == source
    warned = {r["unique_id"] for r in _dbt_results(built) if r["status"] == "warn"}
    assert any("customer" in unique_id for unique_id in warned), warned


@pytest.mark.parametrize("metric", ["revenue", "orders"])
def test_metric_marts_agree_with_the_facts(built: Built, metric: str) -> None:
    facts = {
        "revenue": "select sum(order_revenue) from marts.fct_orders where not is_cancelled",
        "orders": "select count(*) from marts.fct_orders",
    }[metric]
    ((expected,),) = _warehouse_rows(built, facts)
    ((actual,),) = _warehouse_rows(built, f"select sum({metric}) from metrics.metrics_daily")
    assert Decimal(str(actual)) == Decimal(str(expected))
