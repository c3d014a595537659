{#-
    The lower bound of an incremental build: the newest load time already in the model, minus a lookback of
    var('incremental_lookback_hours') in case rows were loaded out of order. Rows loaded after it are rebuilt.

    A model built by an older version of its SQL may lack the column: the build then stops naming the model and
    the way out (a full refresh), instead of the database's own "column not found" from deep in the compiled SQL.
-#}
{% macro incremental_watermark(column) %}
    {%- if execute -%}
        {%- set built_columns = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
        {%- if column | lower not in built_columns -%}
            {{- exceptions.raise_compiler_error(
                this ~ " has no column " ~ column ~ ": it was built by an older version of " ~ model.name
                ~ ". Rebuild it once: `tidewater run --full-refresh` (or `dbt build --full-refresh --select "
                ~ model.name ~ "`)."
            ) -}}
        {%- endif -%}
    {%- endif -%}
    {{- dbt.dateadd(
        'hour',
        -1 * var('incremental_lookback_hours'),
        '(select max(' ~ column ~ ') from ' ~ this ~ ')'
    ) -}}
{% endmacro %}
