with

source as (
    select * from {{ source('app', 'orders') }}
),

latest as (
    {{ latest_row_per_key('source', 'order_id', tombstones_of='orders') }}
),

final as (
    select
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        lower(trim(order_status)) as order_status,
        upper(trim(currency)) as currency_code,
        cast(ordered_at as {{ dbt.type_timestamp() }}) as ordered_at,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
