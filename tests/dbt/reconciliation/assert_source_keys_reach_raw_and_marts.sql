-- Every row of every app table at load time reaches raw and its mart, and no mart keeps a row the app no
-- longer has (a hard delete not applied). Fails listing each entity, key and problem.
-- Payments have no payment-level mart: they are checked in staging here and by their totals in fct_orders.
-- A table whose keys the snapshot could not list (gone from the source, or keyed otherwise) is left out of "in the
-- mart, not in the source": assert_app_source_structure_unchanged names it instead of every one of its keys.
-- A customer erased on request (privacy.erasure_requests) is expected nowhere past the source, even while the app
-- still has them.

with

source_keys as (
    select * from {{ source('audit', 'source_keys') }}
),

source_tables as (
    select * from {{ source('audit', 'source_tables') }}
),

erasure_requests as (
    select * from {{ source('privacy', 'erasure_requests') }}
),

raw_keys as (
    select distinct
        'customers' as entity,
        cast(customer_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'customers') }}
    union all
    select distinct
        'suppliers' as entity,
        cast(supplier_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'suppliers') }}
    union all
    select distinct
        'products' as entity,
        cast(product_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'products') }}
    union all
    select distinct
        'orders' as entity,
        cast(order_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'orders') }}
    union all
    select distinct
        'order_items' as entity,
        cast(order_item_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'order_items') }}
    union all
    select distinct
        'payments' as entity,
        cast(payment_id as {{ dbt.type_bigint() }}) as key_id
    from {{ source('app', 'payments') }}
),

mart_keys as (
    select
        'customers' as entity,
        customer_id as key_id
    from {{ ref('dim_customers') }}
    union all
    select
        'suppliers' as entity,
        supplier_id as key_id
    from {{ ref('dim_suppliers') }}
    union all
    select
        'products' as entity,
        product_id as key_id
    from {{ ref('dim_products') }}
    union all
    select
        'orders' as entity,
        order_id as key_id
    from {{ ref('fct_orders') }}
    union all
    select
        'order_items' as entity,
        order_item_id as key_id
    from {{ ref('fct_order_items') }}
    union all
    select
        'payments' as entity,
        payment_id as key_id
    from {{ ref('stg_app__payments') }}
    where not is_deleted_in_source
),

expected_keys as (
    select source_keys.*
    from source_keys
    where not (
        source_keys.entity = 'customers'
        and source_keys.key_id in (
            select cast(erasure_requests.customer_id as {{ dbt.type_bigint() }}) from erasure_requests
        )
    )
),

missing_in_raw as (
    select
        expected_keys.entity,
        expected_keys.key_id,
        'in the source, missing in raw' as problem
    from expected_keys
    left join raw_keys
        on expected_keys.entity = raw_keys.entity and expected_keys.key_id = raw_keys.key_id
    where raw_keys.key_id is null
),

missing_in_marts as (
    select
        expected_keys.entity,
        expected_keys.key_id,
        'in the source, missing in the mart' as problem
    from expected_keys
    left join mart_keys
        on expected_keys.entity = mart_keys.entity and expected_keys.key_id = mart_keys.key_id
    where mart_keys.key_id is null
),

extra_in_marts as (
    select
        mart_keys.entity,
        mart_keys.key_id,
        'in the mart, not in the source' as problem
    from mart_keys
    inner join source_tables
        on mart_keys.entity = source_tables.table_name
    left join expected_keys
        on mart_keys.entity = expected_keys.entity and mart_keys.key_id = expected_keys.key_id
    where source_tables.is_snapshotted and expected_keys.key_id is null
),

final as (
    select * from missing_in_raw
    union all
    select * from missing_in_marts
    union all
    select * from extra_in_marts
)

select * from final
