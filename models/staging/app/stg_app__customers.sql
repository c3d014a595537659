with

source as (
    select * from {{ source('app', 'customers') }}
),

latest as (
    {{ latest_row_per_key('source', 'customer_id', tombstones_of='customers') }}
),

final as (
    select
        cast(customer_id as {{ dbt.type_bigint() }}) as customer_id,
        -- Pseudonyms already (the extractor keys them): the plain values never reach the warehouse.
        email_hash,
        phone_hash is not null as has_phone,
        nullif(trim(city), '') as city,
        nullif(trim(postal_code), '') as postal_code,
        upper(nullif(trim(country_code), '')) as country_code,
        lower(nullif(trim(acquisition_channel), '')) as acquisition_channel,
        cast(created_at as {{ dbt.type_timestamp() }}) as created_at,
        cast(updated_at as {{ dbt.type_timestamp() }}) as updated_at,
        deleted_at is not null as is_deleted,
        cast(deleted_at as {{ dbt.type_timestamp() }}) as deleted_at,
        lower(trim(marketing_consent)) as marketing_consent,
        cast(marketing_consent_updated_at as {{ dbt.type_timestamp() }}) as marketing_consent_updated_at,
        coalesce(_sdc_deleted_at is not null or tombstoned_at is not null, false) as is_deleted_in_source,
        coalesce(tombstoned_at, {{ safe_cast('_sdc_deleted_at', dbt.type_timestamp()) }}) as deleted_in_source_at,
        cast(_sdc_batched_at as {{ dbt.type_timestamp() }}) as loaded_at
    from latest
)

select * from final
