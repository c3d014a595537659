{#-
    Returns true when the whole of `expression` matches the regular expression `pattern` (null when the
    expression is null). Keep patterns portable: no backslashes (Spark string literals would eat them);
    write [0-9] and [.] instead of \d and \.
-#}
{% macro is_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('is_full_match', 'tidewater')(expression, pattern)) }}
{%- endmacro %}

{% macro duckdb__is_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, '{{ pattern }}')
{%- endmacro %}

{% macro spark__is_full_match(expression, pattern) -%}
    ({{ expression }} rlike '^({{ pattern }})$')
{%- endmacro %}

{% macro default__is_full_match(expression, pattern) -%}
    ({{ expression }} ~ '^({{ pattern }})$')
{%- endmacro %}
