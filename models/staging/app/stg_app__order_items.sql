with

source as (
    select * from {{ source('app', 'order_items') }}
),

latest as (
    {{ latest_row_per_key('source', 'order_item_id', tombstones_of='order_items') }}
),

final as (
    select
        cast(order_item_id as {{ dbt.type_bigint() }}) as order_item_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(product_id as {{ dbt.type_bigint() }}) as product_id,
        cast(quantity as {{ dbt.type_bigint() }}) as quantity,
        {{ money_amount('unit_price') }} as unit_price,
        {{ money_amount('discount_amount') }} as discount_amount,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
