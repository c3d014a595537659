"""Data health: the last build, what did not pass, the sources' freshness, and the recent runs (Elementary's tables)."""

from __future__ import annotations

import streamlit as st

from tidewater.serve.dashboards import data, figures, queries

st.title("Data health")

build = data.frame(queries.HEALTH_LAST_BUILD)
if build.empty:
    st.info("No `dbt build` recorded yet.")
    st.stop()
last = build.iloc[0]
st.caption(f"The last `dbt build` (dbt {last['dbt_version']}), from Elementary's run and test results.")

tiles = [
    ("Last build", f"{last['completed_at']:%d %b %H:%M} UTC", "When the last `dbt build` finished."),
    ("Data up to", f"{last['last_business_day']:%d %b %Y}", "The last business day in the metric marts."),
    ("Models built", figures.count(last["nodes_built"]), "Models, snapshots and seeds the last build ran."),
    ("Failed or skipped", figures.count(last["nodes_failed"]), "Nodes of the last build in error, failing or skipped."),
    ("Tests warning", figures.count(last["tests_warning"]), "Tests of the last build that warned."),
]
for row_start in range(0, len(tiles), 3):
    for column, (label, value, help_text) in zip(st.columns(3), tiles[row_start : row_start + 3], strict=False):
        column.metric(label, value, help=help_text, border=True)

st.subheader("Tests not passing in the last build")
not_passing = data.frame(queries.HEALTH_TESTS_NOT_PASSING)
if not_passing.empty:
    st.success(f"All {figures.count(last['tests_passing'])} tests passed.")
else:
    st.dataframe(
        not_passing,
        hide_index=True,
        width="stretch",
        column_config={
            "status": "Status",
            "test": "Test",
            "test_type": "Kind",
            "model": "Model",
            "column_name": "Column",
            "failures": "Failing rows",
            "description": "Result",
            "detected_at": st.column_config.DatetimeColumn("Detected at", format="D MMM YYYY HH:mm"),
        },
    )

st.subheader("Source freshness")
st.caption("Judged inside the last build by the sources' freshness tests, at the end of the last business day.")
freshness = data.frame(queries.HEALTH_FRESHNESS_TESTS)
if freshness.empty:
    st.info("The last build ran no freshness test.")
else:
    st.dataframe(
        freshness,
        hide_index=True,
        width="stretch",
        column_config={
            "source_table": "Source table",
            "test": "Test",
            "status": "Status",
            "description": "Result",
            "detected_at": st.column_config.DatetimeColumn("Checked at", format="D MMM YYYY HH:mm"),
        },
    )
source_freshness = data.frame(queries.HEALTH_FRESHNESS)
if not source_freshness.empty:
    st.caption("`dbt source freshness`, last run of each source table:")
    st.dataframe(source_freshness, hide_index=True, width="stretch")

st.subheader("Recent dbt runs")
st.dataframe(
    data.frame(queries.HEALTH_RUNS),
    hide_index=True,
    width="stretch",
    column_config={
        "completed_at": st.column_config.DatetimeColumn("Finished at", format="D MMM YYYY HH:mm"),
        "command": "Command",
        "nodes": "Nodes",
        "failed": "Failed or skipped",
        "warned": "Warned",
    },
)
