{{ config(severity='warn') }}

-- Landing files that start with a UTF-8 byte order mark (written by a Windows tool). The tap strips it and reads
-- the lines normally; the warning says the file's writer is not the usual one. Lists the files.

with

landing_files as (
    select * from {{ source('events', 'landing_files') }}
),

final as (
    select
        _source_file as source_file,
        size_bytes,
        line_count
    from landing_files
    where has_utf8_bom
)

select * from final
