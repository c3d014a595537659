{#-
    Contract constraints on Spark: Parquet tables (the only format without Delta or Iceberg jars) take no NOT NULL or
    CHECK, so they are applied on Delta and Iceberg tables only. The contracts' names and types are still enforced,
    and the keys' not_null and unique tests still run (a non-key NOT NULL is not checked on Parquet). Dispatch
    searches the root project first, so this replaces dbt-spark's.
-#}
{% macro spark__persist_constraints(relation, model) %}
    {%- if config.get('file_format', 'parquet') in ['delta', 'iceberg'] -%}
        {% do alter_table_add_constraints(relation, model.constraints) %}
        {% do alter_column_set_constraints(relation, model.columns) %}
    {%- endif -%}
{% endmacro %}
