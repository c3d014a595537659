"""The web funnel: sessions, then those with a product view, an add to cart, a checkout and a purchase."""

from __future__ import annotations

import altair as alt
import streamlit as st

from tidewater.serve.dashboards import data, figures, queries

st.title("Funnel")

bounds = data.frame(queries.FUNNEL_DATE_BOUNDS).iloc[0]
if bounds.isna().any():
    st.info("No sessions yet.")
    st.stop()
first_day, last_day = bounds["first_day"].date(), bounds["last_day"].date()

with st.sidebar:
    period = st.date_input(
        "Period", value=(first_day, last_day), min_value=first_day, max_value=last_day, key="funnel_period"
    )
    grain = st.radio("Trend by", ["day", "week", "month"], index=2, horizontal=True, key="funnel_grain")
start_date, end_date = (period[0], period[-1]) if isinstance(period, tuple) and period else (first_day, last_day)

st.caption(
    f"{start_date:%d %b %Y} to {end_date:%d %b %Y}. Each step counts the sessions with at least one such event "
    "(bots excluded): a session that skipped a step still counts in the later ones."
)

steps = data.frame(queries.FUNNEL_STEPS, start_date=start_date, end_date=end_date)
for column, step in zip(st.columns(len(steps)), steps.itertuples(), strict=True):
    column.metric(
        step.step,
        figures.count(step.sessions),
        help=f"{figures.percent(step.share_of_sessions)} of sessions",
        border=True,
    )

left, right = st.columns(2)
with left:
    st.subheader("Steps")
    st.altair_chart(
        alt.Chart(steps)
        .mark_bar()
        .encode(
            y=alt.Y("step:N", sort=alt.SortField("step_number"), title=None),
            x=alt.X("sessions:Q", title="Sessions"),
            tooltip=[
                "step:N",
                "sessions:Q",
                alt.Tooltip("share_of_sessions:Q", title="Of sessions", format=".1%"),
                alt.Tooltip("share_of_previous_step:Q", title="Of the previous step", format=".1%"),
            ],
        ),
        width="stretch",
    )
with right:
    st.subheader(f"Rates by {grain}")
    trend = data.frame(queries.FUNNEL_TREND, start_date=start_date, end_date=end_date, grain=grain)
    rates = trend.melt(
        id_vars="period_start",
        value_vars=["product_view_rate", "add_to_cart_rate", "checkout_rate", "conversion_rate"],
        var_name="step",
        value_name="rate",
    )
    rates["step"] = rates["step"].map(
        {
            "product_view_rate": "Product view",
            "add_to_cart_rate": "Add to cart",
            "checkout_rate": "Checkout",
            "conversion_rate": "Purchase",
        }
    )
    st.altair_chart(
        alt.Chart(rates)
        .mark_line(point=grain != "day")
        .encode(
            x=alt.X("period_start:T", title=None),
            y=alt.Y("rate:Q", title="Of sessions", axis=alt.Axis(format="%")),
            color=alt.Color("step:N", title=None),
            tooltip=["period_start:T", "step:N", alt.Tooltip("rate:Q", format=".2%")],
        ),
        width="stretch",
    )

st.dataframe(
    steps.drop(columns=["step_number"]),
    hide_index=True,
    width="stretch",
    column_config={
        "step": "Step",
        "sessions": "Sessions",
        "share_of_sessions": st.column_config.NumberColumn("Of sessions", format="percent"),
        "share_of_previous_step": st.column_config.NumberColumn("Of the previous step", format="percent"),
    },
)
