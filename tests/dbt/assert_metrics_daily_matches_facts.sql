-- The daily metric mart adds up to the facts it is built from: revenue, orders (all and non-cancelled) and new customers
-- (fct_orders), sessions (fct_sessions) and dated spend (fct_marketing_spend).
-- Returns one row per measure whose totals differ.

with

metrics_daily as (
    select * from {{ ref('metrics_daily') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

marketing_spend as (
    select * from {{ ref('fct_marketing_spend') }}
),

mart_totals as (
    select
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(non_cancelled_orders) as non_cancelled_orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(spend) as spend
    from metrics_daily
),

fact_totals as (
    select
        (select sum(order_revenue) from orders where not is_cancelled) as revenue,
        (select count(*) from orders) as orders,
        (select count(*) from orders where not is_cancelled) as non_cancelled_orders,
        (select count(*) from orders where is_first_order) as new_customers,
        (select count(*) from sessions) as sessions,
        (select sum(spend_amount) from marketing_spend where spend_date is not null) as spend
),

compared as (
    select 'revenue' as measure, mart_totals.revenue as mart_total, fact_totals.revenue as fact_total
    from mart_totals cross join fact_totals
    union all
    select 'orders', mart_totals.orders, fact_totals.orders
    from mart_totals cross join fact_totals
    union all
    select 'non_cancelled_orders', mart_totals.non_cancelled_orders, fact_totals.non_cancelled_orders
    from mart_totals cross join fact_totals
    union all
    select 'new_customers', mart_totals.new_customers, fact_totals.new_customers
    from mart_totals cross join fact_totals
    union all
    select 'sessions', mart_totals.sessions, fact_totals.sessions
    from mart_totals cross join fact_totals
    union all
    select 'spend', mart_totals.spend, fact_totals.spend
    from mart_totals cross join fact_totals
),

final as (
    select * from compared
    where coalesce(mart_total, 0) != coalesce(fact_total, 0)
)

select * from final
