{#-
    Returns the materialization of the incremental marts: incremental, except on Spark without Delta or Iceberg,
    where Parquet tables take neither merge nor delete (delete+insert), and insert_overwrite without partitions
    would keep only the new rows. There the mart is rebuilt whole each run (the same rows, more time). With Delta:
    `file_format: delta` and `incremental_strategy: merge` (docs/scale-out.md).
-#}
{% macro incremental_or_table() -%}
    {{ return('table' if target.type == 'spark' else 'incremental') }}
{%- endmacro %}
