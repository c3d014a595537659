{%- set active_window_days = var('active_customer_window_days') -%}

with

spine as (
    select * from {{ ref('metricflow_time_spine') }}
),

day_channels as (
    select * from {{ ref('int_metrics__aggregated_to_day_and_channel') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

daily_measures as (
    select
        date_day,
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(non_cancelled_orders) as non_cancelled_orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(purchasing_sessions) as purchasing_sessions,
        sum(spend) as spend
    from day_channels
    group by 1
),

activity_bounds as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from daily_measures
),

reporting_days as (
    select spine.date_day
    from spine
    inner join activity_bounds
        on spine.date_day between activity_bounds.first_day and activity_bounds.last_day
),

-- A distinct count over a moving window: not additive, so counted from the orders, not from day_channels.
active_customers as (
    select
        reporting_days.date_day,
        count(distinct orders.customer_id) as active_customers_90d
    from reporting_days
    inner join orders
        on reporting_days.date_day >= orders.order_date
        and orders.order_date > {{ dbt.dateadd('day', -active_window_days, 'reporting_days.date_day') }}
    where not orders.is_cancelled
    group by 1
),

joined as (
    select
        reporting_days.date_day,
        cast(coalesce(daily_measures.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(daily_measures.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(daily_measures.non_cancelled_orders, 0) as {{ dbt.type_bigint() }}) as non_cancelled_orders,
        cast(coalesce(daily_measures.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(daily_measures.purchasing_sessions, 0) as {{ dbt.type_bigint() }}) as purchasing_sessions,
        cast(coalesce(daily_measures.spend, 0) as decimal(18, 2)) as spend,
        cast(coalesce(daily_measures.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(active_customers.active_customers_90d, 0) as {{ dbt.type_bigint() }}) as active_customers_90d
    from reporting_days
    left join daily_measures
        on reporting_days.date_day = daily_measures.date_day
    left join active_customers
        on reporting_days.date_day = active_customers.date_day
),

final as (
    select
        date_day,
        revenue,
        orders,
        non_cancelled_orders,
        {{ ratio('revenue', 'non_cancelled_orders') }} as average_order_value,
        sessions,
        purchasing_sessions,
        {{ ratio('purchasing_sessions', 'sessions') }} as conversion_rate,
        spend,
        new_customers,
        {{ ratio('spend', 'new_customers') }} as cost_per_acquisition,
        {{ ratio('revenue', 'spend') }} as return_on_ad_spend,
        active_customers_90d
    from joined
)

select * from final
