-- The daily metric mart adds up to the facts it is built from: revenue, net revenue (refunds on cancelled orders
-- not subtracted), orders (all and non-cancelled) and new customers (fct_orders), sessions (fct_sessions) and
-- dated spend (fct_marketing_spend).
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
        sum(net_revenue) as net_revenue,
        sum(orders) as orders,
        sum(non_cancelled_orders) as non_cancelled_orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(spend) as spend
    from metrics_daily
),

order_totals as (
    select
        sum(case when not is_cancelled then order_revenue end) as revenue,
        sum(case when not is_cancelled then order_revenue - refund_amount end) as net_revenue,
        count(*) as orders,
        count(case when not is_cancelled then 1 end) as non_cancelled_orders,
        count(case when is_first_order then 1 end) as new_customers
    from orders
),

session_totals as (
    select count(*) as sessions
    from sessions
),

spend_totals as (
    select sum(spend_amount) as spend
    from marketing_spend
    where spend_date is not null
),

fact_totals as (
    select
        order_totals.revenue,
        order_totals.net_revenue,
        order_totals.orders,
        order_totals.non_cancelled_orders,
        order_totals.new_customers,
        session_totals.sessions,
        spend_totals.spend
    from order_totals
    cross join session_totals
    cross join spend_totals
),

compared as (
    select
        'revenue' as measure,
        mart_totals.revenue as mart_total,
        fact_totals.revenue as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'net_revenue' as measure,
        mart_totals.net_revenue as mart_total,
        fact_totals.net_revenue as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'orders' as measure,
        mart_totals.orders as mart_total,
        fact_totals.orders as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'non_cancelled_orders' as measure,
        mart_totals.non_cancelled_orders as mart_total,
        fact_totals.non_cancelled_orders as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'new_customers' as measure,
        mart_totals.new_customers as mart_total,
        fact_totals.new_customers as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'sessions' as measure,
        mart_totals.sessions as mart_total,
        fact_totals.sessions as fact_total
    from mart_totals cross join fact_totals
    union all
    select
        'spend' as measure,
        mart_totals.spend as mart_total,
        fact_totals.spend as fact_total
    from mart_totals cross join fact_totals
),

final as (
    select * from compared
    where coalesce(mart_total, 0) != coalesce(fact_total, 0)
)

select * from final
