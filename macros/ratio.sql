{#-
    Returns numerator / denominator as a double, or null when the denominator is 0 or null. The numerator is
    cast first so integer counts divide as real numbers everywhere (PostgreSQL divides integers as integers).
    Mirrors how MetricFlow computes ratio metrics, so metric marts and `mf query` agree.
-#}
{% macro ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('ratio', 'tidewater')(numerator, denominator)) }}
{%- endmacro %}

{% macro spark__ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif(cast({{ denominator }} as double), 0)
{%- endmacro %}

{% macro default__ratio(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif(cast({{ denominator }} as double precision), 0)
{%- endmacro %}
