{#-
    What happened to each product on each day, for the supplier portal: views and add-to-carts (web events, bots
    left out as in fct_sessions), and the sales of non-cancelled orders on their order date (revenue as the metric
    `revenue` defines it; refunds as in `net_revenue`). The app records a return and its refund per order, not per
    line: returned_units are the units of a returned order's lines, and an order's refunds are shared among its
    lines by their share of its net amount, rounded to the cent with the rounding left on its last line, so a
    day's refunded_amount summed over products is its orders' refunds to the cent.
-#}

with

products as (
    select * from {{ ref('dim_products') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where not is_cancelled
),

order_items as (
    select * from {{ ref('fct_order_items') }}
),

session_events as (
    select * from {{ ref('int_events__sessionized') }}
    where event_type in ('product_view', 'add_to_cart') and product_id is not null
),

lines as (
    select
        order_items.order_item_id,
        order_items.order_id,
        order_items.product_id,
        orders.order_date,
        orders.is_returned,
        order_items.quantity,
        order_items.net_amount,
        orders.order_revenue,
        orders.refund_amount,
        cast(
            round(orders.refund_amount * order_items.net_amount / nullif(orders.order_revenue, 0), 2)
            as decimal(18, 2)
        ) as rounded_refund_share,
        row_number() over (
            partition by order_items.order_id
            order by order_items.order_item_id desc
        ) as line_rank_from_last
    from order_items
    inner join orders
        on order_items.order_id = orders.order_id
),

lines_with_refunds as (
    select
        *,
        case
            when line_rank_from_last = 1
                then refund_amount - coalesce(
                    sum(rounded_refund_share) over (partition by order_id) - rounded_refund_share, 0
                )
            else coalesce(rounded_refund_share, 0)
        end as refunded_amount
    from lines
),

sales as (
    select
        order_date as date_day,
        product_id,
        0 as product_views,
        0 as add_to_carts,
        count(distinct order_id) as orders,
        sum(quantity) as units_sold,
        sum(net_amount) as revenue,
        sum(case when is_returned then quantity else 0 end) as returned_units,
        sum(refunded_amount) as refunded_amount
    from lines_with_refunds
    group by 1, 2
),

engagement as (
    select
        cast(occurred_at as date) as date_day,
        product_id,
        count(case when event_type = 'product_view' then 1 end) as product_views,
        count(case when event_type = 'add_to_cart' then 1 end) as add_to_carts,
        0 as orders,
        0 as units_sold,
        0 as revenue,
        0 as returned_units,
        0 as refunded_amount
    from session_events
    group by 1, 2
),

product_days as (
    select
        date_day,
        product_id,
        sum(product_views) as product_views,
        sum(add_to_carts) as add_to_carts,
        sum(orders) as orders,
        sum(units_sold) as units_sold,
        sum(revenue) as revenue,
        sum(returned_units) as returned_units,
        sum(refunded_amount) as refunded_amount
    from (
        select * from sales
        union all
        select * from engagement
    ) as activity
    group by 1, 2
),

final as (
    select
        {{ dbt.hash(dbt.concat([
            "cast(product_days.date_day as " ~ dbt.type_string() ~ ")",
            "'|'",
            "cast(product_days.product_id as " ~ dbt.type_string() ~ ")"
        ])) }} as supplier_product_day_id,
        products.supplier_id,
        product_days.product_id,
        product_days.date_day,
        cast(product_days.product_views as {{ dbt.type_bigint() }}) as product_views,
        cast(product_days.add_to_carts as {{ dbt.type_bigint() }}) as add_to_carts,
        cast(product_days.orders as {{ dbt.type_bigint() }}) as orders,
        cast(product_days.units_sold as {{ dbt.type_bigint() }}) as units_sold,
        cast(product_days.revenue as decimal(18, 2)) as revenue,
        cast(product_days.returned_units as {{ dbt.type_bigint() }}) as returned_units,
        cast(product_days.refunded_amount as decimal(18, 2)) as refunded_amount
    from product_days
    inner join products
        on product_days.product_id = products.product_id
)

-- Stored by supplier, then day (columns 2 and 4): the suppliers' API reads one supplier's range at a time, and
-- DuckDB skips the row groups whose min and max rule them out.
select * from final
order by 2, 4
