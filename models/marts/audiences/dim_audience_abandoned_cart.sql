{#- Abandoned carts: customers with an add_to_cart event that ARRIVED in the landing zone on the last complete
    business day (the last 24 hours: its day folder; a late event counts when it arrives, as the features count it)
    and no purchase after it - neither a purchase event that had arrived by the end of that day nor an order the app
    recorded by then placed after the latest such cart add. Logged-in events only (bots, malformed lines and
    unparseable times are out, as the sessionization leaves them). -#}

with

sessionized as (
    select * from {{ ref('int_events__sessionized') }}
    where customer_id is not null
),

landed as (
    select * from {{ ref('stg_events__events') }}
),

features as (
    select * from {{ ref('fct_customer_features_daily') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where customer_id is not null
),

as_of as (
    select max(as_of_date) as as_of_date
    from features
),

customer_events as (
    select
        sessionized.customer_id,
        sessionized.event_type,
        sessionized.occurred_at,
        landed.landed_date
    from sessionized
    inner join landed
        on sessionized.event_id = landed.event_id
    inner join as_of
        on landed.landed_date <= as_of.as_of_date
    where sessionized.event_type in ('add_to_cart', 'purchase')
),

cart_adds as (
    select
        customer_events.customer_id,
        max(customer_events.occurred_at) as last_cart_add_at,
        count(*) as cart_adds_arrived
    from customer_events
    inner join as_of
        on customer_events.landed_date = as_of.as_of_date
    where customer_events.event_type = 'add_to_cart'
    group by 1
),

purchase_events as (
    select
        customer_id,
        max(occurred_at) as last_purchase_event_at
    from customer_events
    where event_type = 'purchase'
    group by 1
),

placed_orders as (
    select
        orders.customer_id,
        max(orders.ordered_at) as last_ordered_at
    from orders
    inner join as_of
        on orders.ordered_at < {{ dbt.dateadd('day', 1, 'as_of.as_of_date') }}
    group by 1
),

final as (
    select
        features.customer_id,
        features.as_of_date,
        cart_adds.last_cart_add_at,
        cast(cart_adds.cart_adds_arrived as {{ dbt.type_int() }}) as cart_adds_arrived,
        purchase_events.last_purchase_event_at,
        placed_orders.last_ordered_at
    from cart_adds
    cross join as_of
    -- Customers of dim_customers only (an erased customer has no features row).
    inner join features
        on cart_adds.customer_id = features.customer_id
        and as_of.as_of_date = features.as_of_date
    left join purchase_events
        on cart_adds.customer_id = purchase_events.customer_id
    left join placed_orders
        on cart_adds.customer_id = placed_orders.customer_id
    where
        coalesce(purchase_events.last_purchase_event_at < cart_adds.last_cart_add_at, true)
        and coalesce(placed_orders.last_ordered_at < cart_adds.last_cart_add_at, true)
)

select * from final
