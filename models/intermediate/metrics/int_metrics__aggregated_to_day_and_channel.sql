{#- The additive measures of the metric marts, summed once at their lowest common grain (day and channel); the marts
    roll them up. Distinct counts (active customers) do not add up across days or channels: the marts compute them
    from the facts. -#}

with

orders as (
    select * from {{ ref('fct_orders') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

marketing_spend as (
    select * from {{ ref('fct_marketing_spend') }}
),

order_measures as (
    select
        order_date as date_day,
        acquisition_channel_code as channel_code,
        sum(case when not is_cancelled then order_revenue else 0 end) as revenue,
        count(*) as orders,
        sum(case when not is_cancelled then 1 else 0 end) as non_cancelled_orders,
        sum(case when is_first_order then 1 else 0 end) as new_customers,
        0 as sessions,
        0 as purchasing_sessions,
        cast(0 as decimal(18, 2)) as spend
    from orders
    group by 1, 2
),

session_measures as (
    select
        session_date as date_day,
        channel_code,
        cast(0 as decimal(18, 2)) as revenue,
        0 as orders,
        0 as non_cancelled_orders,
        0 as new_customers,
        count(*) as sessions,
        sum(case when has_purchase then 1 else 0 end) as purchasing_sessions,
        cast(0 as decimal(18, 2)) as spend
    from sessions
    group by 1, 2
),

spend_measures as (
    select
        spend_date as date_day,
        channel_code,
        cast(0 as decimal(18, 2)) as revenue,
        0 as orders,
        0 as non_cancelled_orders,
        0 as new_customers,
        0 as sessions,
        0 as purchasing_sessions,
        coalesce(sum(spend_amount), 0) as spend
    from marketing_spend
    where spend_date is not null
    group by 1, 2
),

measures as (
    select * from order_measures
    union all
    select * from session_measures
    union all
    select * from spend_measures
),

day_channels as (
    select
        date_day,
        channel_code,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(sum(orders) as {{ dbt.type_bigint() }}) as orders,
        cast(sum(non_cancelled_orders) as {{ dbt.type_bigint() }}) as non_cancelled_orders,
        cast(sum(new_customers) as {{ dbt.type_bigint() }}) as new_customers,
        cast(sum(sessions) as {{ dbt.type_bigint() }}) as sessions,
        cast(sum(purchasing_sessions) as {{ dbt.type_bigint() }}) as purchasing_sessions,
        cast(sum(spend) as decimal(18, 2)) as spend
    from measures
    group by 1, 2
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "cast(date_day as " ~ dbt.type_string() ~ ")",
            "'|'",
            "coalesce(channel_code, '')"
        ])) }} as day_channel_id,
        date_day,
        channel_code,
        revenue,
        orders,
        non_cancelled_orders,
        new_customers,
        sessions,
        purchasing_sessions,
        spend
    from day_channels
)

select * from final
