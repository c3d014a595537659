{#-
    Returns the md5 fingerprint of a raw row's content, the same characters orchestrate/app_rows.py hashes in
    PostgreSQL for the source row (SourceColumn.as_text): each column as text in a form both sides agree on (raw
    holds numerics as double and timestamps as UTC without time zone), null as chr(30), chr(31) between values.
    columns: a list of {name, text_form, numeric_scale}, as audit.source_columns records the compared ones; the
    text forms are integer, decimal (to numeric_scale places), text, boolean, timestamp (to the microsecond), date.
    Timestamps and dates are written by each warehouse's own format function (fingerprint_datetime_text).
-#}
{% macro source_row_fingerprint(columns) %}
    {%- set string_type = var('string_type')[target.type] -%}
    {%- set texts = [] -%}
    {%- for column in columns -%}
        {%- set name = adapter.quote(column['name']) -%}
        {%- set form = column['text_form'] -%}
        {%- if form == 'integer' -%}
            {%- set text = 'cast(cast(' ~ name ~ ' as bigint) as ' ~ string_type ~ ')' -%}
        {%- elif form == 'decimal' -%}
            {%- set decimal = 'cast(' ~ name ~ ' as decimal(38, ' ~ column['numeric_scale'] ~ '))' -%}
            {%- set text = 'cast(' ~ decimal ~ ' as ' ~ string_type ~ ')' -%}
        {%- elif form == 'boolean' -%}
            {%- set text = 'cast(cast(' ~ name ~ ' as boolean) as ' ~ string_type ~ ')' -%}
        {%- elif form == 'timestamp' -%}
            {%- set text = fingerprint_datetime_text("cast(" ~ name ~ " as timestamp)", form) -%}
        {%- elif form == 'date' -%}
            {%- set text = fingerprint_datetime_text("cast(" ~ name ~ " as date)", form) -%}
        {%- else -%}
            {%- set text = 'cast(' ~ name ~ ' as ' ~ string_type ~ ')' -%}
        {%- endif -%}
        {%- do texts.append('coalesce(' ~ text ~ ', chr(30))') -%}
    {%- endfor -%}
    md5(concat_ws(chr(31), {{ texts | join(', ') }}))
{%- endmacro %}

{#-
    Returns a timestamp (form 'timestamp': 2026-03-01 12:34:56.789000) or a date (form 'date': 2026-03-01) as text,
    byte for byte what orchestrate/app_rows.py's to_char writes in the app's PostgreSQL. A warehouse without an
    implementation here stops the build: a format that is close but not the same would fail every row.
-#}
{% macro fingerprint_datetime_text(expression, form) -%}
    {{ return(adapter.dispatch('fingerprint_datetime_text', 'tidewater')(expression, form)) }}
{%- endmacro %}

{% macro duckdb__fingerprint_datetime_text(expression, form) -%}
    {%- if form == 'timestamp' -%}
        strftime({{ expression }}, '%Y-%m-%d %H:%M:%S.%f')
    {%- else -%}
        strftime({{ expression }}, '%Y-%m-%d')
    {%- endif -%}
{%- endmacro %}

{% macro postgres__fingerprint_datetime_text(expression, form) -%}
    {%- if form == 'timestamp' -%}
        to_char({{ expression }}, 'YYYY-MM-DD HH24:MI:SS.US')
    {%- else -%}
        to_char({{ expression }}, 'YYYY-MM-DD')
    {%- endif -%}
{%- endmacro %}

{% macro spark__fingerprint_datetime_text(expression, form) -%}
    {%- if form == 'timestamp' -%}
        date_format({{ expression }}, 'yyyy-MM-dd HH:mm:ss.SSSSSS')
    {%- else -%}
        date_format({{ expression }}, 'yyyy-MM-dd')
    {%- endif -%}
{%- endmacro %}

{% macro default__fingerprint_datetime_text(expression, form) -%}
    {{ exceptions.raise_compiler_error(
        "fingerprint_datetime_text has no " ~ target.type ~ " implementation: write the format that gives the"
        ~ " characters orchestrate/app_rows.py writes (macros/source_row_fingerprint.sql)."
    ) }}
{%- endmacro %}
