-- MetricFlow's time spine covers exactly the days with data: from the first to the last day with an order, a
-- session or dated spend, every day once. A spine past the last day made active_customers report days and months
-- with no data yet, its 90-day window emptying into a fall that does not exist. The bounds are read from the
-- facts, not from the model the spine reads. Returns one row per bound (or the day count) that differs.

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

activity_days as (
    select order_date as date_day from orders
    union all
    select session_date as date_day from sessions
    union all
    select spend_date as date_day from marketing_spend
    where spend_date is not null
),

fact_bounds as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from activity_days
),

spine_bounds as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day,
        count(*) as day_count
    from spine
),

compared as (
    select
        'first_day' as bound,
        cast(spine_bounds.first_day as {{ dbt.type_string() }}) as spine_value,
        cast(fact_bounds.first_day as {{ dbt.type_string() }}) as fact_value
    from spine_bounds cross join fact_bounds
    union all
    select
        'last_day' as bound,
        cast(spine_bounds.last_day as {{ dbt.type_string() }}) as spine_value,
        cast(fact_bounds.last_day as {{ dbt.type_string() }}) as fact_value
    from spine_bounds cross join fact_bounds
    union all
    select
        'day_count' as bound,
        cast(spine_bounds.day_count as {{ dbt.type_string() }}) as spine_value,
        cast(
            {{ dbt.datediff('fact_bounds.first_day', 'fact_bounds.last_day', 'day') }} + 1
            as {{ dbt.type_string() }}
        ) as fact_value
    from spine_bounds cross join fact_bounds
),

final as (
    select * from compared
    where coalesce(spine_value, '') != coalesce(fact_value, '')
)

select * from final
