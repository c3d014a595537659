{{ config(severity='warn') }}

-- The same event_id on lines that say different things (another type, time, visitor, page...). Identical copies
-- are expected and collapse quietly; differing ones collapse to the earliest arrival (is_kept) and the others'
-- content is only in the raw table. Lists every copy of such an event with its file and line.

with

events as (
    select * from {{ source('events', 'events') }}
    where
        parse_error is null
        and nullif(trim(event_id), '') is not null
        and _sdc_deleted_at is null
),

fingerprinted as (
    select
        *,
        {{ dbt.hash(dbt.concat([
            "coalesce(event_type, '~')", "'|'",
            "coalesce(occurred_at, '~')", "'|'",
            "coalesce(anonymous_id, '~')", "'|'",
            "coalesce(customer_id, '~')", "'|'",
            "coalesce(page_url, '~')", "'|'",
            "coalesce(referrer, '~')", "'|'",
            "coalesce(utm_source, '~')", "'|'",
            "coalesce(user_agent, '~')", "'|'",
            "coalesce(product_id, '~')", "'|'",
            "coalesce(order_id, '~')", "'|'",
            "coalesce(extra_fields, '~')"
        ])) }} as content_hash
    from events
),

versions as (
    select
        trim(event_id) as event_id,
        count(distinct content_hash) as distinct_versions
    from fingerprinted
    group by 1
    having count(distinct content_hash) > 1
),

ranked as (
    select
        fingerprinted.*,
        versions.distinct_versions,
        row_number() over (
            partition by versions.event_id
            order by fingerprinted._sdc_batched_at, fingerprinted._source_file, fingerprinted._line_number
        ) as arrival_rank
    from fingerprinted
    inner join versions
        on trim(fingerprinted.event_id) = versions.event_id
),

final as (
    select
        trim(event_id) as event_id,
        _source_file as source_file,
        _line_number as source_line_number,
        arrival_rank = 1 as is_kept,
        distinct_versions,
        event_type,
        occurred_at as occurred_at_text,
        content_hash
    from ranked
)

select * from final
