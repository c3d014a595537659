"""Erasure: a customer who asked to be forgotten leaves every store of the warehouse, and stays out.

Requests come two ways: the app's own (it hard-deletes the customer; the tombstone reaches raw_app.deleted_records)
and `tidewater forget CUSTOMER_ID` (the customer may still be in the app). Both go to one ledger,
privacy.erasure_requests: the customer id, when it was asked (requested_at, business time) and recorded here
(recorded_at, the machine's clock), by whom. The id is kept so that the person is suppressed when the app sends their
row again; nothing else about them is kept.

`apply` runs at the start of every build (the dbt_build step, once the loads are done): it deletes the customer's raw
rows (their pseudonyms, city, postal code), their snapshot history, their days in the incremental feature and score
marts, and Elementary's stored samples that name them. The audiences are rebuilt without them, so the reverse ETL
sync of the same run sends the CRM and the webhook their deletion.
Staging is a view of raw, and the marts, the metrics and the serving copy are rebuilt from staging in the same run,
so the person leaves those too. Their orders stay for the books, under a customer id that no longer leads to anyone.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

LEDGER = "privacy.erasure_requests"
# The tables a person's rows are deleted from, by customer_id. Views and marts rebuilt from staging in the same run need
# nothing; incremental marts keep the days they built, so the person's days are deleted there: their features and
# scores (serve/ml), whose models keep no customer's rows.
ERASED_TABLES = (
    ("raw_app", "customers"),
    ("snapshots", "snp_app__customers"),
    ("marts", "fct_customer_features_daily"),
    ("marts", "fct_customer_scores_daily"),
)

_CREATE_LEDGER = f"""
create schema if not exists privacy;
create table if not exists {LEDGER} (
    customer_id bigint primary key,
    requested_at timestamp not null,
    requested_by varchar not null,
    recorded_at timestamp not null default timezone('UTC', now())
);
"""


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    query = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    row = con.execute(query, [schema, table]).fetchone()
    return bool(row and row[0])


def request(con: duckdb.DuckDBPyConnection, customer_ids: Iterable[int], requested_by: str) -> list[int]:
    """Record erasure requests; returns the ids that were not already requested."""
    con.execute(_CREATE_LEDGER)
    new = []
    for customer_id in sorted(set(customer_ids)):
        inserted = con.execute(
            f"insert into {LEDGER} (customer_id, requested_at, requested_by) values (?, timezone('UTC', now()), ?)"
            " on conflict do nothing returning customer_id",
            [customer_id, requested_by],
        ).fetchall()
        new += [row[0] for row in inserted]
    return new


def apply(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Remove every requested customer from raw, the snapshot and Elementary's samples, in one transaction.
    Returns the rows removed per table (zeros when there was nothing left to remove)."""
    con.execute(_CREATE_LEDGER)
    removed: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        if _exists(con, "raw_app", "deleted_records"):
            # The app's erasure requests: a customer it hard-deleted (only erasure deletes a customer there).
            con.execute(f"""
                insert into {LEDGER} (customer_id, requested_at, requested_by)
                select record_id, min(deleted_at)::timestamp, 'app'
                from raw_app.deleted_records
                where table_name = 'customers'
                group by record_id
                on conflict do nothing
            """)
        erased = f"(select customer_id from {LEDGER})"
        for schema, table in ERASED_TABLES:
            if _exists(con, schema, table):
                row = con.execute(f"delete from {schema}.{table} where customer_id in {erased} returning 1").fetchall()
                removed[f"{schema}.{table}"] = len(row)
        if _exists(con, "elementary", "test_result_rows"):
            # Failing rows Elementary kept as samples (pseudonyms never: disable_samples_on_pii_tags), by customer id.
            naming = f"""
                select elementary_test_results_id from elementary.test_result_rows
                where try_cast(json_extract_string(result_row, '$.customer_id') as bigint) in {erased}
            """
            sampled = con.execute(f"""
                update elementary.elementary_test_results set result_rows = null
                where id in ({naming}) returning 1
            """).fetchall()
            removed["elementary.elementary_test_results"] = len(sampled)
            deleted = con.execute(f"""
                delete from elementary.test_result_rows
                where try_cast(json_extract_string(result_row, '$.customer_id') as bigint) in {erased}
                returning 1
            """).fetchall()
            removed["elementary.test_result_rows"] = len(deleted)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return removed


def requested(con: duckdb.DuckDBPyConnection) -> int:
    """How many customers have asked to be forgotten."""
    con.execute(_CREATE_LEDGER)
    row = con.execute(f"select count(*) from {LEDGER}").fetchone()
    return int(row[0]) if row else 0
