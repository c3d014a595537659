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

channels as (
    select * from {{ ref('dim_channels') }}
),

daily_measures as (
    select
        day_channels.date_day,
        sum(day_channels.revenue) as revenue,
        -- Revenue of customers acquired through a paid channel: attributed_roas's numerator.
        sum(case when channels.is_paid then day_channels.revenue else 0 end) as paid_acquisition_revenue,
        sum(day_channels.orders) as orders,
        sum(day_channels.non_cancelled_orders) as non_cancelled_orders,
        sum(day_channels.new_customers) as new_customers,
        sum(day_channels.sessions) as sessions,
        sum(day_channels.purchasing_sessions) as purchasing_sessions,
        sum(day_channels.spend) as spend
    from day_channels
    left join channels
        on day_channels.channel_code = channels.channel_code
    group by 1
),

-- Refunds are not in day_channels; net_revenue subtracts only those on non-cancelled orders, the orders revenue
-- counts (metric net_revenue).
revenue_refunds as (
    select
        order_date as date_day,
        sum(refund_amount) as refunds_on_revenue_orders
    from orders
    where not is_cancelled
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
        cast(coalesce(daily_measures.paid_acquisition_revenue, 0) as decimal(18, 2)) as paid_acquisition_revenue,
        cast(
            coalesce(daily_measures.revenue, 0) - coalesce(revenue_refunds.refunds_on_revenue_orders, 0)
            as decimal(18, 2)
        ) as net_revenue,
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
    left join revenue_refunds
        on reporting_days.date_day = revenue_refunds.date_day
),

final as (
    select
        date_day,
        revenue,
        net_revenue,
        orders,
        non_cancelled_orders,
        {{ ratio('revenue', 'non_cancelled_orders') }} as average_order_value,
        sessions,
        purchasing_sessions,
        {{ ratio('purchasing_sessions', 'sessions') }} as conversion_rate,
        spend,
        new_customers,
        {{ ratio('spend', 'new_customers') }} as cost_per_acquisition,
        {{ ratio('revenue', 'spend') }} as blended_roas,
        {{ ratio('paid_acquisition_revenue', 'spend') }} as attributed_roas,
        active_customers_90d
    from joined
)

select * from final
