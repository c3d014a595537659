{#-
    Returns the schema a node builds into: the custom schema name as is (staging, intermediate, marts, metrics,
    reference), not dbt's default "<target schema>_<custom>". Nodes without one use the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
