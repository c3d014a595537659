"""dbt's Jinja names for SQLFluff's fast `jinja` templater (`library_path` in .sqlfluff).

The `jinja` templater renders models without dbt, so it knows `ref`, `source`, `config` and `var` only as dummies
(`apply_dbt_builtins`) and none of dbt's `dbt.*` cross-database macros or `adapter.dispatch`. This package supplies
them: every module here becomes a name in the template context (`dbt`, `adapter`), and what this file defines
(`var`, `env_var`) takes the place of SQLFluff's dummies. Each renders the SQL dbt-duckdb would render, closely
enough for the linter to parse it; none of it runs in dbt.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import yaml

PROJECT_FILE = Path(__file__).resolve().parents[2] / "dbt_project.yml"


@cache
def _project_vars() -> dict[str, Any]:
    try:
        return dict(yaml.safe_load(PROJECT_FILE.read_text()).get("vars") or {})
    except (OSError, yaml.YAMLError):
        return {}


def var(name: str, default: Any = None) -> Any:
    """`var('x')`: the value in dbt_project.yml's `vars`, else the default, else the name itself. A value that is a
    template (`"{{ env_var('X', 'd') }}"`) is rendered, as dbt renders it when it reads the project."""
    value = _project_vars().get(name, name if default is None else default)
    if isinstance(value, str) and "{{" in value:
        import jinja2

        return jinja2.Template(value).render(env_var=env_var)
    return value


def env_var(name: str, default: str | None = None) -> str:
    """`env_var('X', 'd')`: the environment's value, else the default, else the name itself."""
    return os.environ.get(name, name if default is None else default)


# `execute` is false, as while dbt parses: what a test renders only at run time (run_query, graph) is left out of
# the SQL the linter reads, and the rest is linted.
execute = False


class _Target:
    """`target`: the linter renders what the `dev` target (DuckDB) builds."""

    type = "duckdb"
    name = "dev"
    schema = "main"


target = _Target()
