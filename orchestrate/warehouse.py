"""The DuckDB warehouse file: is it there, is it free, and what does each layer hold."""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from tidewater.orchestrate.errors import TidewaterError

# dbt opens the warehouse read-only when this is 1 (the dbt-duckdb plugin in duckdb_read_only.py, profiles.yml).
READ_ONLY_VARIABLE = "TIDEWATER_WAREHOUSE_READ_ONLY"
# Connects that fail while no other process holds the file, before the error is taken as the file's own (damaged).
UNHELD_ATTEMPTS = 5


def held_by_another_process(path: Path, *, read_only: bool) -> bool:
    """Whether another process holds a lock on the file that stops this one opening it (read-only: any writer;
    read-write: anyone). Asked of the operating system, where DuckDB takes its locks (fcntl), not read from DuckDB's
    message: its IO errors all have one type, and a damaged file's "in block at location" also says "lock"."""
    try:
        fd = os.open(path, os.O_RDONLY if read_only else os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, (fcntl.LOCK_SH if read_only else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return True
        raise
    finally:
        # Closing drops this process's locks on the file: it holds none, its own connect has just failed.
        os.close(fd)
    return False


@contextmanager
def connect(path: Path, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, turning DuckDB's errors about a missing, locked or damaged file into one clear line."""
    if read_only and not path.exists():
        raise TidewaterError(f"warehouse not found: {path} (run `make run` to build it)")
    for attempt in range(1, UNHELD_ATTEMPTS + 1):
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if held_by_another_process(path, read_only=read_only):
                # DuckDB names the holder (program and PID) when it can; only shown, never used to classify.
                message = str(exc).splitlines()[0]
                holder = message.partition("Conflicting lock is held in ")[2].strip().rstrip(".") or "another process"
                raise TidewaterError(f"warehouse is locked by another run: {path} (held by {holder})") from exc
            if attempt == UNHELD_ATTEMPTS:
                raise TidewaterError(f"cannot open the warehouse {path}: {str(exc).splitlines()[0]}") from exc
            time.sleep(0.02)  # the holder may have let go between the failed connect and the look at the lock
    try:
        yield connection
    finally:
        connection.close()


@contextmanager
def run_lock(path: Path, holder: str) -> Iterator[None]:
    """Hold the warehouse for a whole run (a lock file beside it), so a second run stops at once with one clear
    line instead of meeting the first one's loader or dbt halfway. Released when the run ends, even by kill -9."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = path.parent / f".{path.name}.run-lock"

    def write_holder(fd: int) -> None:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder}, pid {os.getpid()}, since {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)

    lock = FileLock(lock_file, blocking=False, on_acquired=write_holder)
    try:
        lock.acquire()
    except Timeout:
        found = lock_file.read_text(errors="replace").strip() if lock_file.exists() else ""
        raise TidewaterError(
            f"warehouse is locked by another run: {path} (held by {found or 'another process'})"
        ) from None
    try:
        yield
    finally:
        lock.release()


def ensure_writable(path: Path) -> None:
    """Fail fast, before a long run, if another process holds the warehouse."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path, read_only=False):
        pass


def drop_leftover_dbt_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """dbt-duckdb stages an incremental Python model's new rows in a real table (`<model>__dbt_tmp<time>`, in
    schema main) and leaves it there after the merge (a killed build too). Dropped after each build and before the
    next, so a run leaves no table but its models'. Returns the tables dropped."""
    leftovers = con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' and regexp_matches(table_name, '__dbt_tmp[0-9]+$')"
    ).fetchall()
    for schema, name in leftovers:
        con.execute(f'drop table "{schema}"."{name}"')
    return [f"{schema}.{name}" for schema, name in leftovers]


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


def rows_per_layer(
    counts: dict[str, dict[str, int]], layers: list[tuple[str, list[str]]]
) -> list[tuple[str, int, int]]:
    """(layer, relations, rows) for each layer that has relations."""
    summary = []
    for layer, schemas in layers:
        tables = [rows for schema in schemas for rows in counts.get(schema, {}).values()]
        if tables:
            summary.append((layer, len(tables), sum(tables)))
    return summary
