{#- High-value customers: among the customers who placed an order in the last `recent_days` days (as of the last
    complete business day of the features), the `top_share` with the highest lifetime revenue (non-cancelled orders,
    before refunds). Ties at the cut are broken by customer_id, so the audience is the same on every build. -#}

{%- set recent_days = 365 %}
{%- set top_share = 0.1 %}

with

features as (
    select * from {{ ref('fct_customer_features_daily') }}
),

as_of as (
    select max(as_of_date) as as_of_date
    from features
),

recent_buyers as (
    select
        features.customer_id,
        features.as_of_date,
        features.revenue_lifetime,
        features.orders_lifetime,
        features.days_since_last_order
    from features
    inner join as_of
        on features.as_of_date = as_of.as_of_date
    where features.days_since_last_order < {{ recent_days }}
),

ranked as (
    select
        *,
        row_number() over (order by revenue_lifetime desc, customer_id asc) as value_rank,
        count(*) over () as recent_buyers
    from recent_buyers
),

final as (
    select
        customer_id,
        as_of_date,
        cast(value_rank as {{ dbt.type_int() }}) as value_rank,
        cast(recent_buyers as {{ dbt.type_int() }}) as recent_buyers,
        cast(revenue_lifetime as decimal(18, 2)) as revenue_lifetime,
        cast(orders_lifetime as {{ dbt.type_int() }}) as orders_lifetime,
        cast(days_since_last_order as {{ dbt.type_int() }}) as days_since_last_order
    from ranked
    where
        value_rank <= ceil(recent_buyers * {{ top_share }})
        and revenue_lifetime > 0
)

select * from final
