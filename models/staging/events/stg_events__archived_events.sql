{#- The archive of raw_events.events (privacy/retention.py): Parquet files, one a day, under the data folder, read in
    place. A view built on every run, so it reads this data folder's archive (its path is TIDEWATER_DATA_DIR's, which
    profiles.yml's warehouse path follows too), and so a new data folder, with no archive yet, gets a view with no
    rows and raw's columns instead of DuckDB's "no files found". -#}
{%- set raw_events = source('events', 'events') -%}
{%- set archive_files = env_var('TIDEWATER_DATA_DIR', 'data') ~ '/archive/raw_events/events/landed_date=*/*.parquet' -%}
{%- set has_archive = false -%}
{%- if execute -%}
    {%- set has_archive = run_query("select count(*) from glob('" ~ archive_files ~ "')").columns[0].values()[0] > 0 -%}
{%- endif %}

with

archived as (
    {% if has_archive %}
        -- Files written at different times may differ in columns (the loader adds one): matched by name. The
        -- day is in _source_file already; the folder's landed_date=<day> is not read as a column.
        select * from read_parquet('{{ archive_files }}', union_by_name = true, hive_partitioning = false)
    {% else %}
        -- No archive yet: no rows, with raw's columns.
        select * from {{ raw_events }}
        where false
    {% endif %}
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
