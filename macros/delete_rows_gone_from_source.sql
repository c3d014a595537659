{#-
    Post-hook of an incremental model: a merge only adds and updates, so rows whose key is no longer in the model's
    upstream (deleted in the app) are deleted here. Returns an empty statement on a full build.
-#}
{% macro delete_rows_gone_from_source(upstream, key) %}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ key }} not in (select upstream_rows.{{ key }} from {{ upstream }} as upstream_rows)
    {%- else -%}
        select 1
    {%- endif -%}
{% endmacro %}
