{#- Repeat purchase by sign-up month: MetricFlow has no metric for it (a customer's group is fixed by one date and
    their orders are counted by another), so it is a table. Every cohort has a row for every month from its
    sign-up month to the last month with data, orders or not, so a curve neither skips nor ends early. -#}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
),

spine as (
    select * from {{ ref('metricflow_time_spine') }}
),

cohort_members as (
    select
        customer_id,
        cast({{ dbt.date_trunc('month', 'signup_date') }} as date) as cohort_month
    from customers
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_customers
    from cohort_members
    group by 1
),

-- The months with data: the time spine's (first to last day with any activity), so this ends where metrics_daily
-- and MetricFlow end.
months as (
    select distinct cast({{ dbt.date_trunc('month', 'date_day') }} as date) as activity_month
    from spine
),

cohort_months as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customers,
        months.activity_month,
        {{ dbt.datediff('cohort_sizes.cohort_month', 'months.activity_month', 'month') }} as months_since_signup
    from cohort_sizes
    inner join months
        on cohort_sizes.cohort_month <= months.activity_month
),

-- Purchases: non-cancelled orders (a cancelled order is not a purchase), numbered per customer by fct_orders.
member_orders as (
    select
        cohort_members.cohort_month,
        cast({{ dbt.date_trunc('month', 'orders.order_date') }} as date) as activity_month,
        orders.customer_id,
        orders.order_revenue,
        orders.customer_order_number
    from orders
    inner join cohort_members
        on orders.customer_id = cohort_members.customer_id
    where not orders.is_cancelled
),

monthly_orders as (
    select
        cohort_month,
        activity_month,
        count(distinct customer_id) as active_customers,
        count(*) as orders,
        sum(order_revenue) as revenue,
        -- A customer's first and second purchases mark when they became a buyer and a repeat buyer.
        count(case when customer_order_number = 1 then 1 end) as new_buyers,
        count(case when customer_order_number = 2 then 1 end) as new_repeat_buyers
    from member_orders
    group by 1, 2
),

joined as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since_signup,
        cohort_months.activity_month,
        cohort_months.cohort_customers,
        coalesce(monthly_orders.active_customers, 0) as active_customers,
        coalesce(monthly_orders.orders, 0) as orders,
        cast(coalesce(monthly_orders.revenue, 0) as decimal(18, 2)) as revenue,
        sum(coalesce(monthly_orders.new_buyers, 0)) over (
            partition by cohort_months.cohort_month
            order by cohort_months.activity_month
            rows between unbounded preceding and current row
        ) as buyers_to_date,
        sum(coalesce(monthly_orders.new_repeat_buyers, 0)) over (
            partition by cohort_months.cohort_month
            order by cohort_months.activity_month
            rows between unbounded preceding and current row
        ) as repeat_buyers_to_date
    from cohort_months
    left join monthly_orders
        on cohort_months.cohort_month = monthly_orders.cohort_month
        and cohort_months.activity_month = monthly_orders.activity_month
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "cast(cohort_month as " ~ dbt.type_string() ~ ")",
            "'|'",
            "cast(months_since_signup as " ~ dbt.type_string() ~ ")"
        ])) }} as customer_cohort_month_id,
        cohort_month,
        cast(months_since_signup as {{ dbt.type_int() }}) as months_since_signup,
        activity_month,
        cast(cohort_customers as {{ dbt.type_bigint() }}) as cohort_customers,
        cast(active_customers as {{ dbt.type_bigint() }}) as active_customers,
        cast(orders as {{ dbt.type_bigint() }}) as orders,
        revenue,
        cast(buyers_to_date as {{ dbt.type_bigint() }}) as buyers_to_date,
        cast(repeat_buyers_to_date as {{ dbt.type_bigint() }}) as repeat_buyers_to_date,
        {{ ratio('active_customers', 'cohort_customers') }} as retention_rate,
        {{ ratio('buyers_to_date', 'cohort_customers') }} as buyer_rate_to_date,
        {{ ratio('repeat_buyers_to_date', 'buyers_to_date') }} as repeat_rate_to_date
    from joined
)

select * from final
