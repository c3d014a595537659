with

channels as (
    select * from {{ ref('dim_channels') }}
),

day_channels as (
    select * from {{ ref('int_metrics__aggregated_to_day_and_channel') }}
),

-- Measures with no channel (orders without a customer, spend with an unknown channel) are in no row.
monthly_measures as (
    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        channel_code,
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(purchasing_sessions) as purchasing_sessions,
        sum(spend) as spend
    from day_channels
    where channel_code is not null
    group by 1, 2
),

months as (
    select distinct month_start_date
    from monthly_measures
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
        cast(coalesce(monthly_measures.spend, 0) as decimal(18, 2)) as spend,
        cast(coalesce(monthly_measures.new_customers, 0) as {{ dbt.type_bigint() }}) as new_customers,
        cast(coalesce(monthly_measures.orders, 0) as {{ dbt.type_bigint() }}) as orders,
        cast(coalesce(monthly_measures.revenue, 0) as decimal(18, 2)) as revenue,
        cast(coalesce(monthly_measures.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(monthly_measures.purchasing_sessions, 0) as {{ dbt.type_bigint() }}) as purchasing_sessions
    from month_channels
    left join monthly_measures
        on month_channels.month_start_date = monthly_measures.month_start_date
        and month_channels.channel_code = monthly_measures.channel_code
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
