{{ config(severity='warn') }}

-- Drift in the model's inputs: on the last day of fct_customer_features_daily, the share of rows with a null value,
-- per column, should stay below the column's threshold. The counts and amounts are never null (0 when none);
-- days_since_last_order and return_rate_lifetime are null for customers with no order yet, a minority; the
-- latest cart add or purchase event is null for most customers and is not checked. A column over its threshold
-- (a broken join upstream, a source column gone empty) warns with its share.

{% set thresholds = {
    'signup_date': 0.0, 'days_since_signup': 0.0, 'acquisition_channel_code': 0.05, 'is_paid_acquisition': 0.05,
    'orders_7d': 0.0, 'orders_30d': 0.0, 'orders_90d': 0.0, 'orders_lifetime': 0.0,
    'revenue_30d': 0.0, 'revenue_90d': 0.0, 'revenue_lifetime': 0.0,
    'days_since_last_order': 0.5, 'refunded_orders_lifetime': 0.0, 'return_rate_lifetime': 0.5,
    'sessions_7d': 0.0, 'sessions_30d': 0.0, 'sessions_90d': 0.0,
    'product_views_7d': 0.0, 'product_views_30d': 0.0, 'product_views_90d': 0.0, 'cart_adds_7d': 0.0,
} %}

with

features as (
    select * from {{ ref('fct_customer_features_daily') }}
),

last_day as (
    select features.*
    from features
    where features.as_of_date = (select max(all_days.as_of_date) as last_as_of_date from features as all_days)
),

null_shares as (
    {% for column, threshold in thresholds.items() %}
        select
            '{{ column }}' as column_name,
            {{ threshold }} as max_null_share,
            avg(case when {{ column }} is null then 1.0 else 0.0 end) as null_share
        from last_day
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        column_name,
        null_share,
        max_null_share
    from null_shares
    where null_share > max_null_share
)

select * from final
