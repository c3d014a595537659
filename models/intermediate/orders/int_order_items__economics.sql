with

order_items as (
    select * from {{ ref('stg_app__order_items') }}
    where not is_deleted_in_source
),

final as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        unit_price,
        cast(quantity * unit_price as decimal(18, 2)) as gross_amount,
        cast(coalesce(discount_amount, 0) as decimal(18, 2)) as discount_amount,
        cast(quantity * unit_price - coalesce(discount_amount, 0) as decimal(18, 2)) as net_amount,
        created_at,
        updated_at,
        loaded_at
    from order_items
)

select * from final
