"""What the sources held at load time, written into the warehouse (schema `audit`) for dbt's reconciliation tests.

Taken right after extract and load, while PostgreSQL is up: every key of every app table, the money totals, and
the number of lines in each landing file. The tests in tests/dbt/reconciliation compare raw and the marts with
it on every build and list, by id, what is missing or extra.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.sources import selected_tables, source

SCHEMA = "audit"
APP_SCHEMA = "public"
# Raw tables a tap writes about its input rather than rows of it (tap-landing-zone's list of files).
METADATA_TABLES = frozenset({"landing_files"})
TOTALS = {
    "order_lines_net_amount": "select sum(quantity * unit_price - discount_amount) from public.order_items",
    "payments_amount": "select sum(amount) from public.payments where payment_type = 'payment'",
    "refunds_amount": "select sum(amount) from public.payments where payment_type = 'refund'",
}


def landed_line_counts(events_dir: Path) -> list[tuple[str, int]]:
    """(file relative to the events folder, non-blank lines) for every landing file, as the tap reads them."""
    counts = []
    for path in sorted(events_dir.glob("*/*.jsonl")):
        with path.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        counts.append((path.relative_to(events_dir).as_posix(), lines))
    return counts


def app_keys(cur: Any) -> dict[str, str]:
    """Table -> key column, for each app table the app's extractor selects (meltano/extractors.meltano.yml) whose
    primary key is one column: keys are listed from the source, so a row missing downstream is named by its id.
    (deleted_records, keyed by table and id, holds tombstones, not rows of the shop.)"""
    tables = selected_tables(source("app"), APP_SCHEMA)
    cur.execute(
        "select tc.table_name, min(kcu.column_name), count(*) from information_schema.table_constraints tc "
        "join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name "
        "and kcu.table_schema = tc.table_schema "
        "where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = %s and tc.table_name = any(%s) group by 1",
        (APP_SCHEMA, tables),
    )
    single = {table: column for table, column, columns in cur.fetchall() if columns == 1}
    return {table: single[table] for table in tables if table in single}


def snapshot_sources(conninfo: str, events_dir: Path, warehouse_path: Path) -> tuple[dict[str, int], list[str]]:
    """Write audit.source_keys, audit.source_totals and audit.landed_files; return rows per entity and the totals
    that could not be computed (their amount is null, which the reconciliation test reports)."""
    import psycopg

    rows: dict[str, int] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tidewater-audit-") as tmp:
        keys_file = Path(tmp) / "keys.csv"
        totals: list[tuple[str, str | None]] = []
        with psycopg.connect(conninfo) as conn, conn.cursor() as cur, keys_file.open("wb") as out:
            keys = app_keys(cur)
            union = " union all ".join(
                f"select '{table}', {key} from {APP_SCHEMA}.{table}" for table, key in keys.items()
            )
            with cur.copy(f"copy ({union}) to stdout with (format csv)") as copy:
                for chunk in copy:
                    out.write(chunk)
            for measure, query in TOTALS.items():
                try:
                    with conn.transaction():
                        cur.execute(query)
                        value = cur.fetchone()
                except (psycopg.errors.DataError, psycopg.errors.UndefinedFunction) as exc:
                    # A source column changed type (e.g. quantity became text): no total. dbt's on-run-start check
                    # then stops the build naming the column; were it to go on, the reconciliation test fails.
                    problems.append(f"{measure}: {str(exc).splitlines()[0]}")
                    totals.append((measure, None))
                    continue
                totals.append((measure, str(value[0] if value and value[0] is not None else 0)))
        files = landed_line_counts(events_dir)
        with warehouse.connect(warehouse_path, read_only=False) as con:
            con.execute(f"create schema if not exists {SCHEMA}")
            con.execute(
                f"create or replace table {SCHEMA}.source_keys as select * from read_csv(?, header = false, "
                "columns = {'entity': 'varchar', 'key_id': 'bigint'})",
                [str(keys_file)],
            )
            con.execute(f"create or replace table {SCHEMA}.source_totals (measure varchar, amount decimal(18, 2))")
            con.executemany(f"insert into {SCHEMA}.source_totals values (?, ?)", totals)
            con.execute(f"create or replace table {SCHEMA}.landed_files (source_file varchar, line_count bigint)")
            if files:
                con.executemany(f"insert into {SCHEMA}.landed_files values (?, ?)", files)
            con.execute(f"create or replace table {SCHEMA}.snapshot_taken as select current_timestamp as taken_at")
            for entity, count in con.execute(
                f"select entity, count(*) from {SCHEMA}.source_keys group by 1 order by 1"
            ).fetchall():
                rows[entity] = count
    rows["landing files"] = len(files)
    rows["landed lines"] = sum(n for _, n in files)
    return rows, problems
