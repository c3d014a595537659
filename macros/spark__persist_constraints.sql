{#-
    Contract constraints on Spark: Parquet tables (the only format without Delta or Iceberg jars) take no NOT NULL or
    CHECK, so they are applied on Delta and Iceberg tables only. On Parquet, the columns a contract declares
    `not_null` are checked once the table is written, in one query: a null stops the build at that model, as the
    constraint would on DuckDB and PostgreSQL (those columns have no not_null test of their own). Dispatch searches
    the root project first, so this replaces dbt-spark's.
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- set contract = config.get('contract') -%}
    {%- if not (contract and contract.enforced) -%}
        {{ return('') }}
    {%- endif -%}
    {%- if config.get('file_format', 'parquet') in ['delta', 'iceberg'] -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
    {%- else -%}
        {% do check_not_null_constraints(relation, model) %}
    {%- endif -%}
{% endmacro %}

{% macro check_not_null_constraints(relation, model) %}
    {%- set columns = [] -%}
    {%- for name, column in model.columns.items() -%}
        {%- if column.constraints | selectattr('type', 'equalto', 'not_null') | list -%}
            {%- do columns.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not columns -%}
        {{ return('') }}
    {%- endif -%}
    {%- set counts -%}
        select
            {%- for name in columns %}
            sum(case when {{ name }} is null then 1 else 0 end) as {{ name }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ relation }}
    {%- endset -%}
    {%- set row = run_query(counts).rows[0] -%}
    {%- set broken = [] -%}
    {%- for name in columns -%}
        {%- if row[loop.index0] -%}
            {%- do broken.append(name ~ ' (' ~ row[loop.index0] ~ ' rows)') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if broken -%}
        {{ exceptions.raise_compiler_error(
            model.name ~ " has nulls where its contract says not_null: " ~ broken | join(', ')
            ~ " (Spark's Parquet tables take no NOT NULL constraint: checked once the table is written)"
        ) }}
    {%- endif -%}
{% endmacro %}
