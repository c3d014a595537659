{#-
    Returns `field` cast to `type`, or null when the value does not convert.
    dbt's own dbt.safe_cast renders a plain cast on DuckDB (it raises on bad input); this one renders try_cast.
    PostgreSQL has no try_cast: it checks the value's text with pg_input_is_valid (PostgreSQL 16 and later) and
    casts only what converts. Elsewhere the default is a plain cast, so callers guard the value with a pattern
    check first (see is_full_match), as the parse_* macros do.
    Note: dispatch searches the root project first, so these implementations also back dbt.safe_cast.
-#}
{% macro safe_cast(field, type) -%}
    {{ return(adapter.dispatch('safe_cast', 'tidewater')(field, type)) }}
{%- endmacro %}

{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro postgres__safe_cast(field, type) -%}
    case when pg_input_is_valid(cast({{ field }} as text), '{{ type }}') then cast({{ field }} as {{ type }}) end
{%- endmacro %}

{% macro spark__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}

{% macro default__safe_cast(field, type) -%}
    cast({{ field }} as {{ type }})
{%- endmacro %}
