-- Every app row at load time has the content raw's latest version of it holds: the extractor reads only rows whose
-- updated_at is at or after its bookmark, so a row changed with an updated_at that moved backwards (clock skew), or
-- without moving it at all, is never extracted and raw (then staging and the marts) keeps its old values with every
-- other test green. The snapshot fingerprints each source row in PostgreSQL (audit.source_rows: the md5 of the
-- columns dbt's source YAML declares, as text); this hashes raw's latest version of each key the same way
-- (macros/source_row_fingerprint.sql, over the columns audit.source_columns marks compared) and fails listing each
-- entity and key whose content differs, with both updated_at, the table's bookmark and the fix. Keys missing from
-- raw are assert_source_keys_reach_raw_and_marts's; a column or table gone, assert_app_source_structure_unchanged's.

{%- set source_rows_relation = source('audit', 'source_rows') %}
{%- set source_columns_relation = source('audit', 'source_columns') %}
{%- set source_tables_relation = source('audit', 'source_tables') %}
{%- set fix = "re-extract the app without its bookmarks (`tidewater pg start`, then `meltano run --full-refresh"
    ~ " tap-postgres target-duckdb-app`), then `tidewater reconcile` and `dbt build`" %}

{#- The app tables the snapshot fingerprinted, each with its raw relation, key and compared columns. -#}
{%- set entities = [] %}
{%- if execute %}
    {%- set raw_relations = {} %}
    {%- for node in graph.sources.values() if node.source_name == 'app' %}
        {%- do raw_relations.update({node.identifier: api.Relation.create(
            database=node.database, schema=node.schema, identifier=node.identifier
        )}) %}
    {%- endfor %}
    {%- set snapshotted = run_query(
        "select table_name from " ~ source_tables_relation ~ " where is_snapshotted order by 1"
    ).columns[0].values() %}
    {%- set columns = run_query(
        "select table_name, column_name, text_form, numeric_scale, is_primary_key, is_compared from "
        ~ source_columns_relation ~ " order by table_name, column_position"
    ) %}
    {%- for table_name in snapshotted if table_name in raw_relations %}
        {%- set compared = [] %}
        {%- set keys = [] %}
        {%- for row in columns.rows if row['table_name'] == table_name %}
            {%- if row['is_compared'] %}
                {%- do compared.append({
                    'name': row['column_name'],
                    'text_form': row['text_form'],
                    'numeric_scale': row['numeric_scale'],
                }) %}
            {%- endif %}
            {%- if row['is_primary_key'] %}{% do keys.append(row['column_name']) %}{% endif %}
        {%- endfor %}
        {%- if compared and keys | length == 1 %}
            {%- do entities.append({
                'name': table_name,
                'relation': raw_relations[table_name],
                'key': keys[0],
                'columns': compared,
            }) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}

with

source_rows as (
    select * from {{ source_rows_relation }}
),

raw_rows as (
    {%- for entity in entities %}
        select
            '{{ entity.name }}' as entity,
            cast({{ adapter.quote(entity.key) }} as {{ dbt.type_bigint() }}) as key_id,
            cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
            {{ source_row_fingerprint(entity.columns) }} as row_fingerprint
        from ({{ latest_row_per_key(entity.relation, adapter.quote(entity.key)) }}) as latest
        {% if not loop.last %}union all{% endif %}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as entity,
            cast(null as {{ dbt.type_bigint() }}) as key_id,
            cast(null as {{ dbt.type_timestamp() }}) as updated_at,
            cast(null as {{ dbt.type_string() }}) as row_fingerprint
        where false
    {%- endfor %}
),

bookmarks as (
    -- What the extractor has read up to: the newest updated_at raw holds for each table.
    select
        entity,
        max(updated_at) as bookmark
    from raw_rows
    group by 1
),

differing as (
    select
        source_rows.entity,
        source_rows.key_id,
        source_rows.updated_at as source_updated_at,
        raw_rows.updated_at as raw_updated_at,
        bookmarks.bookmark
    from source_rows
    inner join raw_rows
        on source_rows.entity = raw_rows.entity and source_rows.key_id = raw_rows.key_id
    inner join bookmarks
        on source_rows.entity = bookmarks.entity
    where source_rows.row_fingerprint != raw_rows.row_fingerprint
),

final as (
    select
        entity,
        key_id,
        source_updated_at,
        raw_updated_at,
        bookmark,
        case
            when source_updated_at is null
                then 'changed in the source, which has no updated_at to extract it by: never extracted'
            when source_updated_at < raw_updated_at
                then 'changed in the source, but its updated_at moved backwards (clock skew): never extracted'
            when source_updated_at = raw_updated_at
                then 'changed in the source without moving updated_at: never extracted'
            when source_updated_at <= bookmark
                then 'changed in the source with an updated_at before the bookmark (clock skew): never extracted'
            else 'changed in the source after the load read it: not extracted yet'
        end as problem,
        '{{ fix }}' as fix
    from differing
)

select * from final
