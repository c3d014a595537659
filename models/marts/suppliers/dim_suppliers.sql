with

suppliers as (
    select * from {{ ref('stg_app__suppliers') }}
    where not is_deleted_in_source
),

products as (
    select * from {{ ref('dim_products') }}
),

product_counts as (
    select
        supplier_id,
        count(*) as product_count,
        count(case when is_active then 1 end) as active_product_count
    from products
    group by 1
),

final as (
    select
        suppliers.supplier_id,
        suppliers.supplier_name,
        cast(coalesce(product_counts.product_count, 0) as {{ dbt.type_bigint() }}) as product_count,
        cast(coalesce(product_counts.active_product_count, 0) as {{ dbt.type_bigint() }}) as active_product_count,
        suppliers.created_at
    from suppliers
    left join product_counts
        on suppliers.supplier_id = product_counts.supplier_id
)

select * from final
