"""The suppliers' data, one supplier at a time: DuckDB table macros in schema `serving` of the serving copy.

Isolation lives in the data layer, not only in the routes: every macro takes the supplier as its first argument and
filters on it, and the API runs nothing but these macros, with the supplier (from the token) and the dates bound as
prepared-statement parameters. A route that forgot a filter would still only see one supplier's rows.

`create(con)` runs when a serving copy is published (serve/published.py), on the candidate copy: DuckDB binds a
macro's tables when it is created, so a copy without the supplier marts fails here, before it is promoted. It then
calls every macro for every supplier and checks that each row carries that supplier's id.

Amounts are the marts' (fct_supplier_product_daily): sales and returns on the order's date, `orders` counted per
product (an order of two of a supplier's products counts once for each).
"""

from __future__ import annotations

from typing import Any

import duckdb

from tidewater.orchestrate.errors import TidewaterError

SCHEMA = "serving"

# name -> (parameters, body). Arguments are cast in the body: a prepared statement's parameters have no declared
# type, and DuckDB's typed macro parameters refuse them.
MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    "supplier_profile": (
        ("supplier",),
        """
        select
            suppliers.supplier_id,
            suppliers.supplier_name,
            suppliers.product_count,
            suppliers.active_product_count,
            (select min(date_day) from marts.fct_supplier_product_daily
             where supplier_id = cast(supplier as bigint)) as first_day,
            (select max(date_day) from marts.fct_supplier_product_daily
             where supplier_id = cast(supplier as bigint)) as last_day
        from marts.dim_suppliers as suppliers
        where suppliers.supplier_id = cast(supplier as bigint)
        """,
    ),
    # Every day of a range: the daily macros' spine, so a chart's series has no gaps (zero on days without sales).
    "days_between": (
        ("date_from", "date_to"),
        """
        select cast(unnest(generate_series(cast(date_from as date), cast(date_to as date), interval 1 day))
                    as date) as date_day
        """,
    ),
    "supplier_daily_sales": (
        ("supplier", "date_from", "date_to"),
        """
        with days as (
            select * from serving.days_between(date_from, date_to)
        ),
        activity as (
            select date_day, sum(orders) as orders, sum(units_sold) as units_sold, sum(revenue) as revenue
            from marts.fct_supplier_product_daily
            where supplier_id = cast(supplier as bigint)
              and date_day between cast(date_from as date) and cast(date_to as date)
            group by date_day
        )
        select
            cast(supplier as bigint) as supplier_id,
            days.date_day,
            cast(coalesce(activity.orders, 0) as bigint) as orders,
            cast(coalesce(activity.units_sold, 0) as bigint) as units_sold,
            cast(coalesce(activity.revenue, 0) as decimal(18, 2)) as revenue
        from days
        left join activity on days.date_day = activity.date_day
        order by days.date_day
        """,
    ),
    "supplier_daily_returns": (
        ("supplier", "date_from", "date_to"),
        """
        with days as (
            select * from serving.days_between(date_from, date_to)
        ),
        activity as (
            select date_day, sum(returned_units) as returned_units, sum(refunded_amount) as refunded_amount
            from marts.fct_supplier_product_daily
            where supplier_id = cast(supplier as bigint)
              and date_day between cast(date_from as date) and cast(date_to as date)
            group by date_day
        )
        select
            cast(supplier as bigint) as supplier_id,
            days.date_day,
            cast(coalesce(activity.returned_units, 0) as bigint) as returned_units,
            cast(coalesce(activity.refunded_amount, 0) as decimal(18, 2)) as refunded_amount
        from days
        left join activity on days.date_day = activity.date_day
        order by days.date_day
        """,
    ),
    # Ranked by revenue, then units, then id (a stable order for ties); the rank is part of the answer.
    "supplier_top_products": (
        ("supplier", "date_from", "date_to", "top_n"),
        """
        with sales as (
            select
                facts.supplier_id,
                facts.product_id,
                sum(facts.orders) as orders,
                sum(facts.units_sold) as units_sold,
                sum(facts.revenue) as revenue,
                sum(facts.returned_units) as returned_units
            from marts.fct_supplier_product_daily as facts
            where facts.supplier_id = cast(supplier as bigint)
              and facts.date_day between cast(date_from as date) and cast(date_to as date)
            group by facts.supplier_id, facts.product_id
            having sum(facts.units_sold) > 0
        )
        select
            sales.supplier_id,
            row_number() over (
                order by sales.revenue desc, sales.units_sold desc, sales.product_id
            ) as product_rank,
            sales.product_id,
            products.sku,
            products.product_name,
            cast(sales.orders as bigint) as orders,
            cast(sales.units_sold as bigint) as units_sold,
            cast(sales.revenue as decimal(18, 2)) as revenue,
            cast(sales.returned_units as bigint) as returned_units
        from sales
        inner join marts.dim_products as products
            on sales.product_id = products.product_id
            and products.supplier_id = cast(supplier as bigint)
        qualify product_rank <= cast(top_n as bigint)
        order by product_rank
        """,
    ),
    # One row, zeros when nothing happened. Rates are null when their denominator is zero.
    "supplier_funnel": (
        ("supplier", "date_from", "date_to"),
        """
        with totals as (
            select
                cast(coalesce(sum(product_views), 0) as bigint) as product_views,
                cast(coalesce(sum(add_to_carts), 0) as bigint) as add_to_carts,
                cast(coalesce(sum(orders), 0) as bigint) as orders,
                cast(coalesce(sum(units_sold), 0) as bigint) as units_sold
            from marts.fct_supplier_product_daily
            where supplier_id = cast(supplier as bigint)
              and date_day between cast(date_from as date) and cast(date_to as date)
        )
        select
            cast(supplier as bigint) as supplier_id,
            product_views,
            add_to_carts,
            orders,
            units_sold,
            round(add_to_carts / nullif(product_views, 0), 4) as view_to_cart_rate,
            round(orders / nullif(add_to_carts, 0), 4) as cart_to_order_rate
        from totals
        """,
    ),
    # The days the copy holds, for every supplier alike (the business's calendar, nobody's numbers): the API's
    # default date range ends on its last day.
    "published_days": (
        (),
        """
        select min(date_day) as first_day, max(date_day) as last_day
        from marts.fct_supplier_product_daily
        """,
    ),
}


def create(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Create the macros on a candidate serving copy, then check that none returns another supplier's row."""
    con.execute(f"create schema if not exists {SCHEMA}")
    for name, (parameters, body) in MACROS.items():
        con.execute(f"create or replace macro {SCHEMA}.{name}({', '.join(parameters)}) as table {body}")
    suppliers = [row[0] for row in con.execute("select supplier_id from marts.dim_suppliers order by 1").fetchall()]
    first_day, last_day = con.execute(f"select * from {SCHEMA}.published_days()").fetchone() or (None, None)
    # Every published day and every product: all a supplier could ask for.
    check_arguments = {"date_from": first_day, "date_to": last_day, "top_n": 1_000_000}
    checked = 0
    for name, (parameters, _) in MACROS.items():
        if parameters[:1] != ("supplier",):
            continue
        for supplier in suppliers:
            arguments = [supplier, *(check_arguments[p] for p in parameters[1:])]
            placeholders = ", ".join("?" for _ in arguments)
            found = con.execute(
                f"select count(*), count(*) filter (where supplier_id is distinct from ?) "
                f"from {SCHEMA}.{name}({placeholders})",
                [supplier, *arguments],
            ).fetchone()
            assert found is not None
            if found[1]:
                raise TidewaterError(f"{SCHEMA}.{name} returned {found[1]} rows of another supplier than {supplier}")
            checked += found[0]
    return {"macros": sorted(f"{SCHEMA}.{name}" for name in MACROS), "suppliers": len(suppliers), "rows": checked}
