{#-
    Returns a timestamp with time zone as the UTC timestamp without one (the loaders' _sdc_batched_at are UTC).
    Spark's timestamps are instants shown in the session's zone, UTC in profiles.yml: a plain cast.
-#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'tidewater')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast({{ expression }} at time zone 'UTC' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro spark__utc_timestamp(expression) -%}
    cast({{ expression }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
