{#- The days MetricFlow can report on: every day from the first to the last with any activity (an order, a session
    or dated spend), the days metrics_daily reports. Cumulative metrics join the spine, so a spine that ran past the
    data (it used to end on 2027-12-31) made active_customers count its 90-day window down over days with no data
    yet: a fall that does not exist. The bounds come from the facts, so the spine moves on with the business days
    and stops where the data stops. Four digits of offsets (27 years) are far more than the data spans; were it
    ever short, assert_metrics_daily_matches_facts would fail, as metrics_daily reports the spine's days. -#}

with

day_channels as (
    select * from {{ ref('int_metrics__aggregated_to_day_and_channel') }}
),

digits as (
    select 0 as digit
    union all
    select 1 as digit
    union all
    select 2 as digit
    union all
    select 3 as digit
    union all
    select 4 as digit
    union all
    select 5 as digit
    union all
    select 6 as digit
    union all
    select 7 as digit
    union all
    select 8 as digit
    union all
    select 9 as digit
),

day_offsets as (
    select thousands.digit * 1000 + hundreds.digit * 100 + tens.digit * 10 + units.digit as day_offset
    from digits as units
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
),

activity_bounds as (
    select
        min(date_day) as first_day,
        max(date_day) as last_day
    from day_channels
),

days as (
    select
        cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'activity_bounds.first_day') }} as date) as date_day,
        activity_bounds.last_day
    from day_offsets
    cross join activity_bounds
),

final as (
    select date_day
    from days
    where date_day <= last_day
)

select * from final
