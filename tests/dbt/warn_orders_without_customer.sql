{{ config(severity='warn') }}

-- Orders that arrived without a customer. They are kept in fct_orders (is_customer_missing) and count in
-- revenue, but belong to no customer, channel or acquisition. Lists their ids. Expected: a few per run.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        order_id,
        ordered_at,
        order_status,
        order_revenue
    from orders
    where is_customer_missing
)

select * from final
