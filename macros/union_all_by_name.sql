{#-
    Returns the rows of every relation (or CTE) in `relations`, one after the other, matching columns by name: a
    relation may lack a column another has (an archive file older than a column raw has now), null there. DuckDB
    matches them itself (union all by name) and keeps every column; elsewhere each select lists `columns`, the ones
    the caller reads, so all the selects agree. `where` (optional) filters each relation's rows.
-#}
{% macro union_all_by_name(relations, columns, where=none) -%}
    {{ return(adapter.dispatch('union_all_by_name', 'tidewater')(relations, columns, where)) }}
{%- endmacro %}

{% macro duckdb__union_all_by_name(relations, columns, where) -%}
    {%- set selects = [] -%}
    {%- for relation in relations -%}
        {%- do selects.append('select * from ' ~ relation ~ ('\n    where ' ~ where if where else '')) -%}
    {%- endfor -%}
    {{ selects | join('\n    union all by name\n    ') }}
{%- endmacro %}

{% macro default__union_all_by_name(relations, columns, where) -%}
    {%- set selects = [] -%}
    {%- for relation in relations -%}
        {%- do selects.append(
            'select\n        ' ~ columns | join(',\n        ') ~ '\n    from ' ~ relation
            ~ ('\n    where ' ~ where if where else '')
        ) -%}
    {%- endfor -%}
    {{ selects | join('\n    union all\n    ') }}
{%- endmacro %}
