{#- A table, not a view like the rest of intermediate: the self-join that finds each event's session start is read by
    the features and by seven tests, which would each redo it as a view. -#}
{{ config(materialized='table') }}

{#- A customer's logged-in web events (bots, malformed lines and unparseable times are out, as the sessionization
    leaves them), with the day each ARRIVED in the landing zone: what a point-in-time feature may count from. Late
    events reach the landing zone days after they happened, so a session known on one day can gain an earlier
    event later. A customer's sessions are runs of their events on one browser without a gap over the session
    timeout, formed only from the events that had arrived: an event starts a session from its arrival day until the
    day an event shortly before it (within the timeout, the ordering the sessionization uses) arrives, if ever.
    Counting the events that start a session on a day counts that day's sessions without re-sessionizing per day. -#}

{%- set timeout_ms = var('session_timeout_minutes') * 60 * 1000 -%}

with

sessionized as (
    select * from {{ ref('int_events__sessionized') }}
    where customer_id is not null
),

landed as (
    select * from {{ ref('stg_events__events') }}
),

customer_events as (
    select
        sessionized.event_id,
        sessionized.customer_id,
        sessionized.anonymous_id,
        sessionized.event_type,
        sessionized.occurred_at,
        landed.landed_date
    from sessionized
    inner join landed
        on sessionized.event_id = landed.event_id
    -- An event whose file is not in a day folder cannot be placed by arrival: it counts nowhere.
    where landed.landed_date is not null
),

preceded as (
    select
        later.event_id,
        min(earlier.landed_date) as first_preceded_on
    from customer_events as later
    inner join customer_events as earlier
        on later.customer_id = earlier.customer_id
        and later.anonymous_id = earlier.anonymous_id
        and later.occurred_at >= earlier.occurred_at
        and {{ dbt.dateadd('millisecond', -timeout_ms, 'later.occurred_at') }} <= earlier.occurred_at
        and (later.occurred_at > earlier.occurred_at or later.event_id > earlier.event_id)
    group by 1
),

final as (
    select
        customer_events.event_id,
        customer_events.customer_id,
        customer_events.anonymous_id,
        customer_events.event_type,
        customer_events.occurred_at,
        customer_events.landed_date,
        -- Arrived no later than the event itself: the event never starts a session.
        coalesce(preceded.first_preceded_on > customer_events.landed_date, true) as is_ever_session_start,
        preceded.first_preceded_on as session_start_until_date
    from customer_events
    left join preceded
        on customer_events.event_id = preceded.event_id
)

select * from final
