"""The dashboards' entry point (`streamlit run`, see `command()`): the navigation between the pages in views/.

Streamlit runs this file as a script on every interaction; the page chosen runs inside it (`navigation.run()`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from tidewater.orchestrate.errors import TidewaterError
from tidewater.serve.dashboards import data, queries

# Not pages/: Streamlit would list a pages/ folder next to the entry script as pages of its own.
VIEWS = Path(__file__).resolve().parent / "views"

st.set_page_config(page_title="Saltbox Home analytics", layout="wide")

kpis = st.Page(VIEWS / "kpis.py", title="KPIs", url_path=queries.KPIS)


def _home() -> None:
    # Every page has its own address (/kpis, ..., as the exposures say); the bare address opens the KPIs.
    st.switch_page(kpis)


navigation = st.navigation(
    [
        st.Page(_home, title="Home", url_path="home", default=True, visibility="hidden"),
        kpis,
        st.Page(VIEWS / "sales.py", title="Sales by category and product", url_path=queries.SALES),
        st.Page(VIEWS / "funnel.py", title="Funnel", url_path=queries.FUNNEL),
        st.Page(VIEWS / "cohorts.py", title="Customer cohorts", url_path=queries.COHORTS),
        st.Page(VIEWS / "health.py", title="Data health", url_path=queries.HEALTH),
    ]
)

try:
    copy = data.current_copy()
except TidewaterError as exc:
    # Before the first `make run` there is nothing to show: say what to do, not a traceback.
    st.title(navigation.title)
    st.info(str(exc))
    st.stop()

st.sidebar.caption(f"Published {data.published_at(copy)}")
navigation.run()
