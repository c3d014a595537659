"""Sales by category and product: what sells, by month (the order lines' revenue, units and orders)."""

from __future__ import annotations

import altair as alt
import streamlit as st

from tidewater.serve.dashboards import data, figures, queries

st.title("Sales by category and product")

months = [stamp.date() for stamp in data.frame(queries.SALES_MONTHS)["month_start_date"]]
if not months:
    st.info("No sales yet.")
    st.stop()

with st.sidebar:
    start_month, end_month = st.select_slider(
        "Months", options=months, value=(months[0], months[-1]), format_func=lambda m: f"{m:%b %Y}", key="sales_months"
    )
    top = st.slider("Top products", min_value=5, max_value=50, value=15, step=5, key="sales_top")

categories = data.frame(queries.SALES_CATEGORIES, start_month=start_month, end_month=end_month)
names = dict(zip(categories["category_code"], categories["category_name"], strict=True))
with st.sidebar:
    chosen = st.multiselect(
        "Categories", options=list(names), default=list(names), format_func=names.get, key="sales_categories"
    )

st.caption(
    f"{start_month:%b %Y} to {end_month:%b %Y}. Revenue is the order lines' (net of line discounts, before refunds); "
    "an order with products in two categories counts once in each."
)

tiles = [
    ("Revenue", figures.money(categories["revenue"].sum()), "The order lines' revenue in the months chosen."),
    ("Units sold", figures.count(categories["units_sold"].sum()), "Units on the order lines."),
    (
        "Best category",
        categories.iloc[0]["category_name"] if not categories.empty else "-",
        "The category with the most revenue.",
    ),
]
for column, (label, value, help_text) in zip(st.columns(3), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

left, right = st.columns(2)
with left:
    st.subheader("By category")
    st.altair_chart(
        alt.Chart(categories)
        .mark_bar()
        .encode(
            y=alt.Y("category_name:N", sort="-x", title=None),
            x=alt.X("revenue:Q", title="Revenue (USD)"),
            color=alt.Color("department:N", title="Department"),
            tooltip=[
                "category_name:N",
                "department:N",
                alt.Tooltip("revenue:Q", format="$,.2f"),
                "units_sold:Q",
                "orders:Q",
            ],
        ),
        width="stretch",
    )
with right:
    st.subheader("By month")
    trend = data.frame(queries.SALES_CATEGORY_TREND, start_month=start_month, end_month=end_month, categories=chosen)
    st.altair_chart(
        alt.Chart(trend)
        .mark_bar()
        .encode(
            x=alt.X("yearmonth(month_start_date):O", title=None),
            y=alt.Y("revenue:Q", title="Revenue (USD)"),
            color=alt.Color("category_name:N", title="Category"),
            tooltip=[
                alt.Tooltip("yearmonth(month_start_date):O", title="Month"),
                "category_name:N",
                alt.Tooltip("revenue:Q", format="$,.2f"),
                "units_sold:Q",
            ],
        ),
        width="stretch",
    )

st.subheader(f"Top {top} products")
products = data.frame(
    queries.SALES_TOP_PRODUCTS, start_month=start_month, end_month=end_month, categories=chosen, top=top
)
st.dataframe(
    products.drop(columns=["product_id"]),
    hide_index=True,
    width="stretch",
    column_config={
        "product_name": "Product",
        "category_name": "Category",
        "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
        "units_sold": "Units sold",
        "orders": "Orders",
    },
)
