{{ config(severity='warn') }}

-- Refunds should never exceed what was captured for an order. Lists the orders where they do.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        order_id,
        order_status,
        paid_amount,
        refund_amount
    from orders
    where refund_amount > paid_amount
)

select * from final
