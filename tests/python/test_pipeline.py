"""The pipeline end to end at scale 0.01: every source row reaches the marts exactly once, money to the cent."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg
import pytest
from conftest import PipelineRun

from tidewater.orchestrate import warehouse


def _warehouse_rows(run: PipelineRun, sql: str) -> list[tuple]:
    with warehouse.connect(run.paths.warehouse) as connection:
        return connection.execute(sql).fetchall()


def _source_rows(conninfo: str, sql: str) -> list[tuple]:
    with psycopg.connect(conninfo) as connection:
        return connection.execute(sql).fetchall()


def _dbt_results(run: PipelineRun) -> list[dict]:
    return json.loads(run.paths.build_results_file.read_text())["results"]


def test_run_reports_where_things_are_and_what_it_built(pipeline_run: PipelineRun) -> None:
    out = pipeline_run.first.stdout
    assert "Tidewater run complete" in out
    assert str(pipeline_run.paths.warehouse) in out
    assert str(pipeline_run.paths.docs_file) in out
    for layer in ("raw", "staging", "intermediate", "marts", "metrics"):
        assert f"    {layer} " in out, f"no row count for the {layer} layer in the summary"
    assert "dbt tests:" in out


def test_dbt_build_has_no_failures(pipeline_run: PipelineRun) -> None:
    results = _dbt_results(pipeline_run)
    failed = [r["unique_id"] for r in results if r["status"] in ("error", "fail", "runtime error")]
    assert not failed
    kinds = {r["unique_id"].split(".")[0] for r in results}
    assert {"model", "seed", "test", "unit_test"} <= kinds


def test_every_source_order_is_in_the_marts_exactly_once(pipeline_run: PipelineRun, source_db: str) -> None:
    source = {row[0] for row in _source_rows(source_db, "select order_id from orders")}
    marts = [row[0] for row in _warehouse_rows(pipeline_run, "select order_id from marts.fct_orders")]
    assert len(marts) == len(set(marts)), "an order appears twice in fct_orders"
    assert set(marts) == source, (
        f"missing: {sorted(source - set(marts))[:10]}, extra: {sorted(set(marts) - source)[:10]}"
    )


def test_every_source_order_line_is_in_the_marts_exactly_once(pipeline_run: PipelineRun, source_db: str) -> None:
    source = {row[0] for row in _source_rows(source_db, "select order_item_id from order_items")}
    marts = [row[0] for row in _warehouse_rows(pipeline_run, "select order_item_id from marts.fct_order_items")]
    assert len(marts) == len(set(marts)), "an order line appears twice in fct_order_items"
    assert set(marts) == source


def test_revenue_in_the_marts_equals_the_source_to_the_cent(pipeline_run: PipelineRun, source_db: str) -> None:
    ((source_revenue,),) = _source_rows(
        source_db, "select sum(quantity * unit_price - discount_amount) from order_items"
    )
    ((lines_revenue,),) = _warehouse_rows(pipeline_run, "select sum(net_amount) from marts.fct_order_items")
    ((orders_revenue,),) = _warehouse_rows(pipeline_run, "select sum(order_revenue) from marts.fct_orders")
    assert Decimal(str(lines_revenue)) == source_revenue
    assert Decimal(str(orders_revenue)) == source_revenue
    ((refunds_source,),) = _source_rows(source_db, "select sum(amount) from payments where payment_type = 'refund'")
    ((refunds_marts,),) = _warehouse_rows(pipeline_run, "select sum(refund_amount) from marts.fct_orders")
    assert Decimal(str(refunds_marts)) == refunds_source


def test_raw_holds_every_source_row_once(pipeline_run: PipelineRun, source_db: str) -> None:
    """Guards against loader bugs such as target-duckdb dropping the first row of each batch."""
    for table, key in [
        ("customers", "customer_id"),
        ("products", "product_id"),
        ("orders", "order_id"),
        ("order_items", "order_item_id"),
        ("payments", "payment_id"),
    ]:
        ((source_count,),) = _source_rows(source_db, f"select count(*) from {table}")
        ((raw_count, raw_keys),) = _warehouse_rows(
            pipeline_run, f"select count(*), count(distinct {key}) from raw_app.{table}"
        )
        assert raw_count == raw_keys == source_count, table


def test_every_landed_event_line_is_in_raw(pipeline_run: PipelineRun) -> None:
    landing = pipeline_run.paths.landing_dir / "events"
    lines = sum(1 for path in landing.glob("*/*.jsonl") for line in path.read_bytes().splitlines() if line.strip())
    ((raw_lines,),) = _warehouse_rows(pipeline_run, "select count(*) from raw_events.events")
    assert raw_lines == lines


def test_malformed_event_lines_are_kept_and_flagged(pipeline_run: PipelineRun) -> None:
    bad = _warehouse_rows(
        pipeline_run,
        "select _source_file, _line_number, parse_error, raw_line from raw_events.events where parse_error is not null",
    )
    assert bad, "the generator writes at least one malformed line per run"
    for source_file, line_number, error, raw_line in bad:
        assert source_file.endswith(".jsonl") and line_number >= 1
        assert error.startswith("malformed JSON") and raw_line
    warned = {r["unique_id"] for r in _dbt_results(pipeline_run) if r["status"] == "warn"}
    assert any("malformed" in unique_id for unique_id in warned), warned


def test_unparseable_spend_is_kept_and_flagged(pipeline_run: PipelineRun) -> None:
    rows = _warehouse_rows(
        pipeline_run,
        "select count(*) from staging.stg_marketing__marketing_spend where spend_amount is null",
    )
    assert rows[0][0] >= 1
    warned = {r["unique_id"] for r in _dbt_results(pipeline_run) if r["status"] == "warn"}
    assert any("spend" in unique_id for unique_id in warned), warned


def test_orders_without_a_customer_are_kept_and_flagged(pipeline_run: PipelineRun, source_db: str) -> None:
    source = {r[0] for r in _source_rows(source_db, "select order_id from orders where customer_id is null")}
    assert source, "the generator writes at least one order with no customer"
    marts = {
        r[0] for r in _warehouse_rows(pipeline_run, "select order_id from marts.fct_orders where customer_id is null")
    }
    assert marts == source
    warned = {r["unique_id"] for r in _dbt_results(pipeline_run) if r["status"] == "warn"}
    assert any("customer" in unique_id for unique_id in warned), warned


@pytest.mark.parametrize("metric", ["revenue", "orders"])
def test_metric_marts_agree_with_the_facts(pipeline_run: PipelineRun, metric: str) -> None:
    facts = {
        "revenue": "select sum(order_revenue) from marts.fct_orders where not is_cancelled",
        "orders": "select count(*) from marts.fct_orders",
    }[metric]
    ((expected,),) = _warehouse_rows(pipeline_run, facts)
    ((actual,),) = _warehouse_rows(pipeline_run, f"select sum({metric}) from metrics.metrics_daily")
    assert Decimal(str(actual)) == Decimal(str(expected))
