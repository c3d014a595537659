{#- The order-again model's examples: a past buyer on a day, their features as known at the end of that day, and
    whether they placed a (not cancelled) order in the 30 days after. Only days whose 30 days have all passed by the
    last complete business day have a known label. One day a week is kept (the same weekday every run): the examples
    of neighbouring days are near copies, and daily examples would make the table seven times as big for little new
    information. -#}

{%- set label_days = 30 -%}
{%- set sample_every_days = var('ml_training_sample_every_days', 7) -%}

with

features as (
    select * from {{ ref('fct_customer_features_daily') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

run_days as (
    select
        {{ dbt.dateadd(
            'day', -1, "cast(cast('" ~ var('custom_run_started_at') ~ "' as " ~ dbt.type_timestamp() ~ ") as date)"
        ) }} as last_complete_date
),

labelled_days as (
    select features.*
    from features
    cross join run_days
    -- The business question: will a past buyer order again?
    where
        features.orders_lifetime > 0
        and {{ dbt.dateadd('day', label_days, 'features.as_of_date') }} <= run_days.last_complete_date
        -- A fixed Monday as the anchor: the sampled days stay the same from run to run.
        and mod(
            {{ dbt.datediff("cast('2000-01-03' as date)", 'features.as_of_date', 'day') }}, {{ sample_every_days }}
        ) = 0
),

next_orders as (
    select
        labelled_days.customer_id,
        labelled_days.as_of_date,
        count(orders.order_id) as orders_in_label_window
    from labelled_days
    inner join orders
        on labelled_days.customer_id = orders.customer_id
        and labelled_days.as_of_date < orders.order_date
        and {{ dbt.dateadd('day', label_days, 'labelled_days.as_of_date') }} >= orders.order_date
        and not orders.is_cancelled
    group by 1, 2
),

final as (
    select
        labelled_days.customer_id,
        labelled_days.as_of_date,
        labelled_days.signup_date,
        labelled_days.days_since_signup,
        labelled_days.acquisition_channel_code,
        labelled_days.is_paid_acquisition,
        labelled_days.orders_7d,
        labelled_days.orders_30d,
        labelled_days.orders_90d,
        labelled_days.orders_lifetime,
        labelled_days.revenue_30d,
        labelled_days.revenue_90d,
        labelled_days.revenue_lifetime,
        labelled_days.days_since_last_order,
        labelled_days.refunded_orders_lifetime,
        labelled_days.return_rate_lifetime,
        labelled_days.sessions_7d,
        labelled_days.sessions_30d,
        labelled_days.sessions_90d,
        labelled_days.product_views_7d,
        labelled_days.product_views_30d,
        labelled_days.product_views_90d,
        labelled_days.cart_adds_7d,
        {{ dbt.dateadd('day', label_days, 'labelled_days.as_of_date') }} as label_window_end_date,
        coalesce(next_orders.orders_in_label_window, 0) > 0 as orders_again_within_30d
    from labelled_days
    left join next_orders
        on labelled_days.customer_id = next_orders.customer_id
        and labelled_days.as_of_date = next_orders.as_of_date
)

select * from final
