with

products as (
    select * from {{ ref('stg_app__products') }}
    where not is_deleted_in_source
),

categories as (
    select * from {{ ref('product_categories') }}
),

suppliers as (
    select * from {{ ref('stg_app__suppliers') }}
),

final as (
    select
        products.product_id,
        products.sku,
        products.product_name,
        products.category_code,
        categories.category_name,
        categories.department,
        products.unit_price,
        products.is_active,
        products.supplier_id,
        suppliers.supplier_name,
        products.created_at,
        products.updated_at
    from products
    left join categories
        on products.category_code = categories.category_code
    left join suppliers
        on products.supplier_id = suppliers.supplier_id
)

select * from final
