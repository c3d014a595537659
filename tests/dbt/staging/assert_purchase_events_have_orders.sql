-- Every purchase event (of a person, not a bot) names an order that exists in the app.
-- Returns the purchase events with no order_id or an unknown one, with where they came from.

with

events as (
    select * from {{ ref('stg_events__events') }}
),

orders as (
    select * from {{ ref('stg_app__orders') }}
),

final as (
    select
        events.event_id,
        events.order_id,
        events.occurred_at,
        events.source_file,
        events.source_line_number
    from events
    left join orders
        on events.order_id = orders.order_id
    where
        events.event_type = 'purchase'
        and not events.is_bot
        and orders.order_id is null
)

select * from final
