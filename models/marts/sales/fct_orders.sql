with

orders as (
    select * from {{ ref('int_orders__enriched') }}
),

final as (
    select
        order_id,
        customer_id,
        is_customer_missing,
        acquisition_channel_code,
        order_status,
        is_cancelled,
        is_returned,
        currency_code,
        ordered_at,
        order_date,
        line_count,
        item_count,
        gross_amount,
        discount_amount,
        order_revenue,
        paid_amount,
        refund_amount,
        net_paid_amount,
        first_paid_at,
        last_refunded_at,
        customer_order_number,
        is_first_order,
        created_at,
        updated_at
    from orders
)

select * from final
