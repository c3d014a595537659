{#- A table, not a view like the rest of intermediate: sessionizing every event is a window over all of them
    (1M rows at scale 1), and ten tests plus fct_sessions (twice when incremental) read it. As a view each reader
    paid for it again: 8 of its tests took 4-7 s each at scale 1; as a table, one build. -#}
{{ config(materialized='table') }}

{%- set timeout_ms = var('session_timeout_minutes') * 60 * 1000 -%}

with

events as (
    select * from {{ ref('stg_events__events') }}
),

sessionizable as (
    select
        event_id,
        anonymous_id,
        customer_id,
        event_type,
        occurred_at,
        page_url,
        referrer,
        utm_source,
        product_id,
        order_id,
        loaded_at
    from events
    where
        not is_malformed
        and not is_bot
        and occurred_at is not null
        and anonymous_id is not null
),

with_previous as (
    select
        *,
        lag(occurred_at) over (
            partition by anonymous_id
            order by occurred_at, event_id
        ) as previous_occurred_at
    from sessionizable
),

flagged as (
    select
        *,
        case
            when previous_occurred_at is null then 1
            when {{ dbt.datediff('previous_occurred_at', 'occurred_at', 'millisecond') }} > {{ timeout_ms }} then 1
            else 0
        end as session_start_flag
    from with_previous
),

numbered as (
    select
        *,
        sum(session_start_flag) over (
            partition by anonymous_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

with_session_bounds as (
    select
        *,
        min(occurred_at) over (partition by anonymous_id, session_number) as session_started_at,
        row_number() over (
            partition by anonymous_id, session_number
            order by occurred_at, event_id
        ) as session_event_number
    from numbered
),

final as (
    select
        event_id,
        {{ dbt.hash(dbt.concat([
            "anonymous_id",
            "'|'",
            "cast(session_started_at as " ~ dbt.type_string() ~ ")"
        ])) }} as session_id,
        anonymous_id,
        session_number,
        session_event_number,
        session_started_at,
        session_start_flag = 1 as is_session_start,
        customer_id,
        event_type,
        occurred_at,
        page_url,
        referrer,
        utm_source,
        product_id,
        order_id,
        loaded_at
    from with_session_bounds
)

select * from final
