with

source as (
    select * from {{ source('app', 'suppliers') }}
),

latest as (
    {{ latest_row_per_key('source', 'supplier_id', tombstones_of='suppliers') }}
),

final as (
    select
        cast(supplier_id as {{ dbt.type_bigint() }}) as supplier_id,
        trim(supplier_name) as supplier_name,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
