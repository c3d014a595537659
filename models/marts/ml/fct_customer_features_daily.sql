{{
    config(
        materialized=incremental_or_table(),
        unique_key=['customer_id', 'as_of_date'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="{{ delete_rows_gone_from_source(ref('dim_customers'), 'customer_id') }}",
    )
}}

{#- Each customer's features as known at the end of each day, from sign-up to the last complete business day.
    Set-based, with no per-day lookup: int_customer_feature_changes__aggregated_to_day dates every change to a
    feature on the day it became known, and a feature on a day is the running sum of its changes over a spine of
    the customer's days (a running max for the "latest" ones). An incremental run builds each customer's days
    after their last one in the mart (all of them for a customer whose order the app has since deleted); the
    changes from before are folded onto the first new day, so the running sums start from the whole history. -#}

{%- set summed = [
    'orders_7d', 'orders_30d', 'orders_90d', 'orders_lifetime', 'revenue_30d', 'revenue_90d', 'revenue_lifetime',
    'refunded_orders_lifetime', 'cancelled_orders_lifetime', 'sessions_7d', 'sessions_30d', 'sessions_90d',
    'product_views_7d', 'product_views_30d', 'product_views_90d', 'cart_adds_7d',
] -%}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

changes as (
    select * from {{ ref('int_customer_feature_changes__aggregated_to_day') }}
),

deleted_orders as (
    select * from {{ ref('stg_app__orders') }}
    where is_deleted_in_source
),

built as (
    -- The day after each customer's last built day; none on a full build.
    {%- if is_incremental() %}
        select
            customer_id,
            cast({{ dbt.dateadd('day', 1, 'max(as_of_date)') }} as date) as first_new_day
        from {{ this }}
        group by 1
    {%- else %}
        select
            cast(null as {{ dbt.type_bigint() }}) as customer_id,
            cast(null as date) as first_new_day
        from customers
        where false
    {%- endif %}
),

rebuilt as (
    -- Customers with an order the app deleted after their last built day (a duplicate checkout, purged the next
    -- day): their days are built again from sign-up without it, as a full build (or a backfill) would. The app's
    -- deletion corrects its history; the other changes are known from when they happened.
    {%- if is_incremental() %}
        select distinct deleted_orders.customer_id
        from deleted_orders
        inner join built
            on deleted_orders.customer_id = built.customer_id
        where
            cast(deleted_orders.deleted_in_source_at as date) >= built.first_new_day
            and cast(deleted_orders.ordered_at as date) < built.first_new_day
    {%- else %}
        select deleted_orders.customer_id from deleted_orders
        where false
    {%- endif %}
),

business_now as (
    select cast('{{ var("custom_run_started_at") }}' as {{ dbt.type_timestamp() }}) as started_at
),

customer_days as (
    -- The days to build per customer: all from sign-up, or, incrementally, those after the customer's last built
    -- day (a customer new to the mart gets all theirs).
    select
        customers.customer_id,
        customers.signup_date,
        customers.acquisition_channel_code,
        customers.is_paid_acquisition,
        coalesce(
            case when rebuilt.customer_id is null then built.first_new_day end, customers.signup_date
        ) as first_day,
        -- The business now (dbt's run start, TIDEWATER_BUSINESS_NOW) is midnight after the last complete day.
        cast({{ dbt.dateadd('day', -1, 'cast(business_now.started_at as date)') }} as date) as last_day
    from customers
    cross join business_now
    left join built
        on customers.customer_id = built.customer_id
    left join rebuilt
        on customers.customer_id = rebuilt.customer_id
),

day_offsets as (
    -- 10,000 days (27 years): far more than a customer's life in the data.
    select series.generated_number - 1 as day_offset
    from ({{ dbt.generate_series(10000) }}) as series
),

spine_bounds as (
    select
        min(first_day) as first_day,
        max(last_day) as last_day
    from customer_days
),

days as (
    select cast({{ dbt.dateadd('day', 'day_offsets.day_offset', 'spine_bounds.first_day') }} as date) as as_of_date
    from day_offsets
    cross join spine_bounds
    where {{ dbt.dateadd('day', 'day_offsets.day_offset', 'spine_bounds.first_day') }} <= spine_bounds.last_day
),

folded as (
    -- A change from before the customer's first day to build is folded onto it: it is their history.
    select
        customer_days.customer_id,
        case
            when changes.change_date < customer_days.first_day then customer_days.first_day
            else changes.change_date
        end as as_of_date,
        {%- for feature in summed %}
            sum(changes.{{ feature }}) as {{ feature }},
        {%- endfor %}
        max(changes.last_order_date) as last_order_date,
        max(changes.last_cart_add_at) as last_cart_add_at,
        max(changes.last_purchase_event_at) as last_purchase_event_at
    from changes
    inner join customer_days
        on changes.customer_id = customer_days.customer_id
    where changes.change_date <= customer_days.last_day
    group by 1, 2
),

running as (
    select
        customer_days.customer_id,
        days.as_of_date,
        customer_days.signup_date,
        customer_days.acquisition_channel_code,
        customer_days.is_paid_acquisition,
        {%- for feature in summed %}
            sum(coalesce(folded.{{ feature }}, 0)) over customer_history as {{ feature }},
        {%- endfor %}
        max(folded.last_order_date) over customer_history as last_order_date,
        max(folded.last_cart_add_at) over customer_history as last_cart_add_at,
        max(folded.last_purchase_event_at) over customer_history as last_purchase_event_at
    from customer_days
    inner join days
        on customer_days.first_day <= days.as_of_date
        and customer_days.last_day >= days.as_of_date
    left join folded
        on customer_days.customer_id = folded.customer_id
        and days.as_of_date = folded.as_of_date
    window customer_history as (
        partition by customer_days.customer_id
        order by days.as_of_date
        rows between unbounded preceding and current row
    )
),

final as (
    select
        customer_id,
        as_of_date,
        signup_date,
        cast({{ dbt.datediff('signup_date', 'as_of_date', 'day') }} as {{ dbt.type_int() }}) as days_since_signup,
        acquisition_channel_code,
        is_paid_acquisition,
        {%- for feature in summed[:4] %}
            cast({{ feature }} as {{ dbt.type_int() }}) as {{ feature }},
        {%- endfor %}
        {%- for feature in summed[4:7] %}
            cast({{ feature }} as decimal(18, 2)) as {{ feature }},
        {%- endfor %}
        cast(
            {{ dbt.datediff('last_order_date', 'as_of_date', 'day') }} as {{ dbt.type_int() }}
        ) as days_since_last_order,
        {%- for feature in summed[7:9] %}
            cast({{ feature }} as {{ dbt.type_int() }}) as {{ feature }},
        {%- endfor %}
        {{ ratio('refunded_orders_lifetime', 'orders_lifetime') }} as return_rate_lifetime,
        {%- for feature in summed[9:] %}
            cast({{ feature }} as {{ dbt.type_int() }}) as {{ feature }},
        {%- endfor %}
        last_cart_add_at,
        last_purchase_event_at
    from running
)

select * from final
