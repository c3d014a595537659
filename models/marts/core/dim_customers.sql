with

customers as (
    select * from {{ ref('stg_app__customers') }}
    where not is_deleted_in_source
),

orders as (
    select * from {{ ref('int_orders__enriched') }}
),

countries as (
    select * from {{ ref('countries') }}
),

channels as (
    select * from {{ ref('channels') }}
),

order_history as (
    select
        customer_id,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        count(*) as lifetime_orders,
        sum(order_revenue) as lifetime_revenue
    from orders
    where
        customer_id is not null
        and not is_cancelled
    group by 1
),

cancellations as (
    select
        customer_id,
        count(*) as cancelled_orders
    from orders
    where
        customer_id is not null
        and is_cancelled
    group by 1
),

final as (
    select
        customers.customer_id,
        customers.country_code,
        countries.country_name,
        countries.region,
        customers.acquisition_channel as acquisition_channel_code,
        channels.channel_name as acquisition_channel_name,
        coalesce(channels.is_paid, false) as is_paid_acquisition,
        customers.has_phone,
        customers.created_at,
        cast(customers.created_at as date) as signup_date,
        order_history.first_order_at,
        cast(order_history.first_order_at as date) as first_order_date,
        cast(order_history.last_order_at as date) as last_order_date,
        coalesce(order_history.lifetime_orders, 0) as lifetime_orders,
        cast(coalesce(order_history.lifetime_revenue, 0) as decimal(18, 2)) as lifetime_revenue,
        coalesce(cancellations.cancelled_orders, 0) as cancelled_orders,
        order_history.customer_id is not null as has_ordered,
        customers.is_deleted,
        customers.deleted_at,
        customers.updated_at,
        -- Granted only: withheld and withdrawn both mean no marketing.
        coalesce(customers.marketing_consent = 'granted', false) as has_marketing_consent,
        customers.marketing_consent_updated_at
    from customers
    left join countries
        on customers.country_code = countries.country_code
    left join channels
        on customers.acquisition_channel = channels.channel_code
    left join order_history
        on customers.customer_id = order_history.customer_id
    left join cancellations
        on customers.customer_id = cancellations.customer_id
)

select * from final
