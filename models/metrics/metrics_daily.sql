{%- set active_window_days = var('active_customer_window_days') -%}

with

spine as (
    select * from {{ ref('metricflow_time_spine') }}
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

daily_orders as (
    select
        order_date as date_day,
        sum(case when not is_cancelled then order_revenue else 0 end) as revenue,
        count(*) as orders,
        sum(case when not is_cancelled then 1 else 0 end) as non_cancelled_orders,
        sum(case when is_first_order then 1 else 0 end) as new_customers
    from orders
    group by 1
),

daily_sessions as (
    select
        session_date as date_day,
        count(*) as sessions,
        sum(case when has_purchase then 1 else 0 end) as purchasing_sessions
    from sessions
    group by 1
),

daily_spend as (
    select
        spend_date as date_day,
        sum(spend_amount) as spend
    from marketing_spend
    where spend_date is not null
    group by 1
),

activity_dates as (
    select date_day from daily_orders
    union all
    select date_day from daily_sessions
    union all
    select date_day from daily_spend
),

activity_bounds as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from activity_dates
),

reporting_days as (
    select spine.date_day
    from spine
    inner join activity_bounds
        on spine.date_day between activity_bounds.first_day and activity_bounds.last_day
),

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
        cast(coalesce(daily_orders.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(daily_orders.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(daily_orders.non_cancelled_orders, 0) as {{ dbt.type_bigint() }}) as non_cancelled_orders,
        cast(coalesce(daily_sessions.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(daily_sessions.purchasing_sessions, 0) as {{ dbt.type_bigint() }}) as purchasing_sessions,
        cast(coalesce(daily_spend.spend, 0) as decimal(18, 2)) as spend,
        cast(coalesce(daily_orders.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(active_customers.active_customers_90d, 0) as {{ dbt.type_bigint() }}) as active_customers_90d
    from reporting_days
    left join daily_orders
        on reporting_days.date_day = daily_orders.date_day
    left join daily_sessions
        on reporting_days.date_day = daily_sessions.date_day
    left join daily_spend
        on reporting_days.date_day = daily_spend.date_day
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
