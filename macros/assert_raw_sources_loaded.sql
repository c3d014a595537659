{#-
    Run before dbt builds, runs or tests models: stop with one clear message when the warehouse holds no raw data
    yet (a new or wrong warehouse file), instead of one "table does not exist" error per model.
-#}
{% macro assert_raw_sources_loaded() %}
    {% if execute and flags.WHICH in ('build', 'run', 'test') %}
        {% set missing = [] %}
        {% for source_node in graph.sources.values() %}
            {% set relation = adapter.get_relation(
                database=source_node.database,
                schema=source_node.schema,
                identifier=source_node.identifier
            ) %}
            {% if relation is none %}
                {% do missing.append(source_node.schema ~ '.' ~ source_node.identifier) %}
            {% endif %}
        {% endfor %}
        {% if missing %}
            {{ exceptions.raise_compiler_error(
                "The warehouse " ~ target.get("path", target.database) ~ " has no raw data for " ~ (missing | join(', '))
                ~ ". Load the sources first: `make run`, or `meltano run el` with PostgreSQL started."
            ) }}
        {% endif %}
    {% endif %}
{% endmacro %}
