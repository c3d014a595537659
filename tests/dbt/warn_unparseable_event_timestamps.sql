{{ config(severity='warn') }}

-- Events whose occurred_at is in none of the known formats: they cannot be placed in time and are left
-- out of sessions. Lists each with its text, file and line.

with

events as (
    select * from {{ ref('stg_events__events') }}
),

final as (
    select
        event_id,
        occurred_at_text,
        source_file,
        source_line_number
    from events
    where is_occurred_at_unparseable
)

select * from final
