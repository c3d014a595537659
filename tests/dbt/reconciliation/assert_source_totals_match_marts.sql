-- Money at the source equals money in the marts, to the cent: order lines (fct_order_items and fct_orders),
-- captured payments and refunds (fct_orders). Fails listing each measure with both figures.

with

source_totals as (
    select * from {{ source('audit', 'source_totals') }}
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

mart_totals as (
    select
        'order_lines_net_amount' as measure,
        'fct_order_items.net_amount' as mart_column,
        coalesce(sum(net_amount), 0) as mart_amount
    from order_items
    union all
    select
        'order_lines_net_amount' as measure,
        'fct_orders.order_revenue' as mart_column,
        coalesce(sum(order_revenue), 0) as mart_amount
    from orders
    union all
    select
        'payments_amount' as measure,
        'fct_orders.paid_amount' as mart_column,
        coalesce(sum(paid_amount), 0) as mart_amount
    from orders
    union all
    select
        'refunds_amount' as measure,
        'fct_orders.refund_amount' as mart_column,
        coalesce(sum(refund_amount), 0) as mart_amount
    from orders
),

final as (
    select
        mart_totals.measure,
        mart_totals.mart_column,
        source_totals.amount as source_amount,
        mart_totals.mart_amount
    from mart_totals
    left join source_totals
        on mart_totals.measure = source_totals.measure
    where
        source_totals.amount is null
        or abs(cast(source_totals.amount as decimal(18, 2)) - cast(mart_totals.mart_amount as decimal(18, 2))) >= 0.01
)

select * from final
