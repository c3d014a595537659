-- Every order's revenue equals the sum of its lines' net amounts (an order without lines has 0).
-- Returns the orders where it does not, with both figures.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

line_totals as (
    select
        order_id,
        sum(net_amount) as line_revenue
    from order_items
    group by 1
),

final as (
    select
        orders.order_id,
        orders.order_revenue,
        coalesce(line_totals.line_revenue, 0) as line_revenue
    from orders
    left join line_totals
        on orders.order_id = line_totals.order_id
    where orders.order_revenue != coalesce(line_totals.line_revenue, 0)
)

select * from final
