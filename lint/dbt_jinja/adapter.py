"""`adapter.dispatch('name', 'package')(...)`: the project's own `duckdb__name`, else `default__name`, as dbt picks."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    for prefix in ("duckdb__", "default__"):
        candidate = context.resolve_or_missing(prefix + macro_name)
        if callable(candidate):
            return candidate
    raise NameError(f"no duckdb__{macro_name} or default__{macro_name} macro to lint with")


def quote(identifier: str) -> str:
    """`adapter.quote('x')`: a quoted identifier, as DuckDB quotes it."""
    return f'"{identifier}"'
