{#-
    Returns a select of the lines retention moved out of raw_events.events (privacy/retention.py), with raw's
    columns. The archive is Parquet files, one a day, under the data folder, read in place by DuckDB: a data folder
    with no archive yet gives no rows instead of DuckDB's "no files found". Retention archives from DuckDB only for
    now: other warehouses have no archive to read, so they get no rows, with raw's columns.
-#}
{% macro events_archive(raw_events) -%}
    {{ return(adapter.dispatch('events_archive', 'tidewater')(raw_events)) }}
{%- endmacro %}

{% macro duckdb__events_archive(raw_events) -%}
    {#- This data folder's archive (TIDEWATER_DATA_DIR's, which profiles.yml's warehouse path follows too). -#}
    {%- set archive_files = env_var('TIDEWATER_DATA_DIR', 'data')
        ~ '/archive/raw_events/events/landed_date=*/*.parquet' -%}
    {%- set has_archive = false -%}
    {%- if execute -%}
        {%- set found = run_query("select count(*) from glob('" ~ archive_files ~ "')") -%}
        {%- set has_archive = found.columns[0].values()[0] > 0 -%}
    {%- endif -%}
    {% if has_archive %}
        -- Files written at different times may differ in columns (the loader adds one): matched by name. The
        -- day is in _source_file already; the folder's landed_date=<day> is not read as a column.
        select * from read_parquet('{{ archive_files }}', union_by_name = true, hive_partitioning = false)
    {% else %}
        -- No archive yet: no rows, with raw's columns.
        select * from {{ raw_events }}
        where false
    {% endif %}
{%- endmacro %}

{% macro default__events_archive(raw_events) -%}
    select * from {{ raw_events }}
    where false
{%- endmacro %}
