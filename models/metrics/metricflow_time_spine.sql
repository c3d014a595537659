{#- The days MetricFlow can report on: cumulative windows and joins to the spine need every day present. -#}
{%- set first_day = '2025-01-01' -%}
{%- set last_day = '2027-12-31' -%}

with

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

days as (
    select
        cast({{ dbt.dateadd('day', 'day_offset', "cast('" ~ first_day ~ "' as date)") }} as date) as date_day
    from day_offsets
),

final as (
    select date_day
    from days
    where date_day <= cast('{{ last_day }}' as date)
)

select * from final
