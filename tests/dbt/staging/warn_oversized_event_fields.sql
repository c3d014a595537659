{{ config(severity='warn') }}

-- Event fields longer than 8,192 characters (a page_url or user_agent is normally under 2,000): a tracking bug or
-- junk. They load whole (nothing is cut) but make every query on the events heavier. Lists the line, the column
-- and its length, not the value.

with

events as (
    select * from {{ source('events', 'events') }}
    where _sdc_deleted_at is null
),

fields as (
    {% for column in ['event_id', 'event_type', 'occurred_at', 'anonymous_id', 'customer_id', 'page_url',
                      'referrer', 'utm_source', 'user_agent', 'product_id', 'order_id', 'extra_fields',
                      'raw_line'] %}
        select
            _source_file,
            _line_number,
            event_id,
            '{{ column }}' as field_name,
            length({{ column }}) as field_length
        from events
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        _source_file as source_file,
        _line_number as source_line_number,
        event_id,
        field_name,
        field_length
    from fields
    where field_length > 8192
)

select * from final
