"""Every query the dashboards run, named, with what it reads declared next to it, and `check` that runs them all.

The pages run only these queries (`data.frame(QUERY, ...)`), so this file is the dashboards' whole contract with the
metric layer: the metric marts (schema `metrics`), the saved queries' exports (schema `exports`, written from
models/metrics/_saved_queries.yml) and, for the data-health page, Elementary's tables. Never raw, staging,
intermediate or the marts. Each page's exposure (models/_exposures__dashboards.yml) names the dbt models behind its
queries; tests/python/test_dashboards.py parses the SQL below and holds the two together.

`check` runs on every new serving copy before it is promoted (serve/published.py): a query the models no longer
answer fails `make run`, not a viewer's morning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb

from tidewater.orchestrate.errors import TidewaterError

# The pages, by URL path (http://127.0.0.1:8501/<page>).
KPIS = "kpis"
SALES = "sales"
FUNNEL = "funnel"
COHORTS = "cohorts"
HEALTH = "health"
PAGES = (KPIS, SALES, FUNNEL, COHORTS, HEALTH)

# Filter values for `check`, of the types the pages pass: a month, some channels. An empty result is still an answer;
# what `check` catches is a query the copy cannot run (a table or column gone, a type changed).
EXAMPLE_PERIOD = {"start_date": date(2025, 11, 1), "end_date": date(2025, 11, 30)}
EXAMPLE_CHANNELS = {"channels": ["organic", "paid_search", "paid_social", "email", "unknown"]}


@dataclass(frozen=True)
class Query:
    name: str
    page: str
    sql: str
    # The tables the SQL reads (schema.table); the test parses the SQL and compares.
    reads: tuple[str, ...]
    # Values for the SQL's $parameters, as a page passes them.
    example: dict[str, Any] = field(default_factory=dict)


class DashboardQueryError(TidewaterError):
    """A dashboard query that does not run on a serving copy: names the page and the query."""


QUERIES: dict[str, Query] = {}


def _query(name: str, page: str, reads: tuple[str, ...], sql: str, example: dict[str, Any] | None = None) -> Query:
    if name in QUERIES:
        raise ValueError(f"two dashboard queries named {name}")
    QUERIES[name] = query = Query(name=name, page=page, sql=sql.strip(), reads=reads, example=example or {})
    return query


# -- KPIs ---------------------------------------------------------------------------------------------------------
# Whole-business figures come from metrics_daily (one row per day), so any date range adds up exactly; figures by
# channel from the export of saved query kpis_daily_by_channel (blended ROAS and active customers do not split).

KPI_DATE_BOUNDS = _query(
    "kpi_date_bounds",
    KPIS,
    ("metrics.metrics_daily",),
    """
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from metrics.metrics_daily
    """,
)

KPI_TOTALS = _query(
    "kpi_totals",
    KPIS,
    ("metrics.metrics_daily",),
    # Ratios are recomputed from the period's sums, never averaged over days. The daily mart holds attributed ROAS,
    # not its numerator: revenue from paid acquisition is attributed_roas * spend on each day (spend is never zero on
    # a day that has it; a day without spend has no paid revenue to attribute).
    # Active customers is a 90-day window, not additive: the figure at the period's last day.
    """
    with

    days as (
        select * from metrics.metrics_daily
        where date_day between $start_date and $end_date
    ),

    final as (
        select
            sum(revenue) as revenue,
            sum(net_revenue) as net_revenue,
            cast(sum(orders) as bigint) as orders,
            sum(revenue) / nullif(sum(non_cancelled_orders), 0) as average_order_value,
            arg_max(active_customers_90d, date_day) as active_customers_90d,
            sum(purchasing_sessions) / nullif(sum(sessions), 0) as conversion_rate,
            sum(spend) / nullif(sum(new_customers), 0) as cost_per_acquisition,
            sum(revenue) / nullif(sum(spend), 0) as blended_roas,
            sum(coalesce(attributed_roas * spend, 0)) / nullif(sum(spend), 0) as attributed_roas
        from days
    )

    select * from final
    """,
    EXAMPLE_PERIOD,
)

KPI_TREND = _query(
    "kpi_trend",
    KPIS,
    ("metrics.metrics_daily",),
    """
    with

    days as (
        select * from metrics.metrics_daily
        where date_day between $start_date and $end_date
    ),

    final as (
        select
            cast(date_trunc($grain, date_day) as date) as period_start,
            sum(revenue) as revenue,
            sum(net_revenue) as net_revenue,
            cast(sum(orders) as bigint) as orders,
            sum(revenue) / nullif(sum(non_cancelled_orders), 0) as average_order_value,
            arg_max(active_customers_90d, date_day) as active_customers_90d,
            sum(purchasing_sessions) / nullif(sum(sessions), 0) as conversion_rate,
            sum(spend) as spend,
            sum(spend) / nullif(sum(new_customers), 0) as cost_per_acquisition,
            sum(revenue) / nullif(sum(spend), 0) as blended_roas,
            sum(coalesce(attributed_roas * spend, 0)) / nullif(sum(spend), 0) as attributed_roas
        from days
        group by 1
    )

    select * from final
    order by period_start
    """,
    {**EXAMPLE_PERIOD, "grain": "month"},
)

KPI_CHANNELS = _query(
    "kpi_channels",
    KPIS,
    ("exports.kpis_daily_by_channel",),
    # A null channel holds what has no known channel (orders without a customer, spend on an unrecognised channel,
    # sessions without a source): shown as 'Unknown', so the channels add up to the whole.
    """
    select distinct
        coalesce(channel, 'unknown') as channel_code,
        coalesce(channel__channel_name, 'Unknown') as channel_name
    from exports.kpis_daily_by_channel
    order by channel_name
    """,
)

KPI_CHANNEL_TOTALS = _query(
    "kpi_channel_totals",
    KPIS,
    ("exports.kpis_daily_by_channel",),
    # Spend is by the spreadsheet's channel, orders and revenue by the customer's acquisition channel, sessions by
    # the session's traffic channel (saved query kpis_daily_by_channel).
    """
    with

    days as (
        select
            coalesce(channel, 'unknown') as channel_code,
            coalesce(channel__channel_name, 'Unknown') as channel_name,
            channel__is_paid as is_paid,
            revenue,
            net_revenue,
            orders,
            non_cancelled_orders,
            new_customers,
            spend,
            sessions,
            purchasing_sessions
        from exports.kpis_daily_by_channel
        where cast(metric_time__day as date) between $start_date and $end_date
    ),

    final as (
        select
            channel_code,
            channel_name,
            is_paid,
            sum(revenue) as revenue,
            sum(net_revenue) as net_revenue,
            cast(sum(orders) as bigint) as orders,
            sum(revenue) / nullif(sum(non_cancelled_orders), 0) as average_order_value,
            cast(sum(new_customers) as bigint) as new_customers,
            sum(spend) as spend,
            sum(spend) / nullif(sum(new_customers), 0) as cost_per_acquisition,
            case when is_paid then sum(revenue) / nullif(sum(spend), 0) end as attributed_roas,
            cast(sum(sessions) as bigint) as sessions,
            sum(purchasing_sessions) / nullif(sum(sessions), 0) as conversion_rate
        from days
        where channel_code in (select unnest($channels))
        group by channel_code, channel_name, is_paid
    )

    select * from final
    order by revenue desc nulls last, channel_name
    """,
    {**EXAMPLE_PERIOD, **EXAMPLE_CHANNELS},
)

KPI_CHANNEL_TREND = _query(
    "kpi_channel_trend",
    KPIS,
    ("exports.kpis_daily_by_channel",),
    """
    with

    days as (
        select
            cast(metric_time__day as date) as date_day,
            coalesce(channel, 'unknown') as channel_code,
            coalesce(channel__channel_name, 'Unknown') as channel_name,
            revenue,
            spend
        from exports.kpis_daily_by_channel
        where cast(metric_time__day as date) between $start_date and $end_date
    ),

    final as (
        select
            cast(date_trunc($grain, date_day) as date) as period_start,
            channel_name,
            coalesce(sum(revenue), 0) as revenue,
            coalesce(sum(spend), 0) as spend
        from days
        where channel_code in (select unnest($channels))
        group by 1, 2
    )

    select * from final
    order by period_start, channel_name
    """,
    {**EXAMPLE_PERIOD, **EXAMPLE_CHANNELS, "grain": "month"},
)


# -- Sales by category and product -----------------------------------------------------------------------------
# By month only: the saved queries sales_by_category_monthly and sales_by_product_monthly. Revenue here is the order
# lines' (product_revenue); a month's categories add up to its revenue.

SALES_MONTHS = _query(
    "sales_months",
    SALES,
    ("exports.sales_by_category_monthly",),
    """
    select distinct cast(metric_time__month as date) as month_start_date
    from exports.sales_by_category_monthly
    order by month_start_date
    """,
)

SALES_CATEGORIES = _query(
    "sales_categories",
    SALES,
    ("exports.sales_by_category_monthly",),
    """
    with

    months as (
        select * from exports.sales_by_category_monthly
        where cast(metric_time__month as date) between $start_month and $end_month
    ),

    final as (
        select
            product__department as department,
            product__category_code as category_code,
            product__category_name as category_name,
            coalesce(sum(product_revenue), 0) as revenue,
            cast(coalesce(sum(units_sold), 0) as bigint) as units_sold,
            -- An order is in one month: its category's orders add up over months.
            cast(coalesce(sum(product_orders), 0) as bigint) as orders
        from months
        group by 1, 2, 3
    )

    select * from final
    order by revenue desc, category_name
    """,
    {"start_month": date(2025, 11, 1), "end_month": date(2026, 1, 1)},
)

SALES_CATEGORY_TREND = _query(
    "sales_category_trend",
    SALES,
    ("exports.sales_by_category_monthly",),
    """
    select
        cast(metric_time__month as date) as month_start_date,
        product__category_name as category_name,
        coalesce(product_revenue, 0) as revenue,
        cast(coalesce(units_sold, 0) as bigint) as units_sold
    from exports.sales_by_category_monthly
    where cast(metric_time__month as date) between $start_month and $end_month
        and product__category_code in (select unnest($categories))
    order by month_start_date, category_name
    """,
    {"start_month": date(2025, 11, 1), "end_month": date(2026, 1, 1), "categories": ["living_room", "lighting"]},
)

SALES_TOP_PRODUCTS = _query(
    "sales_top_products",
    SALES,
    ("exports.sales_by_product_monthly",),
    """
    with

    months as (
        select * from exports.sales_by_product_monthly
        where cast(metric_time__month as date) between $start_month and $end_month
            and product__category_code in (select unnest($categories))
    ),

    final as (
        select
            product as product_id,
            product__product_name as product_name,
            product__category_name as category_name,
            coalesce(sum(product_revenue), 0) as revenue,
            cast(coalesce(sum(units_sold), 0) as bigint) as units_sold,
            cast(coalesce(sum(product_orders), 0) as bigint) as orders
        from months
        group by 1, 2, 3
    )

    select * from final
    order by revenue desc, product_name
    limit $top
    """,
    {
        "start_month": date(2025, 11, 1),
        "end_month": date(2026, 1, 1),
        "categories": ["living_room", "lighting"],
        "top": 20,
    },
)


# -- Funnel -------------------------------------------------------------------------------------------------------
# Saved query funnel_daily: each step counts the sessions with at least one such event (bots excluded).

FUNNEL_DATE_BOUNDS = _query(
    "funnel_date_bounds",
    FUNNEL,
    ("exports.funnel_daily",),
    """
    select
        cast(min(metric_time__day) as date) as first_day,
        cast(max(metric_time__day) as date) as last_day
    from exports.funnel_daily
    """,
)

FUNNEL_STEPS = _query(
    "funnel_steps",
    FUNNEL,
    ("exports.funnel_daily",),
    """
    with

    days as (
        select * from exports.funnel_daily
        where cast(metric_time__day as date) between $start_date and $end_date
    ),

    totals as (
        select
            cast(coalesce(sum(sessions), 0) as bigint) as sessions,
            cast(coalesce(sum(product_view_sessions), 0) as bigint) as product_view,
            cast(coalesce(sum(add_to_cart_sessions), 0) as bigint) as add_to_cart,
            cast(coalesce(sum(checkout_sessions), 0) as bigint) as checkout,
            cast(coalesce(sum(purchasing_sessions), 0) as bigint) as purchase
        from days
    ),

    steps as (
        select 1 as step_number, 'Sessions' as step, sessions as step_sessions, sessions from totals
        union all
        select 2 as step_number, 'Product view' as step, product_view as step_sessions, sessions from totals
        union all
        select 3 as step_number, 'Add to cart' as step, add_to_cart as step_sessions, sessions from totals
        union all
        select 4 as step_number, 'Checkout' as step, checkout as step_sessions, sessions from totals
        union all
        select 5 as step_number, 'Purchase' as step, purchase as step_sessions, sessions from totals
    ),

    final as (
        select
            step_number,
            step,
            step_sessions as sessions,
            step_sessions / nullif(sessions, 0) as share_of_sessions,
            step_sessions / nullif(lag(step_sessions) over (order by step_number), 0) as share_of_previous_step
        from steps
    )

    select * from final
    order by step_number
    """,
    EXAMPLE_PERIOD,
)

FUNNEL_TREND = _query(
    "funnel_trend",
    FUNNEL,
    ("exports.funnel_daily",),
    """
    with

    days as (
        select * from exports.funnel_daily
        where cast(metric_time__day as date) between $start_date and $end_date
    ),

    final as (
        select
            cast(date_trunc($grain, cast(metric_time__day as date)) as date) as period_start,
            cast(coalesce(sum(sessions), 0) as bigint) as sessions,
            sum(product_view_sessions) / nullif(sum(sessions), 0) as product_view_rate,
            sum(add_to_cart_sessions) / nullif(sum(sessions), 0) as add_to_cart_rate,
            sum(checkout_sessions) / nullif(sum(sessions), 0) as checkout_rate,
            sum(purchasing_sessions) / nullif(sum(sessions), 0) as conversion_rate
        from days
        group by 1
    )

    select * from final
    order by period_start
    """,
    {**EXAMPLE_PERIOD, "grain": "month"},
)


# -- Customer cohorts ----------------------------------------------------------------------------------------------
# metrics_customer_cohorts: one row per sign-up month and month since sign-up, from the sign-up month to the last
# month with data; purchases are non-cancelled orders.

COHORT_MONTHS = _query(
    "cohort_months",
    COHORTS,
    ("metrics.metrics_customer_cohorts",),
    """
    select distinct cohort_month
    from metrics.metrics_customer_cohorts
    order by cohort_month
    """,
)

COHORT_SUMMARY = _query(
    "cohort_summary",
    COHORTS,
    ("metrics.metrics_customer_cohorts",),
    # Each cohort as of the last month with data (its latest row).
    """
    with

    cohorts as (
        select * from metrics.metrics_customer_cohorts
        where cohort_month between $start_month and $end_month
    ),

    final as (
        select
            cohort_month,
            max(months_since_signup) as months_observed,
            arg_max(cohort_customers, months_since_signup) as cohort_customers,
            arg_max(buyers_to_date, months_since_signup) as buyers,
            arg_max(repeat_buyers_to_date, months_since_signup) as repeat_buyers,
            arg_max(buyer_rate_to_date, months_since_signup) as buyer_rate,
            arg_max(repeat_rate_to_date, months_since_signup) as repeat_rate,
            cast(sum(orders) as bigint) as orders,
            sum(revenue) as revenue
        from cohorts
        group by 1
    )

    select * from final
    order by cohort_month
    """,
    {"start_month": date(2025, 11, 1), "end_month": date(2026, 1, 1)},
)

COHORT_MATRIX = _query(
    "cohort_matrix",
    COHORTS,
    ("metrics.metrics_customer_cohorts",),
    """
    select
        cohort_month,
        months_since_signup,
        cohort_customers,
        active_customers,
        retention_rate,
        buyer_rate_to_date,
        repeat_rate_to_date
    from metrics.metrics_customer_cohorts
    where cohort_month between $start_month and $end_month
    order by cohort_month, months_since_signup
    """,
    {"start_month": date(2025, 11, 1), "end_month": date(2026, 1, 1)},
)


# -- Data health --------------------------------------------------------------------------------------------------
# From Elementary's tables (copied into the serving copy by serve/published.py: ELEMENTARY_TABLES). They keep every
# run's rows: the pages read the last `dbt build`.

HEALTH_LAST_BUILD = _query(
    "health_last_build",
    HEALTH,
    ("elementary.dbt_invocations", "elementary.dbt_run_results", "metrics.metrics_daily"),
    """
    with

    builds as (
        select * from elementary.dbt_invocations
        where command = 'build'
    ),

    last_build as (
        select * from builds
        order by created_at desc
        limit 1
    ),

    results as (
        select
            invocation_id,
            count(*) filter (where resource_type in ('model', 'snapshot', 'seed')) as nodes_built,
            count(*) filter (where status in ('error', 'fail', 'skipped')) as nodes_failed,
            count(*) filter (where resource_type in ('test', 'unit_test') and status = 'warn') as tests_warning,
            count(*) filter (where resource_type in ('test', 'unit_test') and status = 'pass') as tests_passing,
            sum(execution_time) as execution_seconds
        from elementary.dbt_run_results
        group by 1
    ),

    data_bounds as (
        select max(date_day) as last_business_day
        from metrics.metrics_daily
    ),

    final as (
        select
            last_build.invocation_id,
            cast(last_build.run_completed_at as timestamp) as completed_at,
            last_build.dbt_version,
            last_build.full_refresh,
            coalesce(results.nodes_built, 0) as nodes_built,
            coalesce(results.nodes_failed, 0) as nodes_failed,
            coalesce(results.tests_passing, 0) as tests_passing,
            coalesce(results.tests_warning, 0) as tests_warning,
            results.execution_seconds,
            data_bounds.last_business_day
        from last_build
        left join results
            on last_build.invocation_id = results.invocation_id
        cross join data_bounds
    )

    select * from final
    """,
)

HEALTH_RUNS = _query(
    "health_runs",
    HEALTH,
    ("elementary.dbt_invocations", "elementary.dbt_run_results"),
    """
    with

    invocations as (
        select * from elementary.dbt_invocations
    ),

    results as (
        select
            invocation_id,
            count(*) as nodes,
            count(*) filter (where status in ('error', 'fail', 'skipped')) as failed,
            count(*) filter (where status = 'warn') as warned
        from elementary.dbt_run_results
        group by 1
    ),

    final as (
        select
            cast(invocations.run_completed_at as timestamp) as completed_at,
            invocations.command,
            coalesce(results.nodes, 0) as nodes,
            coalesce(results.failed, 0) as failed,
            coalesce(results.warned, 0) as warned
        from invocations
        left join results
            on invocations.invocation_id = results.invocation_id
    )

    select * from final
    order by completed_at desc
    limit 20
    """,
)

HEALTH_TESTS_NOT_PASSING = _query(
    "health_tests_not_passing",
    HEALTH,
    ("elementary.elementary_test_results", "elementary.dbt_invocations"),
    # The tests of the last build that did not pass, worst first.
    """
    with

    last_build as (
        select invocation_id from elementary.dbt_invocations
        where command = 'build'
        order by created_at desc
        limit 1
    ),

    results as (
        select * from elementary.elementary_test_results
        where invocation_id in (select invocation_id from last_build)
            and status <> 'pass'
    ),

    final as (
        select
            status,
            coalesce(test_short_name, test_name) as test,
            test_type,
            table_name as model,
            column_name,
            failures,
            test_results_description as description,
            detected_at
        from results
    )

    select * from final
    order by case status when 'error' then 0 when 'fail' then 1 else 2 end, model, test
    """,
)

HEALTH_FRESHNESS_TESTS = _query(
    "health_freshness_tests",
    HEALTH,
    ("elementary.elementary_test_results", "elementary.dbt_invocations"),
    # Source freshness is judged inside the build, by tests tagged freshness (tests/dbt/generic/is_fresh.sql and
    # Elementary's freshness anomalies), at the business "now".
    """
    with

    last_build as (
        select invocation_id from elementary.dbt_invocations
        where command = 'build'
        order by created_at desc
        limit 1
    ),

    results as (
        select * from elementary.elementary_test_results
        where invocation_id in (select invocation_id from last_build)
            and tags like '%"freshness"%'
    ),

    final as (
        select
            schema_name || '.' || table_name as source_table,
            coalesce(test_short_name, test_name) as test,
            status,
            trim(regexp_replace(coalesce(test_results_description, ''), '\\s+', ' ', 'g')) as description,
            detected_at
        from results
    )

    select * from final
    order by case status when 'pass' then 1 else 0 end, source_table, test
    """,
)

HEALTH_FRESHNESS = _query(
    "health_freshness",
    HEALTH,
    ("elementary.dbt_source_freshness_results",),
    # The latest result of `dbt source freshness` for each source table, if it was ever run (the pipeline does not:
    # freshness is tested inside the build, above).
    """
    with

    ranked as (
        select
            *,
            row_number() over (partition by unique_id order by created_at desc) as recency
        from elementary.dbt_source_freshness_results
    ),

    final as (
        select
            replace(unique_id, 'source.tidewater.', '') as source_table,
            status,
            cast(max_loaded_at as timestamp) as max_loaded_at,
            round(max_loaded_at_time_ago_in_s / 3600, 1) as hours_since_load,
            cast(snapshotted_at as timestamp) as checked_at,
            error
        from ranked
        where recency = 1
    )

    select * from final
    order by case status when 'error' then 0 when 'runtime error' then 0 when 'warn' then 1 else 2 end, source_table
    """,
)


# -- Checking ------------------------------------------------------------------------------------------------------


def run(con: duckdb.DuckDBPyConnection, query: Query, params: dict[str, Any] | None = None) -> Any:
    """The query's result as a pandas DataFrame, with its example values for any parameter not given."""
    values = {**query.example, **(params or {})}
    return con.execute(query.sql, values or None).df()


def check(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Run every dashboard query on `con` (a serving copy) with representative filters; rows returned by query.

    Raises DashboardQueryError naming the page and the query of each that fails (all of them, not the first)."""
    counts: dict[str, int] = {}
    failures: list[str] = []
    for query in QUERIES.values():
        try:
            counts[query.name] = len(run(con, query))
        except duckdb.Error as exc:
            first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            failures.append(f"page '{query.page}', query '{query.name}': {first_line}")
    if failures:
        raise DashboardQueryError(
            f"{len(failures)} dashboard quer{'y fails' if len(failures) == 1 else 'ies fail'} on {_database(con)} "
            f"(serve/dashboards/queries.py): " + "; ".join(failures)
        )
    return counts


def _database(con: duckdb.DuckDBPyConnection) -> str:
    try:
        row = con.execute("select path from duckdb_databases() where database_name = current_database()").fetchone()
    except duckdb.Error:
        return "the serving copy"
    return str(row[0]) if row and row[0] else "the serving copy"
