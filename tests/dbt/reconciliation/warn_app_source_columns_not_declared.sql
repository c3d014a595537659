{{ config(severity='warn') }}

-- A column added to a selected app table: the extractor loads it into raw (Elementary's schema_changes flags that
-- once), but no model reads it and the row fingerprints leave it out until models/staging/app/_app__sources.yml
-- declares it. A renamed column shows here under its new name. Lists each table and column with its source type.

with

source_columns as (
    select * from {{ source('audit', 'source_columns') }}
),

source_tables as (
    select * from {{ source('audit', 'source_tables') }}
),

final as (
    select
        source_columns.table_name,
        source_columns.column_name,
        source_columns.data_type as source_type,
        'in the source and loaded into raw, not declared in models/staging/app/_app__sources.yml: read by nothing'
            as problem
    from source_columns
    inner join source_tables
        on source_columns.table_name = source_tables.table_name
    where source_tables.is_selected and not source_columns.is_declared
)

select * from final
