{{
    config(
        materialized=incremental_or_table(),
        unique_key='anonymous_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

session_events as (
    select * from {{ ref('int_events__sessionized') }}
    {% if is_incremental() %}
        -- A late event can start, extend or join sessions of its visitor: every session of each visitor with an
        -- event loaded since the last build (minus a safety lookback) is rebuilt, and replaces that visitor's rows.
        where anonymous_id in (
            select changed.anonymous_id from {{ ref('int_events__sessionized') }} as changed
            where changed.loaded_at > {{ incremental_watermark('events_loaded_at') }}
        )
    {% endif %}
),

channel_aliases as (
    select * from {{ ref('channel_aliases') }}
),

sessions as (
    select
        session_id,
        anonymous_id,
        max(customer_id) as customer_id,
        min(occurred_at) as session_started_at,
        max(occurred_at) as session_ended_at,
        cast(count(*) as {{ dbt.type_bigint() }}) as event_count,
        cast(sum(case when event_type = 'page_view' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_view_count,
        cast(sum(case when event_type = 'product_view' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as product_view_count,
        cast(sum(case when event_type = 'add_to_cart' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as add_to_cart_count,
        cast(sum(case when event_type = 'checkout' then 1 else 0 end) as {{ dbt.type_bigint() }}) as checkout_count,
        cast(sum(case when event_type = 'purchase' then 1 else 0 end) as {{ dbt.type_bigint() }}) as purchase_count,
        min(case when event_type = 'purchase' then order_id end) as first_purchase_order_id,
        max(loaded_at) as events_loaded_at
    from session_events
    group by 1, 2
),

landing as (
    select
        session_id,
        page_url as landing_page_url,
        referrer,
        utm_source
    from session_events
    where session_event_number = 1
),

final as (
    select
        sessions.session_id,
        sessions.anonymous_id,
        sessions.customer_id,
        sessions.session_started_at,
        sessions.session_ended_at,
        cast(sessions.session_started_at as date) as session_date,
        {{ datediff_bigint('sessions.session_started_at', 'sessions.session_ended_at', 'second') }} as duration_seconds,
        sessions.event_count,
        sessions.page_view_count,
        sessions.product_view_count,
        sessions.add_to_cart_count,
        sessions.checkout_count,
        sessions.purchase_count,
        sessions.purchase_count > 0 as has_purchase,
        sessions.first_purchase_order_id,
        landing.landing_page_url,
        landing.referrer,
        landing.utm_source,
        coalesce(
            channel_aliases.channel_code,
            case
                when landing.referrer is null then 'direct'
                when
                    lower(landing.referrer) like '%google.%'
                    or lower(landing.referrer) like '%bing.%'
                    or lower(landing.referrer) like '%duckduckgo.%'
                    or lower(landing.referrer) like '%yahoo.%'
                    or lower(landing.referrer) like '%ecosia.%'
                    then 'organic'
                else 'referral'
            end
        ) as channel_code,
        sessions.events_loaded_at
    from sessions
    left join landing
        on sessions.session_id = landing.session_id
    left join channel_aliases
        on landing.utm_source = channel_aliases.raw_channel_name
)

select * from final
