"""The lake: every table dbt reads as a source (raw_app, raw_events, raw_marketing, audit, privacy), copied from the
warehouse to Parquet under the data folder after each build, for any engine to read (PostgreSQL and Spark:
scale_out/, docs/scale-out.md). The warehouse file is DuckDB's copy; the lake is the engine-neutral one.

Layout: `lake/<schema>/<table>/load_day=<day>/<table>.parquet`, one file per table and load day. A row's load day is
the UTC day its loader wrote it (`_sdc_batched_at`); a table without that column (the audit snapshot, the erasure
ledger) is rewritten whole each time, under the export's day. The lake holds what raw holds now, not a history: a row
the loader merged again moves to its new day, and a row raw lost (a customer erased, events archived by retention)
leaves the lake too. So a day's file is rewritten only when that day's rows changed (a fingerprint of its rows per
day, kept in `_fingerprints.json` beside the table's days), and a day left with no rows is removed.

Atomic: each file is written under a temporary name and renamed; a day is removed by renaming it away first. A
reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from tidewater.lake.files import hugeint_as_bigint, replace_atomically, sql_path
from tidewater.orchestrate import warehouse

DAY_COLUMN = "load_day"
LOADED_AT = "_sdc_batched_at"
FINGERPRINTS = "_fingerprints.json"
# Each table's columns, with no rows: a table with no rows yet (and each of its columns) still reaches every engine.
# Spark and Hive skip files whose name starts with an underscore.
SCHEMA_FILE = "_schema.parquet"


@dataclass(frozen=True)
class TableExport:
    table: str  # schema.name
    rows: int
    days: int
    days_written: int
    days_removed: int


def table_dir(lake_dir: Path, table: str) -> Path:
    schema, name = table.split(".")
    return lake_dir / schema / name


def day_file(lake_dir: Path, table: str, day: str) -> Path:
    return table_dir(lake_dir, table) / f"{DAY_COLUMN}={day}" / f"{table.split('.')[1]}.parquet"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe {table}").fetchall()]


def _select(con: duckdb.DuckDBPyConnection, table: str, today: date) -> str:
    """The table's rows with their load day, 128-bit integers as 64-bit ones (hugeint_as_bigint)."""
    columns = _columns(con, table)
    names = {name for name, _ in columns}
    replace = hugeint_as_bigint(columns)
    day = f"cast(cast({LOADED_AT} as date) as varchar)" if LOADED_AT in names else f"'{today.isoformat()}'"
    return f"select *{replace}, {day} as {DAY_COLUMN} from {table}"


def _fingerprints(con: duckdb.DuckDBPyConnection, table: str, rows: str) -> dict[str, list[int | str]]:
    """Per load day: rows and an order-free hash of them, with the table's columns (a new column rewrites all)."""
    shape = hashlib.sha256(",".join(f"{n} {k}" for n, k in _columns(con, table)).encode()).hexdigest()[:12]
    found = con.execute(
        f"select {DAY_COLUMN}, count(*), cast(bit_xor(hash(r)) as varchar) from ({rows}) as r group by all"
    ).fetchall()
    return {day: [int(count), f"{digest}:{shape}"] for day, count, digest in found}


def _stored(folder: Path) -> dict[str, list[int | str]]:
    path = folder / FINGERPRINTS
    return json.loads(path.read_text()) if path.exists() else {}


def export_table(con: duckdb.DuckDBPyConnection, lake_dir: Path, table: str, today: date) -> TableExport:
    folder = table_dir(lake_dir, table)
    folder.mkdir(parents=True, exist_ok=True)
    rows = _select(con, table, today)
    now, before = _fingerprints(con, table, rows), _stored(folder)
    # A day whose file is missing (deleted by hand, a crash before the rename) is written again too.
    changed = sorted(day for day in now if before.get(day) != now[day] or not day_file(lake_dir, table, day).exists())
    for day in changed:
        target = day_file(lake_dir, table, day)
        target.parent.mkdir(parents=True, exist_ok=True)
        # The day is in the folder's name, not in the file: engines read it from the path (hive partitioning).
        query = f"select * exclude ({DAY_COLUMN}) from ({rows}) where {DAY_COLUMN} = ?"
        replace_atomically(con, query, [day], target)
    gone = [p for p in folder.glob(f"{DAY_COLUMN}=*") if p.name.split("=", 1)[1] not in now]
    for partition in gone:
        doomed = folder / f".removed-{partition.name}"
        shutil.rmtree(doomed, ignore_errors=True)  # a crash's leftover
        os.replace(partition, doomed)
        shutil.rmtree(doomed)
    replace_atomically(con, f"select * exclude ({DAY_COLUMN}) from ({rows}) limit 0", [], folder / SCHEMA_FILE)
    temporary = folder / f".{FINGERPRINTS}.{os.getpid()}.tmp"
    temporary.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
    os.replace(temporary, folder / FINGERPRINTS)
    return TableExport(table, sum(int(n) for n, _ in now.values()), len(now), len(changed), len(gone))


def source_tables(manifest: dict[str, Any]) -> list[str]:
    """Every table the project reads as a dbt source (schema.name): what the lake holds."""
    return sorted(
        {
            f"{source['schema']}.{source['identifier'] or source['name']}"
            for source in manifest["sources"].values()
            if source["package_name"] == manifest["metadata"]["project_name"]
        }
    )


def export(warehouse_path: Path, lake_dir: Path, tables: list[str]) -> list[TableExport]:
    """Copy `tables` (schema.name) from the warehouse, opened read-only, to the lake."""
    today = datetime.now(UTC).date()
    with warehouse.connect(warehouse_path) as con:
        return [export_table(con, lake_dir, table, today) for table in tables]


def tables(lake_dir: Path) -> list[str]:
    """The lake's tables (schema.name), those with a schema file."""
    return sorted(f"{p.parent.parent.name}.{p.parent.name}" for p in lake_dir.glob(f"*/*/{SCHEMA_FILE}"))


def files(lake_dir: Path, table: str) -> list[Path]:
    """A table's files: its schema file, then each day's."""
    folder = table_dir(lake_dir, table)
    return [folder / SCHEMA_FILE, *sorted(folder.glob(f"{DAY_COLUMN}=*/*.parquet"))]


def read(lake_dir: Path, table: str) -> str:
    """DuckDB's read of a lake table: every day's rows, columns matched by name (a day written before the loader
    added a column has it null), without the load day."""
    listed = ", ".join(sql_path(path) for path in files(lake_dir, table))
    return f"read_parquet([{listed}], union_by_name = true, hive_partitioning = false)"
