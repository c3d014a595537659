{#-
    Singer delivers at least once, so a raw app table can hold several versions of one row (an older version, or the
    same one delivered again). Returns a select of the latest version of each key: by updated_at, then by load time.
    The extra column version_rank is always 1; staging models list the columns they keep.
-#}
{% macro latest_row_per_key(relation, key) %}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key }}
                order by updated_at desc, _sdc_batched_at desc
            ) as version_rank
        from {{ relation }}
    ) as versions
    where version_rank = 1
{% endmacro %}
