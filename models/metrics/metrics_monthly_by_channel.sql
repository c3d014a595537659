with

channels as (
    select * from {{ ref('dim_channels') }}
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

monthly_orders as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start_date,
        acquisition_channel_code as channel_code,
        sum(case when not is_cancelled then order_revenue else 0 end) as revenue,
        count(*) as orders,
        sum(case when is_first_order then 1 else 0 end) as new_customers
    from orders
    where acquisition_channel_code is not null
    group by 1, 2
),

monthly_sessions as (
    select
        cast({{ dbt.date_trunc('month', 'session_date') }} as date) as month_start_date,
        channel_code,
        count(*) as sessions,
        sum(case when has_purchase then 1 else 0 end) as purchasing_sessions
    from sessions
    where channel_code is not null
    group by 1, 2
),

monthly_spend as (
    select
        cast({{ dbt.date_trunc('month', 'spend_date') }} as date) as month_start_date,
        channel_code,
        sum(spend_amount) as spend
    from marketing_spend
    where
        spend_date is not null
        and channel_code is not null
    group by 1, 2
),

months as (
    select month_start_date from monthly_orders
    union
    select month_start_date from monthly_sessions
    union
    select month_start_date from monthly_spend
),

month_channels as (
    select
        months.month_start_date,
        channels.channel_code,
        channels.channel_name,
        channels.is_paid
    from months
    cross join channels
),

joined as (
    select
        month_channels.month_start_date,
        month_channels.channel_code,
        month_channels.channel_name,
        month_channels.is_paid,
        cast(coalesce(monthly_spend.spend, 0) as decimal(18, 2)) as spend,
        cast(coalesce(monthly_orders.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(monthly_orders.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(monthly_orders.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(monthly_sessions.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(monthly_sessions.purchasing_sessions, 0) as {{ dbt.type_bigint() }}) as purchasing_sessions
    from month_channels
    left join monthly_orders
        on month_channels.month_start_date = monthly_orders.month_start_date
        and month_channels.channel_code = monthly_orders.channel_code
    left join monthly_sessions
        on month_channels.month_start_date = monthly_sessions.month_start_date
        and month_channels.channel_code = monthly_sessions.channel_code
    left join monthly_spend
        on month_channels.month_start_date = monthly_spend.month_start_date
        and month_channels.channel_code = monthly_spend.channel_code
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "cast(month_start_date as " ~ dbt.type_string() ~ ")",
            "'|'",
            "channel_code"
        ])) }} as monthly_channel_id,
        month_start_date,
        channel_code,
        channel_name,
        is_paid,
        spend,
        new_customers,
        {{ ratio('spend', 'new_customers') }} as cost_per_acquisition,
        orders,
        revenue,
        {{ ratio('revenue', 'spend') }} as return_on_ad_spend,
        sessions,
        purchasing_sessions,
        {{ ratio('purchasing_sessions', 'sessions') }} as conversion_rate
    from joined
)

select * from final
