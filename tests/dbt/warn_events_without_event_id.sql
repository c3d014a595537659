{{ config(severity='warn') }}

-- Event lines that parsed but carry no event_id (null, missing or blank). Staging keeps each as its own event,
-- keyed `line:<file>:<line>`, so a copy of it can not be recognized as a duplicate. Lists file and line.

with

events as (
    select * from {{ source('events', 'events') }}
),

final as (
    select
        _source_file as source_file,
        _line_number as source_line_number,
        event_type,
        occurred_at as occurred_at_text
    from events
    where
        parse_error is null
        and nullif(trim(event_id), '') is null
)

select * from final
