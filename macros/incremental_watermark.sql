{#-
    The lower bound of an incremental build: the newest load time already in the model, minus a lookback of
    var('incremental_lookback_hours') in case rows were loaded out of order. Rows loaded after it are rebuilt.
-#}
{% macro incremental_watermark(column) %}
    {{- dbt.dateadd(
        'hour',
        -1 * var('incremental_lookback_hours'),
        '(select max(' ~ column ~ ') from ' ~ this ~ ')'
    ) -}}
{% endmacro %}
