{#- Returns the UTC timestamp (without time zone) `epoch_ms` milliseconds after 1970-01-01 00:00:00. -#}
{% macro timestamp_from_epoch_ms(epoch_ms) -%}
    {{ return(adapter.dispatch('timestamp_from_epoch_ms', 'tidewater')(epoch_ms)) }}
{%- endmacro %}

{% macro duckdb__timestamp_from_epoch_ms(epoch_ms) -%}
    epoch_ms(cast({{ epoch_ms }} as bigint))
{%- endmacro %}

{% macro postgres__timestamp_from_epoch_ms(epoch_ms) -%}
    (to_timestamp({{ epoch_ms }} / 1000.0) at time zone 'UTC')
{%- endmacro %}

{% macro spark__timestamp_from_epoch_ms(epoch_ms) -%}
    timestamp_millis(cast({{ epoch_ms }} as bigint))
{%- endmacro %}

{% macro default__timestamp_from_epoch_ms(epoch_ms) -%}
    {{ dbt.dateadd('millisecond', epoch_ms, "cast('1970-01-01 00:00:00' as " ~ dbt.type_timestamp() ~ ")") }}
{%- endmacro %}
