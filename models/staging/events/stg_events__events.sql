{#- A table, not a view like the rest of staging: deduplicating and parsing every landed line is a window over
    all of them (1M rows at scale 1), read by about fifteen tests and by int_events__sessionized. Every line means
    raw's (hot) and the archive's: retention moves old days out of raw, not out of staging. -#}
{{ config(materialized='table') }}

{#- The columns of a landed line staging reads below (where the union cannot match them by name itself). -#}
{%- set raw_event_columns = [
    'event_id', 'event_type', 'occurred_at', 'anonymous_id', 'customer_id', 'page_url', 'referrer', 'utm_source',
    'user_agent', 'product_id', 'order_id', 'extra_fields', 'parse_error', 'raw_line', '_source_file',
    '_line_number', '_line_md5', '_sdc_extracted_at', '_sdc_batched_at', '_sdc_deleted_at'
] %}

with

hot as (
    select * from {{ source('events', 'events') }}
),

archived as (
    -- Lines retention moved out of raw (privacy/retention.py): without them a rebuild would lose those events.
    select * from {{ ref('stg_events__archived_events') }}
),

all_lines as (
    -- By name: the archive's files may predate a column raw has now (null there).
    {{ union_all_by_name(['hot', 'archived'], raw_event_columns) }}
),

source as (
    -- A line number that no longer holds an event (its file changed after it was loaded) is marked deleted.
    select * from all_lines
    where _sdc_deleted_at is null
),

keyed as (
    select
        *,
        coalesce(
            nullif(trim(event_id), ''),
            {{ dbt.concat([
                "'line:'",
                "_source_file",
                "':'",
                "cast(_line_number as " ~ dbt.type_string() ~ ")"
            ]) }}
        ) as event_key
    from source
),

ranked as (
    select
        *,
        row_number() over (
            partition by event_key
            order by _sdc_batched_at, _source_file, _line_number
        ) as arrival_rank,
        count(*) over (partition by event_key) as copy_count
    from keyed
),

first_arrived as (
    select * from ranked
    where arrival_rank = 1
),

parsed as (
    select
        event_key as event_id,
        lower(nullif(trim(event_type), '')) as event_type,
        {{ parse_event_timestamp('occurred_at') }} as occurred_at,
        occurred_at as occurred_at_text,
        nullif(trim(anonymous_id), '') as anonymous_id,
        {{ safe_cast('customer_id', dbt.type_bigint()) }} as customer_id,
        page_url,
        referrer,
        lower(nullif(trim(utm_source), '')) as utm_source,
        user_agent,
        {{ safe_cast('product_id', dbt.type_bigint()) }} as product_id,
        {{ safe_cast('order_id', dbt.type_bigint()) }} as order_id,
        extra_fields,
        parse_error is not null as is_malformed,
        parse_error,
        raw_line,
        _source_file as source_file,
        cast(_line_number as {{ dbt.type_bigint() }}) as source_line_number,
        -- The day the line arrived: the file's own day for a late delivery into an earlier day's folder
        -- (`<event day>/arrived-<day>.jsonl`), else the folder's day.
        case
            when {{ is_full_match(dbt.split_part('_source_file', "'/'", 2), 'arrived-[0-9-]{10}[.]jsonl') }}
                then {{ safe_cast("substr(" ~ dbt.split_part('_source_file', "'/'", 2) ~ ", 9, 10)", 'date') }}
            when {{ is_full_match(dbt.split_part('_source_file', "'/'", 1), '[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
                then {{ safe_cast(dbt.split_part('_source_file', "'/'", 1), 'date') }}
        end as landed_date,
        copy_count,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from first_arrived
),

final as (
    select
        event_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        occurred_at_text,
        anonymous_id,
        customer_id,
        page_url,
        referrer,
        utm_source,
        user_agent,
        product_id,
        order_id,
        extra_fields,
        {{ is_bot_user_agent('user_agent') }} as is_bot,
        is_malformed,
        not is_malformed and occurred_at is null as is_occurred_at_unparseable,
        coalesce(cast(occurred_at as date) < landed_date, false) as is_late_arrival,
        parse_error,
        raw_line,
        source_file,
        source_line_number,
        landed_date,
        copy_count,
        loaded_at
    from parsed
)

select * from final
