{#-
    Returns dbt.datediff(first_date, second_date, datepart) as a bigint, for a contract column that declares one.
    DuckDB's datediff is a bigint already (rendered as is); PostgreSQL's is date_part arithmetic, a double
    precision, which the contract refuses.
-#}
{% macro datediff_bigint(first_date, second_date, datepart) -%}
    {{ return(adapter.dispatch('datediff_bigint', 'tidewater')(first_date, second_date, datepart)) }}
{%- endmacro %}

{% macro duckdb__datediff_bigint(first_date, second_date, datepart) -%}
    {{ dbt.datediff(first_date, second_date, datepart) }}
{%- endmacro %}

{% macro default__datediff_bigint(first_date, second_date, datepart) -%}
    cast({{ dbt.datediff(first_date, second_date, datepart) }} as {{ dbt.type_bigint() }})
{%- endmacro %}
