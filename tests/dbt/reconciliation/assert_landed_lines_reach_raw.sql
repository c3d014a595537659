-- Every non-blank line of every landing-zone file at load time is one row of raw_events.events, once: the tap
-- keeps bad lines too. Fails listing each file with its line count and the rows raw holds for it.

with

landed_files as (
    select * from {{ source('audit', 'landed_files') }}
),

raw_events as (
    select * from {{ source('events', 'events') }}
),

raw_files as (
    select
        _source_file as source_file,
        count(distinct _line_number) as raw_lines,
        count(*) as raw_rows
    from raw_events
    group by 1
),

final as (
    select
        coalesce(landed_files.source_file, raw_files.source_file) as source_file,
        landed_files.line_count as landed_lines,
        coalesce(raw_files.raw_lines, 0) as raw_lines,
        coalesce(raw_files.raw_rows, 0) as raw_rows
    from landed_files
    full outer join raw_files
        on landed_files.source_file = raw_files.source_file
    where
        landed_files.source_file is null
        or coalesce(raw_files.raw_lines, 0) != landed_files.line_count
        or coalesce(raw_files.raw_rows, 0) != landed_files.line_count
)

select * from final
