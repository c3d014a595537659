{{ config(severity='warn') }}

-- Event lines whose customer_id, product_id or order_id is not a whole number (e.g. "abc", "12.5", true):
-- staging keeps the event with that id null. Lists each line with its file, line, column and the text as written.

with

events as (
    select * from {{ source('events', 'events') }}
    where parse_error is null and _sdc_deleted_at is null
),

ids as (
    {% for column in ['customer_id', 'product_id', 'order_id'] %}
        select
            _source_file,
            _line_number,
            event_id,
            '{{ column }}' as id_column,
            {{ column }} as id_text
        from events
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        _source_file as source_file,
        _line_number as source_line_number,
        event_id,
        id_column,
        id_text
    from ids
    where
        id_text is not null
        and {{ safe_cast('id_text', dbt.type_bigint()) }} is null
)

select * from final
