{#- A table, not a view: the union of every change is read by the features and by its tests, each of which would
    redo it as a view. -#}
{{ config(materialized='table') }}

{#- What changes each customer's features, aggregated to the day it happens or becomes known: an order placed,
    cancelled or refunded; a web event arrived; an item leaving a window. A change is an amount added to a feature
    (orders, revenue, sessions... counted with +1 and -1), or, for the "latest" features, a value they take the max
    of. Each change is dated the day it became known, so fct_customer_features_daily's running sums and maxes up to
    a day see nothing that came later. -#}

{%- set windows = [7, 30, 90] -%}
{%- set summed = [
    'orders_7d', 'orders_30d', 'orders_90d', 'orders_lifetime', 'revenue_30d', 'revenue_90d', 'revenue_lifetime',
    'refunded_orders_lifetime', 'cancelled_orders_lifetime', 'sessions_7d', 'sessions_30d', 'sessions_90d',
    'product_views_7d', 'product_views_30d', 'product_views_90d', 'cart_adds_7d',
] -%}
{#- The changes to the lifetime features: the CTE they come from, their day, amount and rows. -#}
{%- set lifetime_changes = [
    {'feature': 'orders_lifetime', 'source': 'orders', 'day': 'order_date', 'amount': '1'},
    {'feature': 'revenue_lifetime', 'source': 'orders', 'day': 'order_date', 'amount': 'order_revenue'},
    {'feature': 'revenue_lifetime', 'source': 'orders', 'day': 'cancelled_date', 'amount': '-order_revenue',
        'where': 'cancelled_date is not null'},
    {'feature': 'cancelled_orders_lifetime', 'source': 'orders', 'day': 'cancelled_date', 'amount': '1',
        'where': 'cancelled_date is not null'},
    {'feature': 'refunded_orders_lifetime', 'source': 'orders', 'day': 'refunded_date', 'amount': '1',
        'where': 'refunded_date is not null'},
] -%}
{#- The changes to the windowed features (<feature>_<N>d): an item enters on its day and leaves N days later, or
    earlier on its `until` day (an order's cancellation; the day a session's first event stops being first). -#}
{%- set window_changes = [
    {'feature': 'orders', 'source': 'orders', 'day': 'order_date', 'amount': '1'},
    {'feature': 'orders', 'source': 'orders', 'day': 'order_date', 'amount': '-1', 'leaves': true},
    {'feature': 'revenue', 'windows': [30, 90], 'source': 'orders', 'day': 'order_date', 'amount': 'order_revenue'},
    {'feature': 'revenue', 'windows': [30, 90], 'source': 'orders', 'day': 'order_date', 'amount': '-order_revenue',
        'leaves': true, 'until': 'cancelled_date'},
    {'feature': 'product_views', 'source': 'events', 'day': 'landed_date', 'amount': '1',
        'where': "event_type = 'product_view'"},
    {'feature': 'product_views', 'source': 'events', 'day': 'landed_date', 'amount': '-1', 'leaves': true,
        'where': "event_type = 'product_view'"},
    {'feature': 'cart_adds', 'windows': [7], 'source': 'events', 'day': 'landed_date', 'amount': '1',
        'where': "event_type = 'add_to_cart'"},
    {'feature': 'cart_adds', 'windows': [7], 'source': 'events', 'day': 'landed_date', 'amount': '-1', 'leaves': true,
        'where': "event_type = 'add_to_cart'"},
    {'feature': 'sessions', 'source': 'events', 'day': 'landed_date', 'amount': '1', 'where': 'is_ever_session_start'},
    {'feature': 'sessions', 'source': 'events', 'day': 'landed_date', 'amount': '-1', 'leaves': true,
        'until': 'session_start_until_date', 'where': 'is_ever_session_start'},
] -%}
{#- The earlier of two days, the second when the first is null (least() treats a null differently per database). -#}
{%- set earlier = 'case when %(a)s < %(b)s then %(a)s else %(b)s end' -%}

with

orders as (
    select * from {{ ref('int_customer_orders__dated') }}
),

events as (
    select * from {{ ref('int_customer_events__arrived') }}
),

changes as (
    {%- for change in lifetime_changes %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select
            customer_id,
            cast({{ change.day }} as date) as change_date,
            '{{ change.feature }}' as feature,
            cast({{ change.amount }} as decimal(18, 2)) as amount
        from {{ change.source }}
        {%- if change.where %}
            where {{ change.where }}
        {%- endif %}
    {%- endfor %}
    {%- for window in windows %}
        {%- for change in window_changes if window in change.get('windows', windows) %}
            {%- set day = dbt.dateadd('day', window, change.day) if change.leaves else change.day %}
            union all
            select
                customer_id,
                cast({{ earlier % {'a': change.until, 'b': day} if change.until else day }} as date) as change_date,
                '{{ change.feature }}_{{ window }}d' as feature,
                cast({{ change.amount }} as decimal(18, 2)) as amount
            from {{ change.source }}
            {%- if change.where %}
                where {{ change.where }}
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
),

latest_known as (
    -- What the "latest" features take their running max of, on the day it became known.
    select
        customer_id,
        order_date as change_date,
        order_date as last_order_date,
        cast(null as {{ dbt.type_timestamp() }}) as last_cart_add_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_purchase_event_at
    from orders
    union all
    select
        customer_id,
        landed_date as change_date,
        cast(null as date) as last_order_date,
        case when event_type = 'add_to_cart' then occurred_at end as last_cart_add_at,
        case when event_type = 'purchase' then occurred_at end as last_purchase_event_at
    from events
    where event_type in ('add_to_cart', 'purchase')
),

all_changes as (
    select
        customer_id,
        change_date,
        {%- for feature in summed %}
            case when feature = '{{ feature }}' then amount else 0 end as {{ feature }},
        {%- endfor %}
        cast(null as date) as last_order_date,
        cast(null as {{ dbt.type_timestamp() }}) as last_cart_add_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_purchase_event_at
    from changes
    union all
    select
        customer_id,
        change_date,
        {%- for feature in summed %}
            0 as {{ feature }},
        {%- endfor %}
        last_order_date,
        last_cart_add_at,
        last_purchase_event_at
    from latest_known
),

final as (
    select
        customer_id,
        change_date,
        {%- for feature in summed %}
            sum({{ feature }}) as {{ feature }},
        {%- endfor %}
        max(last_order_date) as last_order_date,
        max(last_cart_add_at) as last_cart_add_at,
        max(last_purchase_event_at) as last_purchase_event_at
    from all_changes
    group by 1, 2
)

select * from final
