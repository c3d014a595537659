{#-
    Returns the md5 fingerprint of a raw row's content, the same characters orchestrate/app_rows.py hashes in
    PostgreSQL for the source row (SourceColumn.as_text): each column as text in a form both sides agree on (raw
    holds numerics as double and timestamps as UTC without time zone), null as chr(30), chr(31) between values.
    columns: a list of {name, text_form, numeric_scale}, as audit.source_columns records the compared ones; the
    text forms are integer, decimal (to numeric_scale places), text, boolean, timestamp (to the microsecond), date.
    strftime is DuckDB's: another warehouse would need its own formats here.
-#}
{% macro source_row_fingerprint(columns) %}
    {%- set texts = [] -%}
    {%- for column in columns -%}
        {%- set name = adapter.quote(column['name']) -%}
        {%- set form = column['text_form'] -%}
        {%- if form == 'integer' -%}
            {%- set text = 'cast(cast(' ~ name ~ ' as bigint) as varchar)' -%}
        {%- elif form == 'decimal' -%}
            {%- set text = 'cast(cast(' ~ name ~ ' as decimal(38, ' ~ column['numeric_scale'] ~ ')) as varchar)' -%}
        {%- elif form == 'boolean' -%}
            {%- set text = 'cast(cast(' ~ name ~ ' as boolean) as varchar)' -%}
        {%- elif form == 'timestamp' -%}
            {%- set text = "strftime(cast(" ~ name ~ " as timestamp), '%Y-%m-%d %H:%M:%S.%f')" -%}
        {%- elif form == 'date' -%}
            {%- set text = "strftime(cast(" ~ name ~ " as date), '%Y-%m-%d')" -%}
        {%- else -%}
            {%- set text = 'cast(' ~ name ~ ' as varchar)' -%}
        {%- endif -%}
        {%- do texts.append('coalesce(' ~ text ~ ', chr(30))') -%}
    {%- endfor -%}
    md5(concat_ws(chr(31), {{ texts | join(', ') }}))
{%- endmacro %}
