{#-
    Singer delivers at least once, so a raw app table can hold several versions of one row (an older version, or the
    same one delivered again). Returns a select of the latest version of each key: by updated_at, then by load time.
    The extra column version_rank is always 1; staging models list the columns they keep.

    With tombstones_of (the app table's name), the row also gets tombstoned_at: when the app hard-deleted it, from
    the tombstones its delete trigger writes to deleted_records (null while the row exists). Nothing is dropped here.
-#}
{% macro latest_row_per_key(relation, key, tombstones_of=none) %}
    select
        versions.*{% if tombstones_of %},
        tombstones.deleted_at as tombstoned_at{% endif %}
    from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by updated_at desc, _sdc_batched_at desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    {%- if tombstones_of %}
    left join (
        select
            record_id,
            max(deleted_at) as deleted_at
        from {{ source('app', 'deleted_records') }}
        where table_name = '{{ tombstones_of }}'
        group by record_id
    ) as tombstones
        on versions.{{ key }} = tombstones.record_id
    {%- endif %}
    where versions.version_rank = 1
{% endmacro %}
