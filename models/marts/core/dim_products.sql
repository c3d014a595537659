with

products as (
    select * from {{ ref('stg_app__products') }}
    where not is_deleted_in_source
),

categories as (
    select * from {{ ref('product_categories') }}
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
        products.created_at,
        products.updated_at
    from products
    left join categories
        on products.category_code = categories.category_code
)

select * from final
