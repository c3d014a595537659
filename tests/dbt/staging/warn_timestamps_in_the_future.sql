{{ config(severity='warn') }}

-- Events and orders dated more than a day after the business "now" (var custom_run_started_at, set by
-- TIDEWATER_BUSINESS_NOW): a wrong clock or a typo. They are kept, on their future day. An order updated_at in the
-- future is worse: it moves the extractor's bookmark ahead, so later real changes to that table are not picked up.
-- Lists each with where to find it.

with

events as (
    select * from {{ ref('stg_events__events') }}
),

orders as (
    select * from {{ ref('stg_app__orders') }}
),

horizon as (
    select
        {{ dbt.dateadd('day', 1, "cast('" ~ var('custom_run_started_at') ~ "' as " ~ dbt.type_timestamp() ~ ")") }}
            as latest_allowed_at
),

future_events as (
    select
        'event' as record_kind,
        events.event_id as record_id,
        events.source_file || ':' || cast(events.source_line_number as {{ dbt.type_string() }}) as found_in,
        'occurred_at' as timestamp_column,
        events.occurred_at as dated_at
    from events
    cross join horizon
    where events.occurred_at > horizon.latest_allowed_at
),

future_orders as (
    select
        'order' as record_kind,
        cast(orders.order_id as {{ dbt.type_string() }}) as record_id,
        'public.orders' as found_in,
        case when orders.ordered_at > horizon.latest_allowed_at then 'ordered_at' else 'updated_at' end
            as timestamp_column,
        greatest(orders.ordered_at, orders.updated_at) as dated_at
    from orders
    cross join horizon
    where
        orders.ordered_at > horizon.latest_allowed_at
        or orders.updated_at > horizon.latest_allowed_at
),

final as (
    select * from future_events
    union all
    select * from future_orders
)

select * from final
