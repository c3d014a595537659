-- The supplier portal's sales add up, to the cent, to the shop's: on every day, fct_supplier_product_daily summed
-- over all products (every supplier) has the revenue, refunds and units of the non-cancelled orders placed that
-- day (fct_orders, fct_order_items), and the revenue and net revenue of metrics_daily. A product day left out, a
-- line counted twice or a refund share lost in rounding shows here. Returns one row per day and measure that
-- differs.

with

supplier_days as (
    select * from {{ ref('fct_supplier_product_daily') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

metrics_daily as (
    select * from {{ ref('metrics_daily') }}
),

supplier_totals as (
    select
        date_day,
        sum(revenue) as revenue,
        sum(refunded_amount) as refunded_amount,
        sum(units_sold) as units_sold
    from supplier_days
    group by 1
),

order_totals as (
    select
        order_date as date_day,
        sum(order_revenue) as revenue,
        sum(refund_amount) as refunded_amount
    from orders
    group by 1
),

line_totals as (
    select
        orders.order_date as date_day,
        sum(order_items.net_amount) as revenue,
        sum(order_items.quantity) as units_sold
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
    group by 1
),

metric_totals as (
    select
        date_day,
        revenue,
        net_revenue
    from metrics_daily
    where revenue is not null
),

compared as (
    select
        coalesce(supplier_totals.date_day, order_totals.date_day) as date_day,
        coalesce(supplier_totals.revenue, 0) as supplier_revenue,
        coalesce(order_totals.revenue, 0) as order_revenue,
        coalesce(supplier_totals.refunded_amount, 0) as supplier_refunded_amount,
        coalesce(order_totals.refunded_amount, 0) as order_refunded_amount,
        coalesce(supplier_totals.units_sold, 0) as supplier_units_sold,
        coalesce(line_totals.units_sold, 0) as line_units_sold,
        coalesce(line_totals.revenue, 0) as line_revenue
    from supplier_totals
    full outer join order_totals
        on supplier_totals.date_day = order_totals.date_day
    left join line_totals
        on coalesce(supplier_totals.date_day, order_totals.date_day) = line_totals.date_day
),

differences as (
    select
        date_day,
        'revenue vs fct_orders' as measure,
        supplier_revenue as supplier_value,
        order_revenue as shop_value
    from compared
    where supplier_revenue != order_revenue
    union all
    select
        date_day,
        'revenue vs fct_order_items' as measure,
        supplier_revenue as supplier_value,
        line_revenue as shop_value
    from compared
    where supplier_revenue != line_revenue
    union all
    select
        date_day,
        'refunded_amount vs fct_orders' as measure,
        supplier_refunded_amount as supplier_value,
        order_refunded_amount as shop_value
    from compared
    where supplier_refunded_amount != order_refunded_amount
    union all
    select
        date_day,
        'units_sold vs fct_order_items' as measure,
        supplier_units_sold as supplier_value,
        line_units_sold as shop_value
    from compared
    where supplier_units_sold != line_units_sold
    union all
    select
        metric_totals.date_day,
        'revenue vs metrics_daily' as measure,
        coalesce(compared.supplier_revenue, 0) as supplier_value,
        metric_totals.revenue as shop_value
    from metric_totals
    left join compared
        on metric_totals.date_day = compared.date_day
    where coalesce(compared.supplier_revenue, 0) != metric_totals.revenue
    union all
    select
        metric_totals.date_day,
        'revenue - refunded_amount vs metrics_daily net_revenue' as measure,
        coalesce(compared.supplier_revenue - compared.supplier_refunded_amount, 0) as supplier_value,
        metric_totals.net_revenue as shop_value
    from metric_totals
    left join compared
        on metric_totals.date_day = compared.date_day
    where coalesce(compared.supplier_revenue - compared.supplier_refunded_amount, 0) != metric_totals.net_revenue
),

final as (
    select * from differences
)

select * from final
