"""The serving copy: the one DuckDB file the dashboards and the suppliers' API read, never the warehouse itself.

DuckDB lets one process write a file or many read it, so a dashboard holding the warehouse open would stop the next
load. After each successful build, `publish` copies what serving may show (the marts, the metric marts and the
Elementary tables of the data-health page) into a new file, prepares it there (the saved queries' exports, the
tenant-scoped macros) and checks every dashboard query against it. Only then is it promoted, by replacing one
symlink (`serving/current`) atomically: a reader opens either the previous copy or the new one, never a half-built
one, and a failed build or check leaves the previous copy in place.

Each copy is `serving/<stamp>/tidewater.duckdb`: the same catalog name as the warehouse, so SQL compiled against the
warehouse (MetricFlow's) runs on the copy unchanged.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings

FILE_NAME = "tidewater.duckdb"
STAMP = "%Y%m%dT%H%M%S%fZ"  # a copy's folder name: when it was made (UTC)
CURRENT = "current"
# Copies kept besides the current one: a reader that opened the previous copy just before a promotion finishes on it.
PREVIOUS_KEPT = 1
# Whole schemas copied (their tables; serving never reads raw, staging or intermediate).
SCHEMAS = ("marts", "metrics")
# Elementary's tables the data-health page reads (its views name the warehouse's catalog, so only tables are copied).
ELEMENTARY_TABLES = ("dbt_invocations", "elementary_test_results", "dbt_source_freshness_results", "dbt_run_results")

# A step that prepares a candidate copy (creates tables or macros, or checks queries) and says what it did.
Step = Callable[[duckdb.DuckDBPyConnection], dict[str, Any]]


@dataclass
class Publication:
    database: Path
    tables: dict[str, int] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    seconds: float = 0.0


def current_database(settings: Settings) -> Path:
    """The serving copy readers open now."""
    link = settings.serving_dir / CURRENT
    if not link.exists():
        raise TidewaterError(f"nothing published in {settings.serving_dir} yet: run `make run` first")
    return link.resolve() / FILE_NAME


def connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the current serving copy (the caller closes it)."""
    return duckdb.connect(str(current_database(settings)), read_only=True)


def publish(settings: Settings, steps: dict[str, Step]) -> Publication:
    """Copy, prepare and check a new serving copy, then promote it; on any failure the previous copy stays current."""
    started = time.monotonic()
    settings.serving_dir.mkdir(parents=True, exist_ok=True)
    # Named by the time of publication, to the microsecond: sorted by name, the copies are in the order made.
    folder = settings.serving_dir / datetime.now(UTC).strftime(STAMP)
    folder.mkdir()
    publication = Publication(database=folder / FILE_NAME)
    try:
        with _candidate(publication.database) as con:
            publication.tables, last_erasure = _copy_from_warehouse(con, settings.warehouse)
            for name, step in steps.items():
                publication.steps[name] = step(con)
        _promote(settings.serving_dir, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    _prune(settings.serving_dir, keep=folder, erased_at=last_erasure)
    publication.seconds = time.monotonic() - started
    return publication


@contextmanager
def _candidate(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect(str(path))
    try:
        yield con
        con.execute("checkpoint")
    finally:
        con.close()


def _copy_from_warehouse(con: duckdb.DuckDBPyConnection, source: Path) -> tuple[dict[str, int], datetime | None]:
    """The tables copied with their row counts, and when the last erasure request was recorded (if any)."""
    if not source.exists():
        raise TidewaterError(f"warehouse not found: {source} (run `make run` to build it)")
    if warehouse.held_by_another_process(source, read_only=True):
        raise TidewaterError(f"warehouse is being written by another process: {source}")
    quoted = str(source).replace("'", "''")
    con.execute(f"attach '{quoted}' as warehouse (read_only)")
    try:
        tables = con.execute(
            """
            select schema_name, table_name
            from duckdb_tables()
            where database_name = 'warehouse'
              and (schema_name in (select unnest($schemas))
                   or (schema_name = 'elementary' and table_name in (select unnest($elementary))))
            order by 1, 2
            """,
            {"schemas": list(SCHEMAS), "elementary": list(ELEMENTARY_TABLES)},
        ).fetchall()
        copied: dict[str, int] = {}
        for schema, table in tables:
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as select * from warehouse."{schema}"."{table}"')
            copied[f"{schema}.{table}"] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        ledger = con.execute(
            "select 1 from duckdb_tables() where database_name = 'warehouse' and schema_name = 'privacy'"
            " and table_name = 'erasure_requests'"
        ).fetchall()
        last_erasure = (
            con.execute("select max(recorded_at) from warehouse.privacy.erasure_requests").fetchone()[0]
            if ledger
            else None
        )
    finally:
        con.execute("detach warehouse")
    return copied, last_erasure


def _promote(serving_dir: Path, folder: Path) -> None:
    link = serving_dir / CURRENT
    staged = serving_dir / f".{CURRENT}.{os.getpid()}"
    staged.unlink(missing_ok=True)
    staged.symlink_to(folder.name)  # relative: the data folder may be copied or moved
    os.replace(staged, link)


def _prune(serving_dir: Path, keep: Path, erased_at: datetime | None) -> None:
    """Keep PREVIOUS_KEPT copies besides `keep`, none made before the last erasure request was recorded (they may
    still hold the person; a reader with one open finishes on its unlinked file)."""
    copies = sorted(
        (p for p in serving_dir.iterdir() if p.is_dir() and not p.is_symlink() and p != keep and _made(p)),
        key=lambda p: p.name,
    )
    for index, old in enumerate(copies):
        made = _made(old)
        if index < len(copies) - PREVIOUS_KEPT or (erased_at and made and made < erased_at.replace(tzinfo=UTC)):
            shutil.rmtree(old, ignore_errors=True)


def _made(copy: Path) -> datetime | None:
    """When a copy was made, from its name; None for a folder publish did not make (left alone)."""
    try:
        return datetime.strptime(copy.name, STAMP).replace(tzinfo=UTC)
    except ValueError:
        return None
