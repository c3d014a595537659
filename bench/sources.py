"""How many rows each source holds, counted at the source: what every loader must land.

The sources are the ones Meltano declares (meltano/*.meltano.yml); how to count each one's rows is the bench's own
knowledge, kept here, so a source without a counter stops the bench rather than passing uncounted."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import psycopg

from tidewater.bench.load_result import APP_TABLES, marketing_file
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.landed_files import landed_line_counts
from tidewater.orchestrate.sources import meltano_sources


def app_rows(conninfo: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    with psycopg.connect(conninfo) as connection:
        for table in APP_TABLES:
            row = connection.execute(f"select count(*) from public.{table}").fetchone()
            counts[table] = int(row[0]) if row else 0
    return counts


def event_lines(landing_dir: Path) -> int:
    """Non-blank lines of every event file, counted as the reconciliation's audit snapshot counts them."""
    return sum(lines for _, lines in landed_line_counts(landing_dir / "events"))


def marketing_rows(landing_dir: Path) -> int:
    with marketing_file(landing_dir).open(newline="", encoding="utf-8") as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)  # less the header


# Source name (raw_<name> in the warehouse) -> its rows, from the app database's URL and the landing folder.
COUNTERS: dict[str, Callable[[str, Path], int]] = {
    "app": lambda conninfo, landing_dir: sum(app_rows(conninfo).values()),
    "events": lambda conninfo, landing_dir: event_lines(landing_dir),
    "marketing": lambda conninfo, landing_dir: marketing_rows(landing_dir),
}


def source_rows(conninfo: str, landing_dir: Path) -> dict[str, int]:
    """Rows per source, in meltano's order, with the same keys as the loaders' results."""
    names = [source.name for source in meltano_sources()]
    unknown = [name for name in names if name not in COUNTERS]
    if unknown:
        raise TidewaterError(
            f"the bench cannot count the rows of source(s) {unknown}: add a counter to bench/sources.py (and a load "
            f"to bench/dlt_load.py and bench/duckdb_readers.py)"
        )
    return {name: COUNTERS[name](conninfo, landing_dir) for name in names}
