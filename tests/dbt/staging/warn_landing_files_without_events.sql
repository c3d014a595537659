{{ config(severity='warn') }}

-- Landing files that gave no row at all: empty, or only blank lines (a failed export, a file still being
-- written, a file emptied after it was loaded). Nothing of them is in raw_events.events (or only rows marked
-- deleted), so only the tap's file list shows them. Lists the files; files the tap does not read are
-- warn_landing_files_rejected's. Files of days retention deleted are expected empty (is_retained_landing_file).

{#- Raw's lines and the archive's (union_all_by_name lists the columns read here where it must). -#}
{%- set raw_and_archive = [source('events', 'events'), ref('stg_events__archived_events')] %}

with

landing_files as (
    select * from {{ source('events', 'landing_files') }}
    where {{ is_retained_landing_file('_source_file') }}
),

events as (
    -- Raw and the archive retention moved old days to (privacy/retention.py).
    {{ union_all_by_name(raw_and_archive, ['_source_file'], where='_sdc_deleted_at is null') }}
),

loaded_files as (
    select distinct _source_file
    from events
),

final as (
    select
        landing_files._source_file as source_file,
        landing_files.size_bytes,
        landing_files.line_count,
        landing_files.blank_line_count
    from landing_files
    left join loaded_files
        on landing_files._source_file = loaded_files._source_file
    where
        loaded_files._source_file is null
        and landing_files.rejected_reason is null
)

select * from final
