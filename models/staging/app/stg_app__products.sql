with

source as (
    select * from {{ source('app', 'products') }}
),

latest as (
    {{ latest_row_per_key('source', 'product_id', tombstones_of='products') }}
),

final as (
    select
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        trim(sku) as sku,
        trim(product_name) as product_name,
        lower(nullif(trim(category_code), '')) as category_code,
        {{ money_amount('unit_price') }} as unit_price,
        cast(is_active as {{ dbt.type_boolean() }}) as is_active,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        cast(supplier_id as {{ dbt.type_bigint() }}) as supplier_id,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
