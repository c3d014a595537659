{{ config(severity='warn') }}

-- Order lines with a quantity of zero or less: they are kept in fct_order_items and make the line's amounts zero
-- or negative, lowering the order's revenue. Lists the line, its order and the quantity.

with

order_items as (
    select * from {{ ref('fct_order_items') }}
),

final as (
    select
        order_item_id,
        order_id,
        product_id,
        quantity,
        net_amount
    from order_items
    where quantity <= 0
)

select * from final
