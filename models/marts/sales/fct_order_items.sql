with

order_items as (
    select * from {{ ref('int_order_items__economics') }}
),

orders as (
    select * from {{ ref('int_orders__enriched') }}
),

final as (
    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        orders.customer_id,
        orders.order_status,
        orders.is_cancelled,
        orders.ordered_at,
        orders.order_date,
        order_items.quantity,
        order_items.unit_price,
        order_items.gross_amount,
        order_items.discount_amount,
        order_items.net_amount
    from order_items
    left join orders
        on order_items.order_id = orders.order_id
)

select * from final
