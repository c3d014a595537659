{#-
    Run before dbt builds, runs or tests models: stop with one clear message when the warehouse holds no raw data
    yet (a new or wrong warehouse file), instead of one "table does not exist" error per model; and when a source
    column changed type (see assert_no_source_type_change).
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
                ~ ". Load the sources first: `make run` (or, after `meltano run el` with PostgreSQL started,"
                ~ " `tidewater reconcile` for the audit snapshot)."
            ) }}
        {% endif %}
        {{ assert_no_source_type_change() }}
    {% endif %}
{% endmacro %}

{#-
    When a source column changes type, target-duckdb renames the old column to <column>_<YYYYMMDD>_<HHMM> and adds a
    new one of the new type: old rows keep their values only in the renamed column and staging would silently read
    nulls for them. Stop the build naming the table, the column and both types.
-#}
{% macro assert_no_source_type_change() %}
    {% set schemas = [] %}
    {% for source_node in graph.sources.values() %}
        {% if source_node.schema.startswith('raw_') and source_node.schema not in schemas %}
            {% do schemas.append(source_node.schema) %}
        {% endif %}
    {% endfor %}
    {% set columns = raw_source_columns(schemas) %}
    {% set types = {} %}
    {% for row in columns %}
        {% do types.update({row[0] ~ '.' ~ row[1] ~ '.' ~ row[2]: row[3]}) %}
    {% endfor %}
    {% set changed = [] %}
    {% for row in columns %}
        {% set match = modules.re.match('^(.+)_[0-9]{8}_[0-9]{4}$', row[2]) %}
        {% if match %}
            {% set current = row[0] ~ '.' ~ row[1] ~ '.' ~ match.group(1) %}
            {% if current in types %}
                {% do changed.append(
                    current ~ " is now " ~ types[current] ~ " (was " ~ row[3] ~ "; the loader moved the old values to "
                    ~ row[2] ~ ")"
                ) %}
            {% endif %}
        {% endif %}
    {% endfor %}
    {% if changed %}
        {{ exceptions.raise_compiler_error(
            "A source column changed type: " ~ (changed | join('; ')) ~ ". Staging casts the old type and would read"
            ~ " nulls for the rows loaded before the change. Fix the type in the source, or migrate the raw column"
            ~ " and update staging and its contract; then run again."
        ) }}
    {% endif %}
{% endmacro %}

{#-
    Returns (schema, table, column, type) of every column of the raw tables in `schemas`: from information_schema
    where the warehouse has one; Spark has none, so each source table's columns are asked of its catalog.
-#}
{% macro raw_source_columns(schemas) %}
    {{ return(adapter.dispatch('raw_source_columns', 'tidewater')(schemas)) }}
{% endmacro %}

{% macro default__raw_source_columns(schemas) %}
    {% set columns = run_query(
        "select table_schema, table_name, column_name, data_type from information_schema.columns"
        ~ " where table_schema in ('" ~ (schemas | join("', '")) ~ "')"
    ) %}
    {{ return(columns.rows) }}
{% endmacro %}

{% macro spark__raw_source_columns(schemas) %}
    {% set rows = [] %}
    {% for source_node in graph.sources.values() if source_node.schema in schemas %}
        {% set relation = adapter.get_relation(
            database=source_node.database,
            schema=source_node.schema,
            identifier=source_node.identifier
        ) %}
        {% for column in adapter.get_columns_in_relation(relation) %}
            {% do rows.append([source_node.schema, source_node.identifier, column.name, column.dtype]) %}
        {% endfor %}
    {% endfor %}
    {{ return(rows) }}
{% endmacro %}
