{#- The days on which each customer's order changed what could be known about it: placed, cancelled, first refunded.
    The app keeps an order's latest status and the time of its last change (updated_at), not its history: a
    cancelled order was cancelled on its updated_at (nothing changes a cancelled order afterwards); any other status
    is not a cancellation. Order lines are written at placement and never change, so the order's revenue is the
    amount known when it was placed. -#}

with

orders as (
    select * from {{ ref('int_orders__enriched') }}
    where customer_id is not null
),

payments as (
    select * from {{ ref('stg_app__payments') }}
    where not is_deleted_in_source
),

refunds as (
    select
        order_id,
        min(created_at) as first_refunded_at
    from payments
    where payment_type = 'refund'
    group by 1
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_date,
        orders.order_revenue,
        case when orders.is_cancelled then cast(orders.updated_at as date) end as cancelled_date,
        cast(refunds.first_refunded_at as date) as refunded_date
    from orders
    left join refunds
        on orders.order_id = refunds.order_id
)

select * from final
