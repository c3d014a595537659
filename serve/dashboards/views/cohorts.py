"""Customer cohorts: of the customers who signed up in a month, how many bought, and how many bought again, month
after month."""

from __future__ import annotations

import altair as alt
import streamlit as st

from tidewater.serve.dashboards import data, figures, queries

st.title("Customer cohorts")

months = [stamp.date() for stamp in data.frame(queries.COHORT_MONTHS)["cohort_month"]]
if not months:
    st.info("No customers yet.")
    st.stop()

measures = {
    "repeat_rate_to_date": "Repeat buyers, of the buyers so far",
    "buyer_rate_to_date": "Buyers so far, of the cohort",
    "retention_rate": "Bought in the month, of the cohort",
}
with st.sidebar:
    if len(months) > 1:
        start_month, end_month = st.select_slider(
            "Sign-up months",
            options=months,
            value=(months[0], months[-1]),
            format_func=lambda m: f"{m:%b %Y}",
            key="cohort_months",
        )
    else:
        start_month = end_month = months[0]
    measure = st.radio("Show", list(measures), format_func=measures.get, key="cohort_measure")

st.caption(
    "A cohort is the customers who signed up in one month; a purchase is a non-cancelled order. Each cohort is shown "
    "up to the last month with data."
)

summary = data.frame(queries.COHORT_SUMMARY, start_month=start_month, end_month=end_month)
customers, buyers, repeat_buyers = (summary[c].sum() for c in ("cohort_customers", "buyers", "repeat_buyers"))
tiles = [
    ("Customers", figures.count(customers), "Customers who signed up in the months chosen."),
    ("Buyers", figures.count(buyers), "Those with at least one purchase so far."),
    ("Repeat buyers", figures.count(repeat_buyers), "Those with two or more purchases so far."),
    (
        "Repeat rate",
        figures.percent(repeat_buyers / buyers if buyers else None),
        "Repeat buyers, of the buyers so far.",
    ),
]
for column, (label, value, help_text) in zip(st.columns(len(tiles)), tiles, strict=True):
    column.metric(label, value, help=help_text, border=True)

st.subheader(measures[measure])
matrix = data.frame(queries.COHORT_MATRIX, start_month=start_month, end_month=end_month)
base = alt.Chart(matrix).encode(
    x=alt.X("months_since_signup:O", title="Months since sign-up"),
    y=alt.Y("yearmonth(cohort_month):O", title="Sign-up month"),
)
heatmap = base.mark_rect().encode(
    color=alt.Color(f"{measure}:Q", title=None, scale=alt.Scale(domain=[0, 1]), legend=alt.Legend(format="%")),
    tooltip=[
        alt.Tooltip("yearmonth(cohort_month):O", title="Sign-up month"),
        alt.Tooltip("months_since_signup:O", title="Months since sign-up"),
        alt.Tooltip("cohort_customers:Q", title="Cohort"),
        alt.Tooltip("active_customers:Q", title="Bought in the month"),
        alt.Tooltip(f"{measure}:Q", title=measures[measure], format=".1%"),
    ],
)
labels = base.mark_text(fontSize=11).encode(
    text=alt.Text(f"{measure}:Q", format=".0%"),
    color=alt.condition(f"datum.{measure} > 0.6", alt.value("white"), alt.value("black")),
)
st.altair_chart(heatmap + labels, width="stretch")

st.subheader("By sign-up month")
st.dataframe(
    summary,
    hide_index=True,
    width="stretch",
    column_config={
        "cohort_month": st.column_config.DateColumn("Sign-up month", format="MMM YYYY"),
        "months_observed": "Months observed",
        "cohort_customers": "Customers",
        "buyers": "Buyers",
        "repeat_buyers": "Repeat buyers",
        "buyer_rate": st.column_config.NumberColumn("Buyers, of the cohort", format="percent"),
        "repeat_rate": st.column_config.NumberColumn("Repeat, of the buyers", format="percent"),
        "orders": "Orders",
        "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
    },
)
