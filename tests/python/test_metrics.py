"""The semantic layer answers on DuckDB (`mf query`), and its answers equal the marts'."""

from __future__ import annotations

import csv
import os
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import BIN

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

BUSINESS_METRICS = [
    "revenue",
    "net_revenue",
    "orders",
    "average_order_value",
    "active_customers",
    "conversion_rate",
    "cost_per_acquisition",
    "blended_roas",
    "attributed_roas",
]


def mf_query(run: Built, workdir: Path, *args: str) -> list[dict[str, str]]:
    """`mf` reads the semantic manifest from <project>/target only: give it a project folder whose target/ is
    this run's dbt target, so the test neither needs nor touches the user's target/."""
    project = workdir / "project"
    project.mkdir(exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    (project / "target").symlink_to(run.settings.dbt_target_dir)
    out = workdir / "mf.csv"
    # Read-only: dbt-duckdb opens the warehouse for writing otherwise, and the shared built warehouse would refuse
    # every reader of the other test worker while a query runs.
    env = {**os.environ, **run.settings.env(), "DBT_PROFILES_DIR": str(project), warehouse.READ_ONLY_VARIABLE: "1"}
    env.pop("DBT_TARGET_PATH")
    result = subprocess.run(
        [str(BIN / "mf"), "query", *args, "--csv", str(out)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def monthly(built: Built, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    return mf_query(
        built,
        tmp_path_factory.mktemp("mf"),
        "--metrics",
        ",".join(BUSINESS_METRICS),
        "--group-by",
        "metric_time__month",
    )


@pytest.mark.parametrize("metric", BUSINESS_METRICS)
def test_every_business_metric_answers(monthly: list[dict[str, str]], metric: str) -> None:
    values = [row[metric] for row in monthly if row[metric] not in ("", None)]
    assert values, f"mf query gave no value for {metric}"
    assert all(Decimal(value) >= 0 for value in values)


def test_monthly_revenue_and_orders_add_up_to_the_marts(built: Built, monthly: list[dict[str, str]]) -> None:
    with warehouse.connect(built.settings.warehouse) as connection:
        ((revenue, orders),) = connection.execute(
            "select sum(case when not is_cancelled then order_revenue else 0 end), count(*) from marts.fct_orders"
        ).fetchall()
    assert sum(Decimal(r["revenue"]) for r in monthly if r["revenue"]) == Decimal(str(revenue))
    assert sum(int(r["orders"]) for r in monthly if r["orders"]) == orders


def test_average_order_value_is_revenue_per_non_cancelled_order(built: Built, monthly: list[dict[str, str]]) -> None:
    with warehouse.connect(built.settings.warehouse) as connection:
        rows = dict(
            connection.execute(
                "select strftime(order_date, '%Y-%m'), sum(order_revenue) / count(*) from marts.fct_orders "
                "where not is_cancelled group by 1"
            ).fetchall()
        )
    for row in monthly:
        if row["average_order_value"]:
            month = row["metric_time__month"][:7]
            assert float(row["average_order_value"]) == pytest.approx(float(rows[month]), rel=1e-9)


def _month(value: str) -> str:
    """'2026-10-01 00:00:00' (or ...T00:00:00) -> '2026-10'."""
    return value[:7]


def _query(built: Built, sql: str) -> list[tuple[Any, ...]]:
    with warehouse.connect(built.settings.warehouse) as connection:
        return connection.execute(sql).fetchall()


def _last_day_with_data(built: Built) -> date:
    """The last day with an order, a session or dated spend, read from the facts."""
    ((last_day,),) = _query(
        built,
        "select max(day) from (select order_date as day from marts.fct_orders "
        "union all select session_date from marts.fct_sessions "
        "union all select spend_date from marts.fct_marketing_spend)",
    )
    assert isinstance(last_day, date)
    return last_day


def test_active_customers_stop_where_the_data_stops(
    built: Built, monthly: list[dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Past the data, a 90-day window only empties: reported, it draws a fall that does not exist (the time spine
    used to run to 2027-12-31). By day and by month, active_customers ends on the last day with data, with the
    value metrics_daily has for that day."""
    last_day = _last_day_with_data(built)
    daily = mf_query(
        built, tmp_path_factory.mktemp("mf"), "--metrics", "active_customers", "--group-by", "metric_time__day"
    )
    by_day = {row["metric_time__day"][:10]: int(row["active_customers"]) for row in daily if row["active_customers"]}
    assert max(by_day) == last_day.isoformat()
    mart = {
        day.isoformat(): count
        for day, count in _query(built, "select date_day, active_customers_90d from metrics.metrics_daily")
    }
    # metrics_daily has 0 on days MetricFlow leaves out (no customer in the window).
    nonzero = {day: count for day, count in mart.items() if count}
    assert {day: count for day, count in by_day.items() if count} == nonzero

    months = {_month(row["metric_time__month"]): row["active_customers"] for row in monthly if row["active_customers"]}
    assert max(months) == last_day.isoformat()[:7]
    assert int(months[max(months)]) == mart[last_day.isoformat()]


def test_net_revenue_subtracts_only_the_refunds_revenue_counts(built: Built, monthly: list[dict[str, str]]) -> None:
    """Net revenue, month by month and to the cent, from the lines (revenue) and the orders (refunds) of
    non-cancelled orders. The data has refunds on cancelled orders, so "revenue - refunds" would differ."""
    expected = dict(
        _query(
            built,
            "with lines as (select strftime(order_date, '%Y-%m') as month, sum(net_amount) as revenue "
            "from marts.fct_order_items where not is_cancelled group by 1), "
            "refunds as (select strftime(order_date, '%Y-%m') as month, sum(refund_amount) as refunds "
            "from marts.fct_orders where not is_cancelled group by 1) "
            "select lines.month, lines.revenue - coalesce(refunds.refunds, 0) "
            "from lines left join refunds on lines.month = refunds.month",
        )
    )
    got = {_month(row["metric_time__month"]): Decimal(row["net_revenue"]) for row in monthly if row["net_revenue"]}
    assert got == {month: Decimal(str(value)) for month, value in expected.items()}
    ((cancelled_refunds,),) = _query(built, "select sum(refund_amount) from marts.fct_orders where is_cancelled")
    assert (cancelled_refunds or 0) > 0, "no refund on a cancelled order: the test cannot tell the definitions apart"


def _roas_by_month(built: Built) -> dict[str, tuple[float, float]]:
    """(blended, attributed) ROAS by month from the facts: all revenue, and revenue of customers whose acquisition
    channel is paid, over the month's dated spend."""
    rows = _query(
        built,
        "with revenue as (select strftime(orders.order_date, '%Y-%m') as month, "
        "sum(orders.order_revenue) as revenue, "
        "sum(case when channels.is_paid then orders.order_revenue else 0 end) as paid_revenue "
        "from marts.fct_orders as orders left join marts.dim_channels as channels "
        "on orders.acquisition_channel_code = channels.channel_code "
        "where not orders.is_cancelled group by 1), "
        "spend as (select strftime(spend_date, '%Y-%m') as month, sum(spend_amount) as spend "
        "from marts.fct_marketing_spend where spend_date is not null group by 1) "
        "select revenue.month, revenue.revenue / spend.spend, revenue.paid_revenue / spend.spend "
        "from revenue inner join spend on revenue.month = spend.month where spend.spend > 0",
    )
    return {month: (float(blended), float(attributed)) for month, blended, attributed in rows}


def test_attributed_roas_counts_only_paid_acquired_revenue(built: Built, monthly: list[dict[str, str]]) -> None:
    """blended_roas divides all revenue by paid spend; attributed_roas only the revenue of customers acquired
    through a paid channel. Both equal a direct computation, month by month, and differ (organic revenue exists)."""
    expected = _roas_by_month(built)
    got = {
        _month(row["metric_time__month"]): (float(row["blended_roas"]), float(row["attributed_roas"]))
        for row in monthly
        if row["blended_roas"] and row["attributed_roas"]
    }
    assert got.keys() == expected.keys()
    for month, (blended, attributed) in expected.items():
        assert got[month][0] == pytest.approx(blended, rel=1e-9), month
        assert got[month][1] == pytest.approx(attributed, rel=1e-9), month
        assert attributed < blended, month


@pytest.fixture(scope="module")
def monthly_by_channel(built: Built, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, str]]:
    return mf_query(
        built,
        tmp_path_factory.mktemp("mf"),
        "--metrics",
        "attributed_roas,net_revenue",
        "--group-by",
        "metric_time__month,channel",
    )


def test_attributed_roas_by_channel_equals_the_metric_mart(
    built: Built, monthly_by_channel: list[dict[str, str]]
) -> None:
    """By channel, attributed_roas is the channel's customers' revenue over the channel's spend: the metric mart's
    column equals MetricFlow's for every paid channel and month (null for unpaid channels and the unknown row)."""
    from_mf = {
        (_month(row["metric_time__month"]), row["channel"]): float(row["attributed_roas"])
        for row in monthly_by_channel
        if row["attributed_roas"] and row["channel"]
    }
    mart = {
        (month, channel): roas
        for month, channel, roas in _query(
            built,
            "select strftime(month_start_date, '%Y-%m'), channel_code, attributed_roas "
            "from metrics.metrics_monthly_by_channel",
        )
    }
    assert from_mf, "mf query gave no attributed_roas by channel"
    for key, roas in mart.items():
        if key in from_mf:
            assert roas == pytest.approx(from_mf[key], rel=1e-9), key
        else:
            # MetricFlow has no value where the channel had spend but its customers no revenue; the mart says 0.
            assert roas in (None, 0), key
    assert from_mf.keys() <= mart.keys()


def test_net_revenue_by_channel_equals_the_metric_mart(built: Built, monthly_by_channel: list[dict[str, str]]) -> None:
    """The metric mart's net_revenue equals MetricFlow's for every month and channel, to the cent; MetricFlow's
    rows without a channel are the mart's 'unknown' row."""
    from_mf = {
        (_month(row["metric_time__month"]), row["channel"] or "unknown"): Decimal(row["net_revenue"])
        for row in monthly_by_channel
        if row["net_revenue"] and Decimal(row["net_revenue"])
    }
    # The mart has 0 where MetricFlow has no row (no non-cancelled order of the channel that month).
    mart = {
        (month, channel): net_revenue
        for month, channel, net_revenue in _query(
            built,
            "select strftime(month_start_date, '%Y-%m'), channel_code, net_revenue "
            "from metrics.metrics_monthly_by_channel where net_revenue != 0",
        )
    }
    assert from_mf == mart


def test_monthly_by_channel_adds_up_to_the_orders(built: Built) -> None:
    """Orders without a customer, or of an erased customer, have no channel: they are in the 'unknown' row, so
    the channels of a month add up to fct_orders to the cent."""
    mart = {
        month: (revenue, orders)
        for month, revenue, orders in _query(
            built,
            "select strftime(month_start_date, '%Y-%m'), sum(revenue), sum(orders) "
            "from metrics.metrics_monthly_by_channel group by 1",
        )
    }
    facts = {
        month: (revenue, orders)
        for month, revenue, orders in _query(
            built,
            "select strftime(order_date, '%Y-%m'), "
            "sum(case when not is_cancelled then order_revenue else 0 end), count(*) "
            "from marts.fct_orders group by 1",
        )
    }
    assert mart == facts
    ((unknown_orders, channelless_orders),) = _query(
        built,
        "select (select sum(orders) from metrics.metrics_monthly_by_channel where channel_code = 'unknown'), "
        "(select count(*) from marts.fct_orders where acquisition_channel_code is null)",
    )
    assert unknown_orders == channelless_orders > 0


def test_customer_cohorts_run_from_signup_to_the_last_month_with_data(built: Built) -> None:
    """Every sign-up month has one row per month from its sign-up month (0) to the last month with data, bought
    or not, so a cohort curve neither skips a month nor stops early; and a row's active customers, buyers and
    repeat buyers to date are those of a direct count from the customers and their non-cancelled orders."""
    last_month = _last_day_with_data(built).replace(day=1)
    rows = _query(
        built,
        "select cohort_month, months_since_signup, activity_month, active_customers, buyers_to_date, "
        "repeat_buyers_to_date from metrics.metrics_customer_cohorts order by 1, 2",
    )
    cohorts: dict[date, list[int]] = {}
    for cohort_month, offset, activity_month, *_ in rows:
        cohorts.setdefault(cohort_month, []).append(offset)
        assert (activity_month.year - cohort_month.year) * 12 + activity_month.month - cohort_month.month == offset
    signups = _query(built, "select distinct cast(date_trunc('month', signup_date) as date) from marts.dim_customers")
    assert set(cohorts) == {month for (month,) in signups}
    for cohort_month, offsets in cohorts.items():
        months = (last_month.year - cohort_month.year) * 12 + last_month.month - cohort_month.month
        assert offsets == list(range(months + 1)), cohort_month

    direct = {
        (cohort, activity): (active, buyers, repeat)
        for cohort, activity, active, buyers, repeat in _query(
            built,
            "with members as (select customer_id, cast(date_trunc('month', signup_date) as date) as cohort "
            "from marts.dim_customers), "
            "purchases as (select members.cohort, orders.customer_id, orders.order_date "
            "from marts.fct_orders as orders join members using (customer_id) where not orders.is_cancelled), "
            "grid as (select distinct cohort, activity_month as activity from members "
            "join metrics.metrics_customer_cohorts on cohort = cohort_month) "
            "select grid.cohort, grid.activity, "
            "(select count(distinct customer_id) from purchases p where p.cohort = grid.cohort "
            "and date_trunc('month', p.order_date) = grid.activity), "
            "(select count(*) from (select customer_id from purchases p where p.cohort = grid.cohort "
            "and p.order_date < grid.activity + interval 1 month group by 1)), "
            "(select count(*) from (select customer_id from purchases p where p.cohort = grid.cohort "
            "and p.order_date < grid.activity + interval 1 month group by 1 having count(*) >= 2)) "
            "from grid",
        )
    }
    assert {(row[0], row[2]): tuple(row[3:]) for row in rows} == direct
    assert any(repeat for _, _, repeat in direct.values()), "no repeat buyer: the test cannot tell repeat from first"
