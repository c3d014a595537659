-- Each cohort of metrics_customer_cohorts adds up to the facts: its size and, on its last row, its buyers and
-- repeat buyers equal dim_customers' (signed up that month; has_ordered; lifetime_orders of 2 or more), and its
-- orders and revenue over all its rows equal the cohort's customers' non-cancelled orders in fct_orders.
-- Returns one row per cohort and measure that differ (a cohort missing on either side included).

with

cohorts as (
    select * from {{ ref('metrics_customer_cohorts') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

cohort_members as (
    select
        customer_id,
        has_ordered,
        lifetime_orders,
        cast({{ dbt.date_trunc('month', 'signup_date') }} as date) as cohort_month
    from customers
),

last_rows as (
    select
        cohort_month,
        max(months_since_signup) as months_since_signup
    from cohorts
    group by 1
),

mart_totals as (
    select
        cohorts.cohort_month,
        max(cohorts.cohort_customers) as cohort_customers,
        max(case when cohorts.months_since_signup = last_rows.months_since_signup then cohorts.buyers_to_date end)
            as buyers,
        max(
            case when cohorts.months_since_signup = last_rows.months_since_signup then cohorts.repeat_buyers_to_date end
        ) as repeat_buyers,
        sum(cohorts.orders) as orders,
        sum(cohorts.revenue) as revenue
    from cohorts
    inner join last_rows
        on cohorts.cohort_month = last_rows.cohort_month
    group by 1
),

customer_totals as (
    select
        cohort_month,
        count(*) as cohort_customers,
        count(case when has_ordered then 1 end) as buyers,
        count(case when lifetime_orders >= 2 then 1 end) as repeat_buyers
    from cohort_members
    group by 1
),

order_totals as (
    select
        cohort_members.cohort_month,
        count(*) as orders,
        sum(orders.order_revenue) as revenue
    from orders
    inner join cohort_members
        on orders.customer_id = cohort_members.customer_id
    where not orders.is_cancelled
    group by 1
),

fact_totals as (
    select
        customer_totals.cohort_month,
        customer_totals.cohort_customers,
        customer_totals.buyers,
        customer_totals.repeat_buyers,
        coalesce(order_totals.orders, 0) as orders,
        coalesce(order_totals.revenue, 0) as revenue
    from customer_totals
    left join order_totals
        on customer_totals.cohort_month = order_totals.cohort_month
),

paired as (
    select
        coalesce(mart_totals.cohort_month, fact_totals.cohort_month) as cohort_month,
        mart_totals.cohort_customers as mart_cohort_customers,
        fact_totals.cohort_customers as fact_cohort_customers,
        mart_totals.buyers as mart_buyers,
        fact_totals.buyers as fact_buyers,
        mart_totals.repeat_buyers as mart_repeat_buyers,
        fact_totals.repeat_buyers as fact_repeat_buyers,
        mart_totals.orders as mart_orders,
        fact_totals.orders as fact_orders,
        mart_totals.revenue as mart_revenue,
        fact_totals.revenue as fact_revenue
    from mart_totals
    full outer join fact_totals
        on mart_totals.cohort_month = fact_totals.cohort_month
),

compared as (
    select
        cohort_month,
        'cohort_customers' as measure,
        mart_cohort_customers as mart_total,
        fact_cohort_customers as fact_total
    from paired
    union all
    select
        cohort_month,
        'buyers' as measure,
        mart_buyers as mart_total,
        fact_buyers as fact_total
    from paired
    union all
    select
        cohort_month,
        'repeat_buyers' as measure,
        mart_repeat_buyers as mart_total,
        fact_repeat_buyers as fact_total
    from paired
    union all
    select
        cohort_month,
        'orders' as measure,
        mart_orders as mart_total,
        fact_orders as fact_total
    from paired
    union all
    select
        cohort_month,
        'revenue' as measure,
        mart_revenue as mart_total,
        fact_revenue as fact_total
    from paired
),

final as (
    select * from compared
    where
        mart_total is null
        or fact_total is null
        or mart_total != fact_total
)

select * from final
