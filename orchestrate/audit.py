"""What the sources held at load time, written into the warehouse (schema `audit`) for dbt's reconciliation tests.

Taken right after extract and load, while PostgreSQL is up: every key of every app table with its updated_at and
a fingerprint of its content, the app's tables and columns, the money totals, and the number of lines in each
landing file. The tests in tests/dbt/reconciliation compare raw and the marts with it on every build and list, by
id, what is missing, extra or changed without being extracted, and by name a table or column gone from the source.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.app_rows import app_structure, copy_app_rows, write_app_audit
from tidewater.orchestrate.landed_files import landed_files_now, write_landed_files

SCHEMA = "audit"
# Raw tables a tap writes about its input rather than rows of it (tap-landing-zone's list of files).
METADATA_TABLES = frozenset({"landing_files"})
TOTALS = {
    "order_lines_net_amount": "select sum(quantity * unit_price - discount_amount) from public.order_items",
    "payments_amount": "select sum(amount) from public.payments where payment_type = 'payment'",
    "refunds_amount": "select sum(amount) from public.payments where payment_type = 'refund'",
}


def snapshot_sources(conninfo: str, events_dir: Path, warehouse_path: Path) -> tuple[dict[str, int], list[str]]:
    """Write audit.source_rows, source_keys, source_tables, source_columns, source_totals and landed_files; return
    rows per entity and the totals that could not be computed (their amount is null, which the reconciliation test
    reports)."""
    import psycopg

    rows: dict[str, int] = {}
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="tidewater-audit-") as tmp:
        keys_file = Path(tmp) / "keys.csv"
        totals: list[tuple[str, str | None]] = []
        with psycopg.connect(conninfo) as conn, conn.cursor() as cur, keys_file.open("wb") as out:
            app = app_structure(cur)
            copy_app_rows(cur, app, out)
            for measure, query in TOTALS.items():
                try:
                    with conn.transaction():
                        cur.execute(query)
                        value = cur.fetchone()
                except (
                    psycopg.errors.DataError,
                    psycopg.errors.UndefinedFunction,
                    psycopg.errors.UndefinedTable,
                    psycopg.errors.UndefinedColumn,
                ) as exc:
                    # A source column changed type (e.g. quantity became text), or a table or column is gone: no
                    # total. dbt's on-run-start check stops the build on a type change, naming the column;
                    # assert_app_source_structure_unchanged names a vanished table or column; and the totals test
                    # fails on the missing total.
                    problems.append(f"{measure}: {str(exc).splitlines()[0]}")
                    totals.append((measure, None))
                    continue
                totals.append((measure, str(value[0] if value and value[0] is not None else 0)))
        files = landed_files_now(events_dir)
        with warehouse.connect(warehouse_path, read_only=False) as con:
            con.execute(f"create schema if not exists {SCHEMA}")
            write_app_audit(con, SCHEMA, app, keys_file)
            con.execute(f"create or replace table {SCHEMA}.source_totals (measure varchar, amount decimal(18, 2))")
            con.executemany(f"insert into {SCHEMA}.source_totals values (?, ?)", totals)
            write_landed_files(con, SCHEMA, files)
            con.execute(f"create or replace table {SCHEMA}.snapshot_taken as select current_timestamp as taken_at")
            for entity, count in con.execute(
                f"select entity, count(*) from {SCHEMA}.source_keys group by 1 order by 1"
            ).fetchall():
                rows[entity] = count
    rows["landing files"] = len(files)
    rows["landed lines"] = sum(landed.line_count for landed in files)
    return rows, problems
