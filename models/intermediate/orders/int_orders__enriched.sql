{#- A table, not a view: nine tests, fct_orders, fct_order_items and dim_customers read it, and as a view each of
    them joined orders, customers, line economics and payments again (about 2 s per test at scale 1). -#}
{{ config(materialized='table') }}

with

orders as (
    select * from {{ ref('stg_app__orders') }}
    where not is_deleted_in_source
),

customers as (
    select * from {{ ref('stg_app__customers') }}
    where not is_deleted_in_source
),

order_items as (
    select * from {{ ref('int_order_items__economics') }}
),

payments as (
    select * from {{ ref('int_payments__pivoted_to_orders') }}
),

order_totals as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_count,
        sum(gross_amount) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as order_revenue
    from order_items
    group by 1
),

customer_sequence as (
    select
        order_id,
        -- A bigint on every engine (Spark's row_number is an int): fct_orders' contract says bigint.
        cast(row_number() over (
            partition by customer_id
            order by ordered_at, order_id
        ) as bigint) as customer_order_number
    from orders
    where
        customer_id is not null
        and order_status != 'cancelled'
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.customer_id is null as is_customer_missing,
        customers.acquisition_channel as acquisition_channel_code,
        orders.order_status,
        orders.order_status = 'cancelled' as is_cancelled,
        orders.order_status = 'returned' as is_returned,
        orders.currency_code,
        orders.ordered_at,
        cast(orders.ordered_at as date) as order_date,
        cast(coalesce(order_totals.line_count, 0) as {{ dbt.type_bigint() }}) as line_count,
        cast(coalesce(order_totals.item_count, 0) as {{ dbt.type_bigint() }}) as item_count,
        cast(coalesce(order_totals.gross_amount, 0) as decimal(18, 2)) as gross_amount,
        cast(coalesce(order_totals.discount_amount, 0) as decimal(18, 2)) as discount_amount,
        cast(coalesce(order_totals.order_revenue, 0) as decimal(18, 2)) as order_revenue,
        cast(coalesce(payments.paid_amount, 0) as decimal(18, 2)) as paid_amount,
        cast(coalesce(payments.refund_amount, 0) as decimal(18, 2)) as refund_amount,
        cast(coalesce(payments.net_paid_amount, 0) as decimal(18, 2)) as net_paid_amount,
        payments.first_paid_at,
        payments.last_refunded_at,
        customer_sequence.customer_order_number,
        coalesce(customer_sequence.customer_order_number = 1, false) as is_first_order,
        orders.created_at,
        orders.updated_at,
        orders.loaded_at
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    left join order_totals
        on orders.order_id = order_totals.order_id
    left join payments
        on orders.order_id = payments.order_id
    left join customer_sequence
        on orders.order_id = customer_sequence.order_id
)

select * from final
