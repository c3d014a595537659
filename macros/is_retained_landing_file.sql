{#-
    Returns true when a landing file's day (the folder of its path, `2026-03-01/events.jsonl`) is still inside the
    retention policy: not older than the latest delete horizon retention applied (audit.retention_runs; business day
    minus delete_after_days). A file of an older day was deleted from raw and the archive on purpose
    (privacy/retention.py), so reconciliation expects it nowhere. True for a file outside any day folder (retention
    never moves it) and before retention first ran.
-#}
{% macro is_retained_landing_file(source_file) -%}
    {%- set runs = adapter.get_relation(database=target.database, schema='audit', identifier='retention_runs')
        if execute else none -%}
    {%- if runs -%}
        coalesce({{ safe_cast(dbt.split_part(source_file, "'/'", 1), 'date') }} >= (
            select max(business_day - delete_after_days)
            from {{ runs }}
            where table_name = 'raw_events.events'
        ), true)
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}
