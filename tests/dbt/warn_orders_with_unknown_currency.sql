{{ config(severity='warn') }}

-- Orders in a currency other than the ones the shop sells in (USD). They are kept in fct_orders, but every amount
-- is summed as USD in revenue and the metrics. Lists the order and its currency as written.

with

orders as (
    select * from {{ ref('fct_orders') }}
),

final as (
    select
        order_id,
        currency_code,
        order_status,
        order_revenue
    from orders
    where
        currency_code is null
        or currency_code not in ('USD')
)

select * from final
