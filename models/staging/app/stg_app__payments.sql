with

source as (
    select * from {{ source('app', 'payments') }}
),

latest as (
    {{ latest_row_per_key('source', 'payment_id', tombstones_of='payments') }}
),

final as (
    select
        cast(payment_id as {{ dbt.type_bigint() }}) as payment_id,
        cast(order_id as {{ dbt.type_bigint() }}) as order_id,
        lower(trim(payment_type)) as payment_type,
        lower(trim(payment_method)) as payment_method,
        {{ money_amount('amount') }} as amount,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
