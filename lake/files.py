"""Parquet files written so that a reader never sees half of one: the lake's (export.py) and the events archive's
(privacy/retention.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import duckdb


def sql_path(path: Path) -> str:
    """`path` as a SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def hugeint_as_bigint(columns: list[tuple[str, str]]) -> str:
    """A `select *` modifier for `columns` ((name, DuckDB type)): Parquet has no 128-bit integer (DuckDB would write a
    double), so the loader's HUGEINT columns (ids, line numbers) are written as BIGINT, exact; a value past BIGINT's
    range fails the cast rather than change. Empty when there are none."""
    huge = [name for name, kind in columns if kind in ("HUGEINT", "UHUGEINT")]
    return f" replace ({', '.join(f'cast({c} as bigint) as {c}' for c in huge)})" if huge else ""


def replace_atomically(con: duckdb.DuckDBPyConnection, query: str, params: list[Any], target: Path) -> None:
    """Write `query`'s rows to `target` (Parquet, zstd): under a temporary name, flushed to disk, then renamed."""
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    con.execute(f"copy ({query}) to {sql_path(temporary)} (format parquet, compression zstd)", params)
    fsync(temporary)
    os.replace(temporary, target)
    fsync(target.parent)  # the rename itself on disk
