{{ config(severity='warn') }}

-- Landing-zone lines that were not valid JSON. They are kept in stg_events__events (is_malformed) but carry
-- no event. Lists each with its file, line and the parser's message. Expected: a few per run.

with

events as (
    select * from {{ ref('stg_events__events') }}
),

final as (
    select
        source_file,
        source_line_number,
        parse_error,
        raw_line
    from events
    where is_malformed
)

select * from final
