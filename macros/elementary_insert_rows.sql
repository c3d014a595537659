{#-
    Elementary's on-run-end hook writes every run result, test result and sample row with its `insert_rows`, which
    renders each value through several macros and looks the column's type up again for every value: most of the
    hook's time, on every build. This is the same rendering (Elementary's own macros for booleans, timestamps, the
    created_at column and string escaping) with each column's type worked out once per call. dbt finds it through
    the `dispatch` search order in dbt_project.yml; anything unusual (no rows, no columns, a row longer than
    `query_max_size`) goes to Elementary's own macro.
-#}
{% macro duckdb__insert_rows(table_relation, rows, should_commit=false, chunk_size=5000, on_query_exceed=none) %}
    {%- set fallback = elementary.default__insert_rows -%}
    {%- if not rows or not table_relation -%}
        {{ return(fallback(table_relation, rows, should_commit, chunk_size, on_query_exceed)) }}
    {%- endif -%}
    {%- set columns = adapter.get_columns_in_relation(table_relation) -%}
    {%- if not columns -%}
        {{ return(fallback(table_relation, rows, should_commit, chunk_size, on_query_exceed)) }}
    {%- endif -%}

    {%- set now = elementary.edr_current_timestamp() -%}
    {%- set true_sql = elementary.edr_boolean_literal(true) | trim -%}
    {%- set false_sql = elementary.edr_boolean_literal(false) | trim -%}
    {%- set names = [] -%}
    {%- set kinds = [] -%}
    {%- for column in columns -%}
        {%- do names.append(column.name) -%}
        {%- do kinds.append(elementary.normalize_data_type(column.dtype)) -%}
    {%- endfor -%}

    {%- set rendered_rows = [] -%}
    {%- for row in rows -%}
        {%- set values = [] -%}
        {%- for name in names -%}
            {%- set kind = kinds[loop.index0] -%}
            {%- set value = row.get(name) -%}
            {%- if value is none -%}{%- set value = row.get(name.lower()) -%}{%- endif -%}
            {%- if value is none -%}{%- set value = row.get(name.upper()) -%}{%- endif -%}
            {%- if name.lower() == "created_at" -%}
                {%- do values.append(now) -%}
            {%- elif value is not defined or value is none -%}
                {%- do values.append("null") -%}
            {%- elif value is boolean -%}
                {%- do values.append(true_sql if value else false_sql) -%}
            {%- elif value is number -%}
                {%- do values.append(value | string) -%}
            {%- elif value is string and kind == "timestamp" -%}
                {%- do values.append(elementary.edr_cast_as_timestamp(elementary.edr_datetime_to_sql(value))) -%}
            {%- elif value is string -%}
                {%- do values.append("'" ~ (value | replace("'", "''")) ~ "'") -%}
            {%- elif value is mapping or value is sequence -%}
                {%- do values.append("'" ~ (tojson(value) | replace("'", "''")) ~ "'") -%}
            {%- else -%}
                {%- do values.append("null") -%}
            {%- endif -%}
        {%- endfor -%}
        {%- do rendered_rows.append("(" ~ values | join(",") ~ ")") -%}
    {%- endfor -%}

    {%- set query_max_size = elementary.get_config_var("query_max_size") -%}
    {%- set base_query -%}
        insert into {{ table_relation }}
        ({%- for name in names -%}{{ elementary.escape_reserved_keywords(name) }}{{ "," if not loop.last }}{%- endfor -%})
        values
    {%- endset -%}
    {%- for row_sql in rendered_rows -%}
        {%- if (base_query | length) + (row_sql | length) > query_max_size -%}
            {{ return(fallback(table_relation, rows, should_commit, chunk_size, on_query_exceed)) }}
        {%- endif -%}
    {%- endfor -%}

    {{ elementary.file_log("Inserting {} rows to table {}".format(rows | length, table_relation)) }}
    {%- set chunk = namespace(rows=[], size=base_query | length) -%}
    {%- for row_sql in rendered_rows -%}
        {%- if chunk.rows and (chunk.size + (row_sql | length) + 1 > query_max_size or chunk.rows | length >= chunk_size) -%}
            {%- do elementary.run_query(base_query ~ chunk.rows | join(",")) -%}
            {%- set chunk.rows = [] -%}
            {%- set chunk.size = base_query | length -%}
        {%- endif -%}
        {%- do chunk.rows.append(row_sql) -%}
        {%- set chunk.size = chunk.size + (row_sql | length) + 1 -%}
    {%- endfor -%}
    {%- do elementary.run_query(base_query ~ chunk.rows | join(",")) -%}
    {%- if should_commit -%}
        {%- do adapter.commit() -%}
    {%- endif -%}
{% endmacro %}
