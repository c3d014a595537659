"""KPIs: the period's big numbers for the whole business, their trend by day or month, and the channels by month."""

from __future__ import annotations

import altair as alt
import streamlit as st

from tidewater.serve.dashboards import data, figures, queries

st.title("KPIs")

bounds = data.frame(queries.KPI_DATE_BOUNDS).iloc[0]
first_day, last_day = bounds["first_day"].date(), bounds["last_day"].date()
channels = data.frame(queries.KPI_CHANNELS)
channel_names = dict(zip(channels["channel_code"], channels["channel_name"], strict=True))

with st.sidebar:
    period = st.date_input(
        "Period", value=(first_day, last_day), min_value=first_day, max_value=last_day, key="kpi_period"
    )
    grain = st.radio("Trend by", ["day", "month"], index=1, horizontal=True, key="kpi_grain")
    chosen = st.multiselect(
        "Channels (section by channel)",
        options=list(channel_names),
        default=list(channel_names),
        format_func=channel_names.get,
        key="kpi_channels",
    )

# While a range is being picked the widget holds its first day only.
start_date, end_date = (period[0], period[-1]) if isinstance(period, tuple) and period else (first_day, last_day)

totals = data.frame(queries.KPI_TOTALS, start_date=start_date, end_date=end_date).iloc[0]
st.caption(f"{start_date:%d %b %Y} to {end_date:%d %b %Y}, all channels (data up to {last_day:%d %b %Y}).")

tiles = [
    ("Revenue", figures.money(totals["revenue"]), "Non-cancelled orders' revenue, before refunds."),
    ("Net revenue", figures.money(totals["net_revenue"]), "Revenue less refunds on those orders."),
    ("Orders", figures.count(totals["orders"]), "Orders placed, cancelled ones included."),
    ("Average order value", figures.money(totals["average_order_value"]), "Revenue per non-cancelled order."),
    (
        "Active customers",
        figures.count(totals["active_customers_90d"]),
        "Customers with a non-cancelled order in the 90 days to the period's last day.",
    ),
    ("Conversion", figures.percent(totals["conversion_rate"]), "Sessions with a purchase, of all sessions."),
    ("Cost per acquisition", figures.money(totals["cost_per_acquisition"]), "Marketing spend per new customer."),
    ("Blended ROAS", figures.ratio(totals["blended_roas"]), "All revenue per dollar of marketing spend."),
    (
        "Attributed ROAS",
        figures.ratio(totals["attributed_roas"]),
        "Revenue of customers acquired through paid channels per dollar of marketing spend.",
    ),
]
# Three a row: a year's revenue to the cent fits a tile on a laptop's screen.
for row_start in range(0, len(tiles), 3):
    for column, (label, value, help_text) in zip(st.columns(3), tiles[row_start : row_start + 3], strict=True):
        column.metric(label, value, help=help_text, border=True)

trend = data.frame(queries.KPI_TREND, start_date=start_date, end_date=end_date, grain=grain)
st.subheader(f"Trend by {grain}")
money_trend = trend.melt(id_vars="period_start", value_vars=["revenue", "net_revenue", "spend"], var_name="measure")
money_trend["measure"] = money_trend["measure"].map(
    {"revenue": "Revenue", "net_revenue": "Net revenue", "spend": "Spend"}
)
left, right = st.columns(2)
left.altair_chart(
    alt.Chart(money_trend)
    .mark_line(point=grain == "month")
    .encode(
        x=alt.X("period_start:T", title=None),
        y=alt.Y("value:Q", title="USD"),
        color=alt.Color("measure:N", title=None),
        tooltip=["period_start:T", "measure:N", alt.Tooltip("value:Q", format="$,.2f")],
    ),
    width="stretch",
)
right.altair_chart(
    alt.Chart(trend)
    .mark_bar()
    .encode(
        x=alt.X("period_start:T", title=None),
        y=alt.Y("orders:Q", title="Orders"),
        tooltip=["period_start:T", "orders:Q", alt.Tooltip("average_order_value:Q", format="$,.2f")],
    ),
    width="stretch",
)
left, right = st.columns(2)
left.altair_chart(
    alt.Chart(trend)
    .mark_line(point=grain == "month")
    .encode(
        x=alt.X("period_start:T", title=None),
        y=alt.Y("conversion_rate:Q", title="Conversion", axis=alt.Axis(format="%")),
        tooltip=["period_start:T", alt.Tooltip("conversion_rate:Q", format=".2%")],
    ),
    width="stretch",
)
right.altair_chart(
    alt.Chart(trend)
    .mark_line(point=grain == "month")
    .encode(
        x=alt.X("period_start:T", title=None),
        y=alt.Y("active_customers_90d:Q", title="Active customers (90 days)"),
        tooltip=["period_start:T", "active_customers_90d:Q"],
    ),
    width="stretch",
)

st.subheader("By channel")
st.caption(
    "Spend is by the spreadsheet's channel, orders, revenue and new customers by the channel that acquired the "
    "customer, sessions by the session's traffic source. 'Unknown' holds what has no known channel (orders without "
    "a customer, spend on an unrecognised channel, sessions without a source), so the channels add up to the whole."
)
by_channel = data.frame(queries.KPI_CHANNEL_TOTALS, start_date=start_date, end_date=end_date, channels=chosen)
if by_channel.empty:
    st.info("No channel chosen, or nothing in the period.")
else:
    channel_trend = data.frame(
        queries.KPI_CHANNEL_TREND, start_date=start_date, end_date=end_date, channels=chosen, grain=grain
    )
    st.altair_chart(
        alt.Chart(channel_trend)
        .mark_bar()
        .encode(
            x=alt.X("period_start:T", title=None),
            y=alt.Y("revenue:Q", title="Revenue (USD)"),
            color=alt.Color("channel_name:N", title="Channel"),
            tooltip=[
                "period_start:T",
                "channel_name:N",
                alt.Tooltip("revenue:Q", format="$,.2f"),
                alt.Tooltip("spend:Q", format="$,.2f"),
            ],
        ),
        width="stretch",
    )
    st.dataframe(
        by_channel.drop(columns=["channel_code"]),
        hide_index=True,
        width="stretch",
        column_config={
            "channel_name": "Channel",
            "is_paid": "Paid",
            "revenue": st.column_config.NumberColumn("Revenue", format="dollar"),
            "net_revenue": st.column_config.NumberColumn("Net revenue", format="dollar"),
            "orders": "Orders",
            "average_order_value": st.column_config.NumberColumn("AOV", format="dollar"),
            "new_customers": "New customers",
            "spend": st.column_config.NumberColumn("Spend", format="dollar"),
            "cost_per_acquisition": st.column_config.NumberColumn("CPA", format="dollar"),
            "attributed_roas": st.column_config.NumberColumn("Attributed ROAS", format="%.2f"),
            "sessions": "Sessions",
            "conversion_rate": st.column_config.NumberColumn("Conversion", format="percent"),
        },
    )
