"""The dashboards' saved queries: `mf query --saved-query` answers each, every run writes each one's export into the
serving copy (serve/exports.py), and the exports agree with MetricFlow, the metric marts and the facts."""

from __future__ import annotations

import csv
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import test_metrics
import yaml
from conftest import Built

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings
from tidewater.serve import exports, published

pytestmark = pytest.mark.e2e

SAVED_QUERIES_FILE = PROJECT_ROOT / "models" / "metrics" / "_saved_queries.yml"
SAVED_QUERIES = [query["name"] for query in yaml.safe_load(SAVED_QUERIES_FILE.read_text())["saved_queries"]]


def _served(built: Built, sql: str) -> list[tuple[Any, ...]]:
    with published.connect(built.settings) as con:
        return con.execute(sql).fetchall()


def _export(built: Built, name: str) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    """An export as the serving copy holds it: column names, their DuckDB types, rows."""
    with published.connect(built.settings) as con:
        described = con.execute(f"describe exports.{name}").fetchall()
        return (
            [d[0] for d in described],
            [d[1] for d in described],
            con.execute(f"select * from exports.{name}").fetchall(),
        )


def _typed(value: str, type_: str) -> Any:
    """A value of mf's CSV output as the export's column type holds it."""
    if value == "":
        return None
    if type_ == "TIMESTAMP":
        return datetime.fromisoformat(value)
    if type_.startswith("DECIMAL"):
        return Decimal(value)
    if type_ in ("BIGINT", "INTEGER", "HUGEINT"):
        return int(value)
    if type_ == "DOUBLE":
        return float(value)
    if type_ == "BOOLEAN":
        return {"True": True, "False": False}[value]
    return value


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Floats to 12 significant digits: the same SQL on two files may sum in another order.
    return tuple(float(f"{v:.12g}") if isinstance(v, float) else v for v in row)


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted((_comparable(r) for r in rows), key=lambda r: [(v is None, str(v)) for v in r])


def test_every_saved_query_is_exported_to_the_serving_copy(built: Built) -> None:
    """One table per saved query in the exports schema, each with rows, and nothing else there."""
    tables = [
        name for (name,) in _served(built, "select table_name from duckdb_tables() where schema_name = 'exports'")
    ]
    assert sorted(tables) == sorted(SAVED_QUERIES)
    for name in SAVED_QUERIES:
        ((count,),) = _served(built, f"select count(*) from exports.{name}")
        assert count > 0, name


@pytest.mark.parametrize("name", SAVED_QUERIES)
def test_export_equals_mf_query_saved_query(built: Built, tmp_path: Path, name: str) -> None:
    """`mf query --saved-query NAME` runs on the warehouse, and its answer is the export, row for row."""
    test_metrics.mf_query(built, tmp_path, "--saved-query", name)
    with (tmp_path / "mf.csv").open() as handle:
        header, *lines = list(csv.reader(handle))
    columns, types, exported = _export(built, name)
    assert header == columns
    from_mf = [tuple(_typed(value, type_) for value, type_ in zip(line, types, strict=True)) for line in lines]
    assert from_mf, f"mf query --saved-query {name} answered no rows"
    assert _sorted(exported) == _sorted(from_mf)


def test_kpis_daily_equals_metrics_daily_to_the_cent(built: Built) -> None:
    """The export and the metric mart (what readers without MetricFlow had so far) say the same, day by day, on the
    days with any of these measures (MetricFlow leaves the others out, where the mart has 0)."""
    measures = ["revenue", "net_revenue", "orders", "non_cancelled_orders", "new_customers", "sessions", "spend"]
    export = {
        row[0].date(): tuple(v or 0 for v in row[1:])
        for row in _served(built, f"select metric_time__day, {', '.join(measures)} from exports.kpis_daily")
    }
    mart = {
        row[0]: row[1:] for row in _served(built, f"select date_day, {', '.join(measures)} from metrics.metrics_daily")
    }
    assert {day: values for day, values in export.items() if any(values)} == {
        day: values for day, values in mart.items() if any(values)
    }


def test_kpis_monthly_by_channel_equals_the_metric_mart(built: Built) -> None:
    """Month by month and channel by channel, to the cent; the export's rows without a channel are the mart's
    'unknown' row."""
    measures = ["revenue", "net_revenue", "orders", "new_customers", "sessions", "purchasing_sessions", "spend"]
    export = {
        (row[0].date(), row[1] or "unknown"): tuple(v or 0 for v in row[2:])
        for row in _served(
            built, f"select metric_time__month, channel, {', '.join(measures)} from exports.kpis_monthly_by_channel"
        )
    }
    export = {key: values for key, values in export.items() if any(values)}
    mart = {
        (row[0], row[1]): row[2:]
        for row in _served(
            built,
            f"select month_start_date, channel_code, {', '.join(measures)} from metrics.metrics_monthly_by_channel "
            f"where {' or '.join(f'{m} != 0' for m in measures)}",
        )
    }
    assert export == mart


def test_sales_by_category_and_product_add_up_to_revenue(built: Built) -> None:
    """Revenue split by category, and by product, adds up to each month's revenue, to the cent; units to the units
    on the order lines."""
    revenue = dict(_served(built, "select metric_time__month, revenue from exports.kpis_monthly"))
    for export in ("sales_by_category_monthly", "sales_by_product_monthly"):
        by_month = dict(
            _served(built, f"select metric_time__month, sum(product_revenue) from exports.{export} group by 1")
        )
        assert by_month == revenue, export
    ((units_sold, lines_units),) = _served(
        built,
        "select (select sum(units_sold) from exports.sales_by_product_monthly), "
        "(select sum(quantity) from marts.fct_order_items where not is_cancelled)",
    )
    assert units_sold == lines_units > 0


def test_funnel_daily_counts_the_sessions_at_each_step(built: Built) -> None:
    """Each step counts the day's sessions with at least one such event, straight from fct_sessions."""
    export = {
        row[0].date(): row[1:]
        for row in _served(
            built,
            "select metric_time__day, sessions, product_view_sessions, add_to_cart_sessions, checkout_sessions, "
            "purchasing_sessions from exports.funnel_daily",
        )
    }
    facts = {
        row[0]: row[1:]
        for row in _served(
            built,
            "select session_date, count(*), count(*) filter (where product_view_count > 0), "
            "count(*) filter (where add_to_cart_count > 0), count(*) filter (where checkout_count > 0), "
            "count(*) filter (where has_purchase) from marts.fct_sessions group by 1",
        )
    }
    assert export == facts
    # The funnel narrows: fewer sessions reach the last step than start.
    totals = [sum(values[i] for values in export.values()) for i in range(5)]
    assert totals[0] > totals[1] > totals[4] > 0


def test_a_saved_query_metricflow_cannot_answer_fails_the_step(built: Built, tmp_path: Path) -> None:
    """A saved query that no longer compiles (a metric renamed away) stops the serving step, naming the query,
    before any export is written: the copy is then not promoted (see test_serving)."""
    manifest = json.loads((built.settings.dbt_target_dir / exports.SEMANTIC_MANIFEST).read_text())
    broken = manifest["saved_queries"][-1]
    broken["query_params"]["metrics"] = ["no_such_metric"]
    settings = Settings.load(tmp_path / "data")
    settings.dbt_target_dir.mkdir(parents=True)
    (settings.dbt_target_dir / exports.SEMANTIC_MANIFEST).write_text(json.dumps(manifest))
    with duckdb.connect(str(tmp_path / "tidewater.duckdb")) as con:
        with pytest.raises(TidewaterError, match=rf"(?s)saved query '{broken['name']}'.*no_such_metric"):
            exports.write_exports(settings, con)
        assert con.execute("select count(*) from duckdb_tables()").fetchone() == (0,)
