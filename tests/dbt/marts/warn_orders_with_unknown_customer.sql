{{ config(severity='warn') }}

-- Orders naming a customer the warehouse has never seen: the customer was hard-deleted in the app (on request)
-- before it was extracted, or the id is wrong. The order is kept in fct_orders with its customer_id, but has no
-- channel and no row in dim_customers. Lists the order and the customer id it names.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

final as (
    select
        orders.order_id,
        orders.customer_id,
        orders.ordered_at,
        orders.order_revenue
    from orders
    left join customers
        on orders.customer_id = customers.customer_id
    where
        orders.customer_id is not null
        and customers.customer_id is null
)

select * from final
