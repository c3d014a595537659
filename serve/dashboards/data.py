"""How the pages read the serving copy: one read-only connection per copy, and results cached per copy.

Both caches are keyed by the copy's file (serving/<stamp>/tidewater.duckdb, resolved through serving/current), so the
first view after a run promotes a new copy opens it, and nothing is ever read from a copy's predecessor once it has
gone. The connection is shared by every viewer's session (threads): each query runs on its own cursor.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import streamlit as st

from tidewater.orchestrate.settings import Settings
from tidewater.serve import published
from tidewater.serve.dashboards import queries


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    return Settings.load()


def current_copy() -> Path:
    """The serving copy now current (raises TidewaterError before the first run)."""
    return published.current_database(settings())


def published_at(copy: Path) -> str:
    """When a copy was published, from its folder's name (serving/<UTC time>/, serve/published.py)."""
    try:
        stamp = datetime.strptime(copy.parent.name, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    except ValueError:
        return copy.parent.name
    return f"{stamp:%d %b %Y %H:%M} UTC"


# Two: the current copy and, for a moment after a promotion, the one before it (kept by published._prune).
@st.cache_resource(max_entries=2, show_spinner=False, on_release=lambda con: con.close())
def _connection(database: str) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(database, read_only=True)


@st.cache_data(max_entries=500, show_spinner=False)
def _frame(database: str, name: str, params: dict[str, Any]) -> pd.DataFrame:
    with _connection(database).cursor() as cursor:
        return queries.run(cursor, queries.QUERIES[name], params)


def frame(query: queries.Query, **params: Any) -> pd.DataFrame:
    """The result of one of the dashboards' queries on the current serving copy."""
    return _frame(str(current_copy()), query.name, params)
