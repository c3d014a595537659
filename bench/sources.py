"""How many rows each source holds, counted at the source: what every loader must land."""

from __future__ import annotations

import csv
from pathlib import Path

import psycopg

from tidewater.bench.load_result import APP_TABLES, marketing_file
from tidewater.orchestrate.audit import landed_line_counts


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


def source_rows(conninfo: str, landing_dir: Path) -> dict[str, int]:
    """Rows per source (app, events, marketing), the same keys as the loaders' results."""
    return {
        "app": sum(app_rows(conninfo).values()),
        "events": event_lines(landing_dir),
        "marketing": marketing_rows(landing_dir),
    }
