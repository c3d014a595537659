-- The app's tables and columns at load time (audit.source_tables, audit.source_columns) still are what the
-- extractor selects and staging reads. Each drift below leaves the build green on stale rows otherwise:
-- - a selected table gone from the source (dropped, or renamed): tap-postgres skips it without a word, and raw
--   keeps its last rows;
-- - a column dbt's source YAML declares (staging may read it) gone from the source (dropped, or renamed): raw keeps
--   the old column with its last values, and a renamed column arrives beside it;
-- - a column whose type is no longer of the kind raw holds;
-- - a primary key other than the one raw merges on.
-- Fails listing each table (and column) with the problem, what the source has instead, and the fix.

{%- set source_tables_relation = source('audit', 'source_tables') %}
{%- set source_columns_relation = source('audit', 'source_columns') %}

{#- The columns dbt declares for each app table (Singer's _sdc_ columns are the loader's, not the source's), by their
    name in the app: a pseudonym column (meta pseudonym_of, written by the extractor's stream maps) stands for the
    app's column or columns it replaces. -#}
{%- set declared = [] %}
{%- set raw_schemas = [] %}
{%- if execute %}
    {%- for node in graph.sources.values() if node.source_name == 'app' %}
        {%- if node.schema not in raw_schemas %}{% do raw_schemas.append(node.schema) %}{% endif %}
        {%- for column_name, column in node.columns.items() if not column_name.startswith('_sdc_') %}
            {%- set meta = column.get('config', {}).get('meta', {}) or column.get('meta', {}) %}
            {%- set replaced = meta.get('pseudonym_of', column_name) %}
            {%- for app_column in ([replaced] if replaced is string else replaced) %}
                {%- do declared.append((node.identifier, app_column)) %}
            {%- endfor %}
        {%- endfor %}
    {%- endfor %}
{%- endif %}
{%- set raw_schema = raw_schemas[0] if raw_schemas else 'raw_app' %}

with

source_tables as (
    select * from {{ source_tables_relation }}
),

source_columns as (
    select * from {{ source_columns_relation }}
),

declared_columns as (
    -- An empty first select gives the columns their types, also when dbt declares nothing (or while parsing).
    select
        cast(null as {{ dbt.type_string() }}) as table_name,
        cast(null as {{ dbt.type_string() }}) as column_name
    where false
    {%- for table_name, column_name in declared %}
        union all
        select
            '{{ table_name }}' as table_name,
            '{{ column_name }}' as column_name
    {%- endfor %}
),

raw_columns as (
    select
        table_name,
        column_name,
        data_type
    from information_schema.columns
    where table_schema = '{{ raw_schema }}'
),

raw_primary_keys as (
    select
        table_constraints.table_name,
        {{ dbt.listagg('key_column_usage.column_name', "', '", 'order by key_column_usage.column_name') }}
            as primary_key
    from information_schema.table_constraints
    inner join information_schema.key_column_usage
        on table_constraints.constraint_name = key_column_usage.constraint_name
        and table_constraints.table_schema = key_column_usage.table_schema
        and table_constraints.table_name = key_column_usage.table_name
    where
        table_constraints.table_schema = '{{ raw_schema }}'
        and table_constraints.constraint_type = 'PRIMARY KEY'
    group by 1
),

unselected_tables as (
    select {{ dbt.listagg('table_name', "', '", 'order by table_name') }} as table_names
    from source_tables
    where is_in_source and not is_selected
),

undeclared_columns as (
    select
        source_columns.table_name,
        {{ dbt.listagg('source_columns.column_name', "', '", 'order by source_columns.column_name') }}
            as column_names
    from source_columns
    where not source_columns.is_declared
    group by 1
),

tables_gone as (
    select
        source_tables.table_name,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'selected by the extractor (meltano/extractors.meltano.yml), gone from the source (dropped or renamed):'
        || ' nothing of it is extracted, raw keeps its last rows' as problem,
        'tables the extractor does not select: ' || coalesce(unselected_tables.table_names, 'none') as in_source,
        'if renamed, select the new name in meltano/extractors.meltano.yml and name it in'
        || ' models/staging/app/_app__sources.yml (identifier); if dropped on purpose, remove it from both and from'
        || ' staging' as fix
    from source_tables
    cross join unselected_tables
    where source_tables.is_selected and not source_tables.is_in_source
),

columns_gone as (
    select
        declared_columns.table_name,
        declared_columns.column_name,
        'declared in models/staging/app/_app__sources.yml (staging may read it), gone from the source (dropped or'
        || ' renamed): raw keeps its last values, never updated again' as problem,
        'columns not declared: ' || coalesce(undeclared_columns.column_names, 'none') as in_source,
        'if renamed, declare and read the new name in models/staging/app/, then re-extract the app without its'
        || ' bookmarks (`meltano run --full-refresh tap-postgres target-duckdb-app`) so that no row keeps the old'
        || ' value' as fix
    from declared_columns
    inner join source_tables
        on declared_columns.table_name = source_tables.table_name
    left join source_columns
        on declared_columns.table_name = source_columns.table_name
        and declared_columns.column_name = source_columns.column_name
    left join undeclared_columns
        on declared_columns.table_name = undeclared_columns.table_name
    where
        source_tables.is_selected
        and source_tables.is_in_source
        and source_columns.column_name is null
),

column_kinds as (
    select
        source_columns.table_name,
        source_columns.column_name,
        source_columns.data_type as source_type,
        raw_columns.data_type as raw_type,
        case
            when source_columns.data_type in ('smallint', 'integer', 'bigint') then 'integer'
            when source_columns.data_type in ('numeric', 'real', 'double precision') then 'number'
            when source_columns.data_type in ('text', 'character varying', 'character') then 'text'
            when source_columns.data_type like 'timestamp%' then 'timestamp'
            else source_columns.data_type
        end as source_kind,
        {{ column_type_kind('raw_columns.data_type') }} as raw_kind
    from source_columns
    inner join raw_columns
        on source_columns.table_name = raw_columns.table_name
        and source_columns.column_name = raw_columns.column_name
),

types_changed as (
    select
        table_name,
        column_name,
        'a ' || source_kind || ' in the source, a ' || raw_kind || ' in raw (' || raw_type || '): its type changed'
            as problem,
        'source type: ' || source_type as in_source,
        'change it back in the source, or migrate the raw column, staging and the mart contracts to the new type'
            as fix
    from column_kinds
    where source_kind != raw_kind
),

keys_changed as (
    select
        source_tables.table_name,
        cast(null as {{ dbt.type_string() }}) as column_name,
        'primary key changed: raw merges, and staging keeps the latest version, on ' || raw_primary_keys.primary_key
            as problem,
        'primary key: ' || coalesce(source_tables.primary_key, 'none') as in_source,
        'key staging (models/staging/app/) and raw on the new key: re-extract the table into a new raw table'
            as fix
    from source_tables
    inner join raw_primary_keys
        on source_tables.table_name = raw_primary_keys.table_name
    where
        source_tables.is_selected
        and source_tables.is_in_source
        and coalesce(source_tables.primary_key, '') != raw_primary_keys.primary_key
),

final as (
    select * from tables_gone
    union all
    select * from columns_gone
    union all
    select * from types_changed
    union all
    select * from keys_changed
)

select * from final
