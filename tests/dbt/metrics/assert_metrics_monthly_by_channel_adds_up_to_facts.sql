-- Each month's rows of metrics_monthly_by_channel add up to the facts, to the cent: revenue, net revenue, orders
-- and new customers (fct_orders, those without a known channel included - the 'unknown' row), sessions and purchasing
-- sessions (fct_sessions), dated spend (fct_marketing_spend, lines with an unknown channel included). A dashboard
-- summing the channels gets the shop's totals. Returns one row per month and measure that differs.

with

by_channel as (
    select * from {{ ref('metrics_monthly_by_channel') }}
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

mart_months as (
    select
        month_start_date,
        sum(revenue) as revenue,
        sum(net_revenue) as net_revenue,
        sum(orders) as orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(purchasing_sessions) as purchasing_sessions,
        sum(spend) as spend
    from by_channel
    group by 1
),

fact_measures as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start_date,
        case when not is_cancelled then order_revenue else 0 end as revenue,
        case when not is_cancelled then order_revenue - refund_amount else 0 end as net_revenue,
        1 as orders,
        case when is_first_order then 1 else 0 end as new_customers,
        0 as sessions,
        0 as purchasing_sessions,
        0 as spend
    from orders
    union all
    select
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as month_start_date,
        0 as revenue,
        0 as net_revenue,
        0 as orders,
        0 as new_customers,
        1 as sessions,
        case when has_purchase then 1 else 0 end as purchasing_sessions,
        0 as spend
    from sessions
    union all
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month_start_date,
        0 as revenue,
        0 as net_revenue,
        0 as orders,
        0 as new_customers,
        0 as sessions,
        0 as purchasing_sessions,
        coalesce(spend_amount, 0) as spend
    from marketing_spend
    where spend_date is not null
),

fact_months as (
    select
        month_start_date,
        sum(revenue) as revenue,
        sum(net_revenue) as net_revenue,
        sum(orders) as orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(purchasing_sessions) as purchasing_sessions,
        sum(spend) as spend
    from fact_measures
    group by 1
),

months as (
    select month_start_date from mart_months
    union
    select month_start_date from fact_months
),

compared as (
    select
        months.month_start_date,
        'revenue' as measure,
        cast(mart_months.revenue as decimal(18, 2)) as mart_total,
        cast(fact_months.revenue as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'net_revenue' as measure,
        cast(mart_months.net_revenue as decimal(18, 2)) as mart_total,
        cast(fact_months.net_revenue as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'orders' as measure,
        cast(mart_months.orders as decimal(18, 2)) as mart_total,
        cast(fact_months.orders as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'new_customers' as measure,
        cast(mart_months.new_customers as decimal(18, 2)) as mart_total,
        cast(fact_months.new_customers as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'sessions' as measure,
        cast(mart_months.sessions as decimal(18, 2)) as mart_total,
        cast(fact_months.sessions as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'purchasing_sessions' as measure,
        cast(mart_months.purchasing_sessions as decimal(18, 2)) as mart_total,
        cast(fact_months.purchasing_sessions as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
    union all
    select
        months.month_start_date,
        'spend' as measure,
        cast(mart_months.spend as decimal(18, 2)) as mart_total,
        cast(fact_months.spend as decimal(18, 2)) as fact_total
    from months
    left join mart_months
        on months.month_start_date = mart_months.month_start_date
    left join fact_months
        on months.month_start_date = fact_months.month_start_date
),

final as (
    select * from compared
    where coalesce(mart_total, 0) != coalesce(fact_total, 0)
)

select * from final
