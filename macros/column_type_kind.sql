{#-
    Returns the kind of a column type as the warehouse's information_schema.columns spells it (`data_type`):
    integer, number, text or timestamp, else the type's name in lowercase (boolean, date). Reconciliation compares
    it with the kind of the app's column, so a type change in the source is caught whatever the warehouse calls it.
-#}
{% macro column_type_kind(data_type) -%}
    {{ return(adapter.dispatch('column_type_kind', 'tidewater')(data_type)) }}
{%- endmacro %}

{% macro duckdb__column_type_kind(data_type) -%}
    case
            when upper({{ data_type }}) in ('TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'HUGEINT') then 'integer'
            when upper({{ data_type }}) in ('DOUBLE', 'FLOAT', 'REAL') then 'number'
            when upper({{ data_type }}) like 'DECIMAL%' then 'number'
            when upper({{ data_type }}) = 'VARCHAR' then 'text'
            when upper({{ data_type }}) like 'TIMESTAMP%' then 'timestamp'
            else lower({{ data_type }})
        end
{%- endmacro %}

{#- The SQL standard's spellings, which PostgreSQL's information_schema uses. -#}
{% macro default__column_type_kind(data_type) -%}
    case
            when lower({{ data_type }}) in ('smallint', 'integer', 'bigint') then 'integer'
            when lower({{ data_type }}) in ('numeric', 'real', 'double precision') then 'number'
            when lower({{ data_type }}) in ('text', 'character varying', 'character') then 'text'
            when lower({{ data_type }}) like 'timestamp%' then 'timestamp'
            else lower({{ data_type }})
        end
{%- endmacro %}
