{#- Past buyers likely to lapse: among the customers who placed an order in the last `recent_days` days (as of the
    last scored business day), the `bottom_share` with the lowest latest score (the probability of ordering again
    within 30 days). Ties at the cut are broken by customer_id, so the audience is the same on every build. -#}

{%- set recent_days = 180 %}
{%- set bottom_share = 0.2 %}

with

features as (
    select * from {{ ref('fct_customer_features_daily') }}
),

scores as (
    select * from {{ ref('fct_customer_scores_daily') }}
),

as_of as (
    select max(as_of_date) as as_of_date
    from scores
),

latest_scores as (
    -- The last scored day's scores; of two model versions scored that day, the later one.
    select
        scores.customer_id,
        scores.as_of_date,
        scores.model_version,
        scores.score,
        scores.score_decile,
        row_number() over (
            partition by scores.customer_id
            order by scores.model_version desc
        ) as version_rank
    from scores
    inner join as_of
        on scores.as_of_date = as_of.as_of_date
),

recent_buyers as (
    select
        latest_scores.customer_id,
        latest_scores.as_of_date,
        latest_scores.model_version,
        latest_scores.score,
        latest_scores.score_decile,
        features.days_since_last_order,
        features.orders_lifetime,
        features.revenue_lifetime
    from latest_scores
    inner join features
        on latest_scores.customer_id = features.customer_id
        and latest_scores.as_of_date = features.as_of_date
    where
        latest_scores.version_rank = 1
        and features.days_since_last_order < {{ recent_days }}
),

ranked as (
    select
        *,
        row_number() over (order by score asc, customer_id asc) as lapse_rank,
        count(*) over () as recent_buyers
    from recent_buyers
),

final as (
    select
        customer_id,
        as_of_date,
        model_version,
        score,
        cast(score_decile as {{ dbt.type_int() }}) as score_decile,
        cast(lapse_rank as {{ dbt.type_int() }}) as lapse_rank,
        cast(recent_buyers as {{ dbt.type_int() }}) as recent_buyers,
        cast(days_since_last_order as {{ dbt.type_int() }}) as days_since_last_order,
        cast(orders_lifetime as {{ dbt.type_int() }}) as orders_lifetime,
        cast(revenue_lifetime as decimal(18, 2)) as revenue_lifetime
    from ranked
    where lapse_rank <= ceil(recent_buyers * {{ bottom_share }})
)

select * from final
