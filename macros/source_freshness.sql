{#-
    The freshness settings of the source table behind `relation`, as its YAML declares them for `dbt source
    freshness`: its `loaded_at_field`, and a case expression giving the level `max_loaded_at` reached at
    `checked_at` (2: past error_after, 1: past warn_after, 0: fresh). Used by the is_fresh test.
-#}
{% macro source_freshness_node(relation) -%}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.schema == relation.schema and node.identifier == relation.identifier -%}
                {%- do found.update(node) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if not found.get("loaded_at_field") or not found.get("freshness") -%}
            {{ exceptions.raise_compiler_error(
                "is_fresh: " ~ relation ~ " needs a loaded_at_field and a freshness in its source's YAML"
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}

{% macro source_loaded_at_field(relation) -%}
    {{ return(source_freshness_node(relation).get("loaded_at_field") or "null") }}
{%- endmacro %}

{% macro source_freshness_level(relation, max_loaded_at, checked_at) -%}
    {%- set thresholds = source_freshness_node(relation).get("freshness") or {} -%}
    case
    {%- for level, name in [(2, "error_after"), (1, "warn_after")] -%}
        {%- set after = thresholds.get(name) or {} -%}
        {%- if after.get("count") %}
        when {{ max_loaded_at }} is null
            or {{ max_loaded_at }} < {{ dbt.dateadd(after.period, -after.count, checked_at) }} then {{ level }}
        {%- endif -%}
    {%- endfor %}
        else 0
    end
{%- endmacro %}
