{#-
    Generic test on a source table: dbt's source freshness, checked inside `dbt build` instead of by a separate
    `dbt source freshness` (a whole dbt invocation on every run). It reads the same settings, the table's
    `loaded_at_field` and `freshness` (warn_after, error_after) in the source's YAML (macros/source_freshness.sql), so
    `dbt source freshness` by hand agrees. When the newest load is too old it returns one row carrying the level
    reached (1: past warn_after, 2: past error_after), and the test warns or fails by that level. Load times are UTC
    without time zone, as dbt's freshness compares them.
-#}
{% test is_fresh(model) %}
{{- config(fail_calc="coalesce(max(staleness), 0)", warn_if=">= 1", error_if=">= 2") }}

    with

    newest as (
        select
            max({{ source_loaded_at_field(model) }}) as max_loaded_at,
            cast({{ dbt.current_timestamp() }} as timestamp) as checked_at
        from {{ model }}
    ),

    final as (
        select
            max_loaded_at,
            checked_at,
            {{ source_freshness_level(model, "max_loaded_at", "checked_at") }} as staleness
        from newest
    )

    select * from final
    where staleness > 0

{% endtest %}
