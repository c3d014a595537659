"""A warehouse connection that several loaders take turns on.

DuckDB lets one process at a time write a database file. target-duckdb opens the warehouse when it starts and keeps
it until it ends, so a second source's load could not run beside the first. This connection is opened when a
statement needs it and closed again when the loader is idle (after a merge, after a table's schema is synced): the
taps of several sources then run side by side, and their loaders take turns on the file. A loader that finds the file
locked waits and tries again, up to `wait_seconds`, then stops with the reason.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Callable
from typing import Any

import duckdb

# How long a loader waits for another process to let go of the warehouse before it gives up.
WAIT_SECONDS_VARIABLE = "TIDEWATER_WAREHOUSE_WAIT_SECONDS"
DEFAULT_WAIT_SECONDS = 900.0
FIRST_PAUSE, LONGEST_PAUSE = 0.02, 0.5
# Connects that fail while no other process holds the file, before the error is taken as the file's own (damaged,
# unreadable): the holder may have let go between the failed connect and the look at the lock.
UNHELD_ATTEMPTS = 5


class WarehouseBusyError(Exception):
    """The warehouse file stayed locked by another process for longer than the loader waits."""


def wait_seconds_from_environment() -> float:
    text = os.environ.get(WAIT_SECONDS_VARIABLE)
    if not text:
        return DEFAULT_WAIT_SECONDS
    try:
        return float(text)
    except ValueError:
        raise WarehouseBusyError(f"{WAIT_SECONDS_VARIABLE} must be a number of seconds, got {text!r}") from None


def is_lock_conflict(error: Exception, path: str) -> bool:
    """Whether the connect failed because another process holds the file: asked of the operating system, where
    DuckDB takes its locks (fcntl). DuckDB's message cannot tell: every IO error has one type, and a damaged file's
    "in block at location" says "lock" too (waiting would not mend it)."""
    if not isinstance(error, duckdb.IOException):
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as probe:
        return probe.errno in (errno.EACCES, errno.EAGAIN)
    finally:
        os.close(fd)  # drops this process's locks on the file: it holds none, its connect has just failed
    return False


class SharedWarehouseConnection:
    """A DuckDB connection opened on first use and closed by `release()`; other attributes pass through."""

    def __init__(self, connect: Callable[[], Any], *, wait_seconds: float, label: str) -> None:
        self._connect = connect
        self._wait_seconds = wait_seconds
        self._label = label
        self._connection: Any = None
        self.turns = 0  # how many times the warehouse was opened
        self.waited = 0.0  # seconds spent waiting for another process to let go of it

    @property
    def is_open(self) -> bool:
        return self._connection is not None

    def _open(self) -> Any:
        started = time.monotonic()
        pause = FIRST_PAUSE
        unheld = 0
        while True:
            try:
                self._connection = self._connect()
                break
            except duckdb.Error as error:
                waited = time.monotonic() - started
                if not is_lock_conflict(error, self._label):
                    unheld += 1
                    if not isinstance(error, duckdb.IOException) or unheld >= UNHELD_ATTEMPTS:
                        raise
                    time.sleep(FIRST_PAUSE)
                    continue
                if waited >= self._wait_seconds:
                    raise WarehouseBusyError(
                        f"the warehouse {self._label} stayed locked by another process for {waited:.0f} s "
                        f"(the loader waits up to {self._wait_seconds:.0f} s, {WAIT_SECONDS_VARIABLE}): {error}"
                    ) from error
                time.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
        self.turns += 1
        self.waited += time.monotonic() - started
        return self._connection

    def execute(self, query: str, *args: Any, **kwargs: Any) -> SharedWarehouseConnection:
        (self._connection or self._open()).execute(query, *args, **kwargs)
        return self

    def release(self) -> None:
        """Close the connection (DuckDB writes the changes into the file) so another loader can take its turn."""
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()

    def close(self) -> None:
        self.release()

    def __getattr__(self, name: str) -> Any:
        # fetchone, fetchall, description...: they read the result of the statement just executed.
        if self._connection is None:
            raise AttributeError(f"{name}: the warehouse connection is not open (no statement was executed)")
        return getattr(self._connection, name)
