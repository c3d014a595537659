"""Drill: the app database drifts in ways an extract incremental on updated_at cannot see (issue 19, fault class 4).
An order changed with its updated_at moved backwards (clock skew), a product changed without moving it, a column
staging reads renamed, a selected table dropped. The extractor loads what it sees and exits 0 (tap-postgres skips the
missing table with a warning); the build's reconciliation tests fail naming each, by key or by name, with the fix.
One load and build (the `load_and_build` job, as the landing-zone sensor launches it: `tidewater run` would
regenerate the app database over the drift) on a copy of the built pipeline."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from conftest import Built
from helpers import copy_data_folder, execute, listed_by, rows, tidewater_cli

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.settings import Settings

pytestmark = pytest.mark.drill

DRILL_DAY = "2026-10-31"
FULL_REFRESH = "meltano run --full-refresh tap-postgres target-duckdb-app"


@dataclass
class Drift:
    paths: Settings
    skewed_order: int  # changed (cancelled) with an updated_at a day older than raw's version
    silent_product: int  # renamed without moving updated_at
    launched: dict[str, Any]
    results: dict[str, dict[str, Any]]  # dbt build results by test name

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return rows(self.paths, sql, *params)

    def listed(self, test_name: str) -> list[dict[str, Any]]:
        return listed_by(self.paths, self.results[test_name])


def _drift_app_database(paths: Settings) -> tuple[int, int]:
    server = PostgresServer(paths.postgres_dir)
    connection = server.start()
    try:
        with psycopg.connect(connection.conninfo, autocommit=True) as conn:
            # An order well below the bookmark, so that only a backwards updated_at hides its change.
            (order_id,) = conn.execute(
                "select order_id from public.orders where order_status in ('paid', 'shipped', 'delivered') "
                "and updated_at < (select max(updated_at) - interval '30 days' from public.orders) "
                "order by order_id limit 1"
            ).fetchone() or (None,)
            (product_id,) = conn.execute(
                "select product_id from public.products "
                "where updated_at < (select max(updated_at) from public.products) order by product_id limit 1"
            ).fetchone() or (None,)
            assert order_id is not None and product_id is not None
            conn.execute(
                "update public.orders set order_status = 'cancelled', updated_at = updated_at - interval '1 day' "
                "where order_id = %s",
                (order_id,),
            )
            conn.execute(
                "update public.products set product_name = product_name || ' (renamed)' where product_id = %s",
                (product_id,),
            )
            conn.execute("alter table public.orders rename column currency to currency_code")
            conn.execute("drop table public.payments")
    finally:
        server.stop()
    return order_id, product_id


@pytest.fixture(scope="module")
def drift(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Drift:
    paths = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("source-drift") / "data")
    skewed_order, silent_product = _drift_app_database(paths)
    launched = execute(paths, "load_and_build", {"dagster/partition": DRILL_DAY})
    results = {r["unique_id"].split(".")[2]: r for r in json.loads(paths.build_results_file.read_text())["results"]}
    return Drift(paths, skewed_order, silent_product, launched, results)


def test_the_extract_misses_the_drift_and_the_run_fails(drift: Drift) -> None:
    """The blind spot is real: raw keeps the old order, the old currency and the dropped table's rows; the run does
    not end green."""
    assert not drift.launched["success"]
    assert drift.query("select order_status from raw_app.orders where order_id = ?", drift.skewed_order) != [
        ("cancelled",)
    ]
    assert drift.query("select count(*) from raw_app.payments")[0][0] > 0
    for test in ("assert_app_source_rows_match_raw", "assert_app_source_structure_unchanged"):
        assert drift.results[test]["status"] == "fail", (test, drift.results[test]["status"])


def test_rows_changed_without_being_extracted_are_listed_by_key_with_the_fix(drift: Drift) -> None:
    listed = {(row["entity"], row["key_id"]): row for row in drift.listed("assert_app_source_rows_match_raw")}
    assert set(listed) == {("orders", drift.skewed_order), ("products", drift.silent_product)}, listed
    skewed = listed["orders", drift.skewed_order]
    assert skewed["source_updated_at"] < skewed["raw_updated_at"]
    assert "updated_at moved backwards (clock skew)" in skewed["problem"]
    assert "without moving updated_at" in listed["products", drift.silent_product]["problem"]
    assert all(FULL_REFRESH in row["fix"] for row in listed.values())


def test_a_vanished_column_and_a_vanished_table_are_named(drift: Drift) -> None:
    listed = {
        (row["table_name"], row["column_name"]): row for row in drift.listed("assert_app_source_structure_unchanged")
    }
    assert set(listed) == {("orders", "currency"), ("payments", None)}, listed
    assert "gone from the source" in listed["orders", "currency"]["problem"]
    assert "currency_code" in listed["orders", "currency"]["in_source"]  # where it went
    assert "gone from the source" in listed["payments", None]["problem"]


def test_the_renamed_columns_new_name_is_noticed(drift: Drift) -> None:
    assert drift.results["warn_app_source_columns_not_declared"]["status"] == "warn"
    listed = drift.listed("warn_app_source_columns_not_declared")
    assert [(row["table_name"], row["column_name"]) for row in listed] == [("orders", "currency_code")]


def test_the_other_reconciliation_tests_name_only_what_drifted(drift: Drift) -> None:
    """No key noise: the dropped table's keys are not each reported as deleted; its money total is missing."""
    assert drift.results["assert_source_keys_reach_raw_and_marts"]["status"] == "pass"
    totals = drift.listed("assert_source_totals_match_marts")
    assert {row["measure"] for row in totals} == {"payments_amount", "refunds_amount"}
    assert all(row["source_amount"] is None for row in totals)


def test_reconcile_by_hand_on_the_drifted_source_says_what_is_missing_in_one_line_each(drift: Drift) -> None:
    """`tidewater reconcile` (after a `meltano run el` by hand) on a source missing a table: the snapshot is taken and
    the missing totals are named, one line each; it ended in a traceback. Last in the module: it rewrites audit.*
    (from the same source)."""
    result = tidewater_cli("reconcile", data_dir=drift.paths.data_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert "source snapshot written to audit.*" in result.stdout
    missing = [line for line in result.stderr.splitlines() if line.startswith("warning: no source total for ")]
    assert {line.split()[5].rstrip(":") for line in missing} == {"payments_amount", "refunds_amount"}, result.stderr
