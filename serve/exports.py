"""MetricFlow's saved queries, exported as tables for readers without MetricFlow (the dashboards, a spreadsheet).

dbt Core parses a saved query's `exports` (models/metrics/_saved_queries.yml) but only dbt Cloud runs them. Here
each export becomes `<schema>.<alias>` (exports.<name>) in a serving copy: MetricFlow compiles the saved query to
SQL in this process, from the semantic manifest of the last dbt build, and DuckDB runs it on the copy. The copy has
the warehouse's catalog name and schemas, so the SQL MetricFlow writes for the warehouse runs there unchanged, and
an export holds what `mf query --saved-query <name>` answers.

Compiling needs no warehouse connection and no `mf` process: one engine answers every saved query in a fraction of
a second, so this can run inside every `make run`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

SEMANTIC_MANIFEST = "semantic_manifest.json"
DEFAULT_SCHEMA = "exports"


@dataclass(frozen=True)
class Export:
    """One export of a saved query: where it goes and the SQL that fills it."""

    saved_query: str
    schema: str
    table: str
    export_as: str
    sql: str
    description: str


def compile_exports(semantic_manifest: Path) -> list[Export]:
    """Every saved query's exports, with MetricFlow's SQL for DuckDB, in the order the manifest lists them."""
    # Imported here: MetricFlow takes a few hundred milliseconds to import, and only this step needs it.
    from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
    from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
    from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

    if not semantic_manifest.exists():
        raise TidewaterError(f"no semantic manifest at {semantic_manifest}: build the dbt project first (`make run`)")
    manifest = parse_manifest_from_dbt_generated_manifest(manifest_json_string=semantic_manifest.read_text())
    engine = MetricFlowEngine(semantic_manifest_lookup=SemanticManifestLookup(manifest), sql_client=_DuckDbDialect())
    exports: list[Export] = []
    for saved_query in manifest.saved_queries:
        try:
            explained = engine.explain(MetricFlowQueryRequest.create(saved_query_name=saved_query.name))
        except Exception as exc:
            raise TidewaterError(f"MetricFlow cannot compile saved query {saved_query.name!r}: {exc}") from exc
        for export in saved_query.exports:
            exports.append(
                Export(
                    saved_query=saved_query.name,
                    schema=export.config.schema_name or DEFAULT_SCHEMA,
                    table=export.config.alias or export.name,
                    export_as=export.config.export_as.value,
                    sql=explained.sql_statement.sql,
                    description=" ".join((saved_query.description or "").split()),
                )
            )
    return exports


def write_exports(settings: Settings, con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Create or replace every saved query's export in the database `con` is open on (a serving copy). Returns
    what the run's metadata shows: each export's rows and the seconds it all took."""
    started = time.monotonic()
    exports = compile_exports(settings.dbt_target_dir / SEMANTIC_MANIFEST)
    compiled = time.monotonic()
    rows: dict[str, int] = {}
    for export in exports:
        rows[f"{export.schema}.{export.table}"] = write_export(con, export)
    return {
        "rows": rows,
        "compile_seconds": round(compiled - started, 3),
        "seconds": round(time.monotonic() - started, 3),
    }


def write_export(con: duckdb.DuckDBPyConnection, export: Export) -> int:
    """One export, as a table (or a view, if the saved query asks for one); returns its row count."""
    if export.export_as not in ("table", "view"):
        raise TidewaterError(f"saved query {export.saved_query!r}: cannot export as {export.export_as!r}")
    target = f"{_quote(export.schema)}.{_quote(export.table)}"
    try:
        con.execute(f"create schema if not exists {_quote(export.schema)}")
        con.execute(f"create or replace {export.export_as} {target} as {_with_plain_integers(con, export.sql)}")
        # The saved query's description goes with the table, for readers who browse the copy without the YAML.
        con.execute(f"comment on {export.export_as} {target} is {_literal(export.description)}")
        ((count,),) = con.execute(f"select count(*) from {target}").fetchall()
    except duckdb.Error as exc:
        raise TidewaterError(f"saved query {export.saved_query!r}: its export {target} failed: {exc}") from exc
    return int(count)


def _with_plain_integers(con: duckdb.DuckDBPyConnection, sql: str) -> str:
    """The query, its HUGEINT columns cast to BIGINT. DuckDB sums integers into HUGEINT (128 bits), which pandas
    and JSON readers turn into floats: a count would read as 1234.0. Counts this size fit 64 bits by far."""
    wide = [name for name, type_, *_ in con.execute(f"describe (\n{sql}\n)").fetchall() if type_ == "HUGEINT"]
    if not wide:
        return sql
    replaced = ", ".join(f"cast({_quote(name)} as bigint) as {_quote(name)}" for name in wide)
    return f"select * replace ({replaced}) from (\n{sql}\n)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


class _DuckDbDialect:
    """What MetricFlow's engine asks of a SQL client to compile (explain) a query: the engine and its SQL renderer.
    The SQL runs on the caller's DuckDB connection, not through this client, which runs nothing itself."""

    def __init__(self) -> None:
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def query(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("exports run MetricFlow's SQL on their own DuckDB connection")

    execute = dry_run = query

    def close(self) -> None:
        return None

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"
