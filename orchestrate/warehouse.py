"""The DuckDB warehouse file: is it there, is it free, and what does each layer hold."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from tidewater.orchestrate.errors import TidewaterError

# dbt opens the warehouse read-only when this is 1 (the dbt-duckdb plugin in duckdb_read_only.py, profiles.yml).
READ_ONLY_VARIABLE = "TIDEWATER_WAREHOUSE_READ_ONLY"

# Schemas in the order data flows through them.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("raw", ("raw_app", "raw_events", "raw_marketing")),
    ("reference (seeds)", ("reference",)),
    ("staging", ("staging",)),
    ("intermediate", ("intermediate",)),
    ("marts", ("marts",)),
    ("snapshots (history)", ("snapshots",)),
    ("metrics", ("metrics",)),
)


@contextmanager
def connect(path: Path, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, turning DuckDB's errors about missing or locked files into one clear line."""
    if read_only and not path.exists():
        raise TidewaterError(f"warehouse not found: {path} (run `make run` to build it)")
    try:
        connection = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" in message.lower():
            holder = (
                message.split("Conflicting lock is held in", 1)[-1].strip().rstrip(".")
                if ("Conflicting lock" in message)
                else "another process"
            )
            raise TidewaterError(f"warehouse is locked by another run: {path} (held by {holder})") from exc
        raise TidewaterError(f"cannot open the warehouse {path}: {message.splitlines()[0]}") from exc
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Hold the warehouse for a whole run (a lock file beside it), so a second run stops at once with one clear
    line instead of meeting the first one's loader or dbt halfway. Released when the run ends, even by kill -9."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = path.parent / f".{path.name}.run-lock"
    with lock_file.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise TidewaterError(f"warehouse is locked by another run: {path} (held by {holder})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"tidewater run, pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_writable(path: Path) -> None:
    """Fail fast, before a long run, if another process holds the warehouse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path, read_only=False):
        pass


def table_counts(path: Path, schemas: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
    """Rows per table, grouped by schema, for every table and view in the warehouse (or the tables of `schemas`
    only: counting a view runs its SQL, which fails while a source column's type is wrong)."""
    counts: dict[str, dict[str, int]] = {}
    only = "" if schemas is None else " and table_type = 'BASE TABLE' and list_contains(?, table_schema)"
    with connect(path) as connection:
        relations = connection.execute(
            "select table_schema, table_name from information_schema.tables "
            f"where table_catalog = current_database(){only} order by 1, 2",
            [] if schemas is None else [list(schemas)],
        ).fetchall()
        for schema, table in relations:
            (rows,) = connection.execute(f'select count(*) from "{schema}"."{table}"').fetchone()
            counts.setdefault(schema, {})[table] = int(rows)
    return counts


def rows_per_layer(counts: dict[str, dict[str, int]]) -> list[tuple[str, int, int]]:
    """(layer, relations, rows) for each layer that has relations."""
    summary = []
    for layer, schemas in LAYERS:
        tables = [rows for schema in schemas for rows in counts.get(schema, {}).values()]
        if tables:
            summary.append((layer, len(tables), sum(tables)))
    return summary
