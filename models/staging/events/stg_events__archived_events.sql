{#- The archive of raw_events.events (privacy/retention.py): the lines retention moved out of raw (events_archive
    says where they are read from). A view built on every run, so it reads this data folder's archive, and a new
    data folder, with no archive yet, gets a view with no rows and raw's columns. -#}
{%- set raw_events = source('events', 'events') %}

with

archived as (
    {{ events_archive(raw_events) }}
),

raw_events as (
    select * from {{ raw_events }}
),

hot_files as (
    select distinct _source_file from raw_events
),

final as (
    -- A file back in raw (delivered again after it was archived, so loaded whole again) is raw's now: its archived
    -- copy is the older version, left out until retention rewrites that day's archive.
    select
        event_id,
        event_type,
        occurred_at,
        anonymous_id,
        customer_id,
        page_url,
        referrer,
        utm_source,
        user_agent,
        product_id,
        order_id,
        extra_fields,
        parse_error,
        raw_line,
        _source_file,
        _line_number,
        _line_md5,
        _sdc_extracted_at,
        _sdc_batched_at,
        _sdc_deleted_at
    from archived
    where _source_file not in (select hot_files._source_file from hot_files)
)

select * from final
