"""What a competitor's loader reports: per source, when it started (epoch s), seconds and the rows it loaded.

Standard library only: the competitors run in their own environment (.venv-bench), which has no tidewater deps.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The app database's tables every loader lands. tap-postgres also selects deleted_records (the delete tombstones):
# empty until the sources are advanced a day, so on the fresh sources the bench loads the counts agree.
APP_TABLES: tuple[str, ...] = ("customers", "suppliers", "products", "orders", "order_items", "payments")


class LoadResult:
    def __init__(self) -> None:
        self.sources: dict[str, dict[str, Any]] = {}

    @contextmanager
    def timed(self, source: str) -> Iterator[dict[str, Any]]:
        entry: dict[str, Any] = {"started": time.time(), "rows": {}}
        started = time.perf_counter()
        yield entry
        entry["seconds"] = time.perf_counter() - started
        self.sources[source] = entry

    def write(self, path: Path, **extra: Any) -> None:
        path.write_text(json.dumps({"sources": self.sources, **extra}, indent=2) + "\n")


def loader_arguments(description: str) -> argparse.Namespace:
    """The command line every competitor takes: the same sources the pipeline loaded, and where to write."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--conninfo", required=True, help="postgresql:// URL of the app database")
    parser.add_argument("--landing-dir", required=True, type=Path, help="the pipeline's landing folder")
    parser.add_argument("--database", required=True, type=Path, help="the DuckDB file to create")
    parser.add_argument("--work-dir", required=True, type=Path, help="scratch space (dlt's pipelines folder)")
    parser.add_argument("--result", required=True, type=Path, help="where to write the JSON result")
    return parser.parse_args()


def event_files(landing_dir: Path) -> list[Path]:
    """The landing zone's event files, as tap-landing-zone finds them."""
    return sorted((landing_dir / "events").glob("*/*.jsonl"))


def marketing_file(landing_dir: Path) -> Path:
    return landing_dir / "marketing" / "marketing_spend.csv"
