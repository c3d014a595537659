{#-
    dbt.listagg on Spark, in the order asked: dbt-spark's own drops `order by` (collect_list keeps no order), and the
    reconciliation compares an md5 of each file's lines in line order. Sorts (key, value) pairs, then joins the
    values. Dispatch searches the root project first, so this replaces dbt-spark's.
-#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if order_by_clause -%}
        {%- set parsed = modules.re.match(
            '^\\s*order\\s+by\\s+(.+?)(\\s+(asc|desc))?\\s*$', order_by_clause, modules.re.I
        ) -%}
        {%- set sorted = 'array_sort(collect_list(struct(' ~ parsed.group(1) ~ ' as k, ' ~ measure ~ ' as v)))' -%}
        {%- if (parsed.group(3) or '') | lower == 'desc' -%}
            {%- set sorted = 'reverse(' ~ sorted ~ ')' -%}
        {%- endif -%}
        array_join(transform({{ sorted }}, x -> x.v), {{ delimiter_text }})
    {%- else -%}
        array_join(collect_list({{ measure }}), {{ delimiter_text }})
    {%- endif -%}
{%- endmacro %}
