{{ config(severity='warn') }}

-- Nothing lost between a landing file and the raw table: every non-blank line of every file should be a row of
-- raw_events.events. Lists the files where the row count and the line count (as the tap last counted them) differ.

with

landing_files as (
    select * from {{ source('events', 'landing_files') }}
),

events as (
    select * from {{ source('events', 'events') }}
),

loaded as (
    select
        _source_file,
        count(*) as loaded_rows
    from events
    group by 1
),

final as (
    select
        landing_files._source_file as source_file,
        landing_files.line_count,
        coalesce(loaded.loaded_rows, 0) as loaded_rows
    from landing_files
    left join loaded
        on landing_files._source_file = loaded._source_file
    where landing_files.line_count != coalesce(loaded.loaded_rows, 0)
)

select * from final
