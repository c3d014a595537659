{#- Measures with no channel (orders without a customer or of an erased customer, spend whose channel is not in
    channel_aliases) go to one 'unknown' row a month: left out, the channels' totals fell short of the facts with no
    row saying why. -#}
{%- set unknown_channel = 'unknown' -%}

with

channels as (
    select * from {{ ref('dim_channels') }}
),

day_channels as (
    select * from {{ ref('int_metrics__aggregated_to_day_and_channel') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

report_channels as (
    select
        channel_code,
        channel_name,
        is_paid
    from channels
    union all
    select
        '{{ unknown_channel }}' as channel_code,
        'Unknown' as channel_name,
        -- Unknown, not false: the row holds paid spend whose channel is unreadable.
        cast(null as boolean) as is_paid
),

monthly_measures as (
    select
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start_date,
        coalesce(channel_code, '{{ unknown_channel }}') as channel_code,
        sum(revenue) as revenue,
        sum(orders) as orders,
        sum(new_customers) as new_customers,
        sum(sessions) as sessions,
        sum(purchasing_sessions) as purchasing_sessions,
        sum(spend) as spend
    from day_channels
    group by 1, 2
),

-- Refunds are not in day_channels; net_revenue subtracts only those on non-cancelled orders, the orders revenue
-- counts (metric net_revenue).
monthly_refunds as (
    select
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start_date,
        coalesce(acquisition_channel_code, '{{ unknown_channel }}') as channel_code,
        sum(refund_amount) as refunds_on_revenue_orders
    from orders
    where not is_cancelled
    group by 1, 2
),

months as (
    select distinct month_start_date
    from monthly_measures
),

month_channels as (
    select
        months.month_start_date,
        report_channels.channel_code,
        report_channels.channel_name,
        report_channels.is_paid
    from months
    cross join report_channels
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
        cast(
            coalesce(monthly_measures.revenue, 0) - coalesce(monthly_refunds.refunds_on_revenue_orders, 0)
            as decimal(18, 2)
        ) as net_revenue,
        cast(coalesce(monthly_measures.sessions, 0) as {{ dbt.type_bigint() }}) as sessions,
        cast(coalesce(monthly_measures.purchasing_sessions, 0) as {{ dbt.type_bigint() }}) as purchasing_sessions
    from month_channels
    left join monthly_measures
        on month_channels.month_start_date = monthly_measures.month_start_date
        and month_channels.channel_code = monthly_measures.channel_code
    left join monthly_refunds
        on month_channels.month_start_date = monthly_refunds.month_start_date
        and month_channels.channel_code = monthly_refunds.channel_code
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
        -- In the unknown row, spend and customers are different unknowns (an unreadable spend line, an order
        -- without a customer): a ratio of them would mean nothing.
        case
            when channel_code != '{{ unknown_channel }}' then {{ ratio('spend', 'new_customers') }}
        end as cost_per_acquisition,
        orders,
        revenue,
        net_revenue,
        case
            when is_paid then {{ ratio('revenue', 'spend') }}
        end as attributed_roas,
        sessions,
        purchasing_sessions,
        {{ ratio('purchasing_sessions', 'sessions') }} as conversion_rate
    from joined
)

select * from final
