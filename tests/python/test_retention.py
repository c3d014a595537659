"""Retention of raw events (privacy/retention.py): rows move from raw_events.events to the Parquet archive and are
deleted from it later, and none is lost or doubled on the way.

One copy of the built pipeline (business day 2026-10-31, events landed from 2025-11-01) under a policy of its own
(30 days hot, deleted after 370), moved on in time step by step: the pipeline's retention step archives the month
before; staging rebuilt gives the same rows; a crash after an archive file was written and before raw was cleaned is
retried; eight days on, the two oldest days of the archive are deleted. No full pipeline run: the retention step runs
alone, as the lifecycle job's asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from conftest import Built
from helpers import copy_data_folder, in_dagster, rows, scalar

from tidewater.orchestrate import dbt, warehouse
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings
from tidewater.privacy import retention

pytestmark = pytest.mark.drill

TABLE = "raw_events.events"
POLICY = "tables:\n  raw_events.events:\n    hot_days: 30\n    delete_after_days: 370\n"
BUSINESS_DAY = date(2026, 10, 31)  # the built pipeline's (day 0)
DAY = "try_cast(split_part(_source_file, '/', 1) as date)"
KEYS = "select _source_file, _line_number::bigint, _sdc_batched_at from "
STAGING = "select * from staging.stg_events__events order by all"
REDELIVERED_DAY = date(2026, 9, 15)
REDELIVERED = "2026-09-15/events.jsonl"

RETENTION_STEP = """
from dagster import execute_job
from tidewater.orchestrate.assets.retention import RAW_EVENTS
result = execute_job(d.reconstructable("lifecycle"), instance=instance, tags={"dagster/partition": "2026-10-31"},
                     asset_selection=[RAW_EVENTS], raise_on_error=False)
(materialization,) = [e.event_specific_data.materialization for e in result.all_events
                      if e.event_type_value == "ASSET_MATERIALIZATION"]
print(json.dumps({"success": result.success,
                  "metadata": {k: getattr(v, "value", None) for k, v in materialization.metadata.items()}}))
"""


def archive_keys(settings: Settings) -> list[tuple[Any, ...]]:
    files = sorted(retention.table_dir(settings, TABLE).glob("landed_date=*/*.parquet"))
    if not files:
        return []
    with duckdb.connect() as con:
        return con.execute(f"{KEYS} read_parquet({[str(f) for f in files]}) order by all").fetchall()


def hot_keys(settings: Settings) -> list[tuple[Any, ...]]:
    return rows(settings, f"{KEYS} {TABLE} order by all")


def last_run(settings: Settings) -> dict[str, Any]:
    with warehouse.connect(settings.warehouse) as con:
        cursor = con.execute("select * from audit.retention_runs order by ran_at desc limit 1")
        return dict(zip([c[0] for c in cursor.description], cursor.fetchone() or (), strict=True))


@dataclass
class Retained:
    settings: Settings
    raw_before: list[tuple[Any, ...]]  # every raw row's key in the built pipeline
    rows_by_day: dict[date, int]  # the built pipeline's raw rows per landing day
    landed_lines: int  # lines of the landing files the tap reads (raw_events.landing_files)
    staging_before: list[tuple[Any, ...]]
    # After the retention step (Dagster), business day 2026-10-31:
    step: dict[str, Any]
    step_run: dict[str, Any]
    hot_after: list[tuple[Any, ...]]
    archive_after: list[tuple[Any, ...]]
    partitions: list[str]
    partition_days_match: bool  # every archived row sits in the folder of its own landing day
    file_columns: list[str]  # the archive files' own columns, after every step below
    staging_after: list[tuple[Any, ...]]
    archived_view_rows: int
    # A crash after day 2026-10-01's file was written, before raw was cleaned; retried at 2026-11-01:
    retry: retention.TableResult
    retry_hot: list[tuple[Any, ...]]
    retry_archive: list[tuple[Any, ...]]
    retry_day_file_rows: int
    leftover_gone: bool
    # An archived file back in raw (delivered again): rows of it the archive's view still shows; then, archived
    # again with the rest on 2026-11-08, its rows and corrected lines in its day's file.
    redelivered_in_view: int
    redelivered_archived: tuple[int, int]
    # 2026-11-08: the archive's days before 2025-11-03 are past 370 days.
    expiry: retention.TableResult
    expiry_hot: list[tuple[Any, ...]]
    expiry_archive: list[tuple[Any, ...]]
    expiry_run: dict[str, Any]
    expiry_unreconciled: list[tuple[Any, ...]]  # assert_landed_lines_reach_raw's rows after the deletion


@pytest.fixture(scope="module")
def retained(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Retained:
    folder = tmp_path_factory.mktemp("retention")
    policy = folder / "retention.yml"
    policy.write_text(POLICY)
    copy = copy_data_folder(built.settings.data_dir, folder / "data")
    settings = Settings.load(copy.data_dir, retention_policy_file=policy)
    raw_before = hot_keys(settings)
    rows_by_day = dict(rows(settings, f"select {DAY}, count(*) from {TABLE} group by 1"))
    landed_lines = scalar(
        settings, "select sum(line_count) from raw_events.landing_files where rejected_reason is null"
    )
    staging_before = rows(settings, STAGING)

    step = in_dagster(settings, RETENTION_STEP)
    step_run = last_run(settings)
    hot_after, archive_after = hot_keys(settings), archive_keys(settings)
    table_dir = retention.table_dir(settings, TABLE)
    partitions = sorted(p.name for p in table_dir.iterdir())
    with duckdb.connect() as con:
        mismatched = con.execute(
            f"select count(*) from read_parquet('{table_dir}/*/*.parquet', hive_partitioning = true) "
            f"where landed_date != {DAY}"
        ).fetchone()
    # Reconciliation still holds: every landed line is in raw or the archive (it fails the build otherwise).
    reconciled = "stg_events__archived_events stg_events__events assert_landed_lines_reach_raw"
    dbt.run(settings, ["build", "--select", reconciled], log_name="dbt-retention")
    staging_after = rows(settings, STAGING)
    archived_view_rows = scalar(settings, "select count(*) from staging.stg_events__archived_events")

    # The crash: the next day's archive file written (as the step writes it), raw not cleaned; a half-written file.
    crash_day = BUSINESS_DAY - timedelta(days=30)
    with warehouse.connect(settings.warehouse, read_only=False) as con:
        retention._write_day(con, settings, TABLE, crash_day)
    leftover = retention.partition_dir(settings, TABLE, date(2026, 9, 1)) / ".events.parquet.999.tmp"
    leftover.write_bytes(b"PAR1 half a file")
    (retry,) = retention.apply(settings, today=BUSINESS_DAY + timedelta(days=1))
    with duckdb.connect() as con:
        (retry_day_file_rows,) = con.execute(
            f"select count(*) from read_parquet('{retention.partition_file(settings, TABLE, crash_day)}')"
        ).fetchone() or (0,)
    retry_hot, retry_archive = hot_keys(settings), archive_keys(settings)

    # An archived file delivered again, its first line corrected: the loader reads it whole into raw again.
    with warehouse.connect(settings.warehouse, read_only=False) as con:
        con.execute(
            f"insert into {TABLE} by name select * replace (now()::timestamp as _sdc_batched_at, "
            "case when _line_number = 1 then 'corrected' else event_type end as event_type) "
            f"from read_parquet('{retention.partition_file(settings, TABLE, REDELIVERED_DAY)}', "
            "hive_partitioning = false) where _source_file = ?",
            [REDELIVERED],
        )
    in_view = rows(settings, "select count(*) from staging.stg_events__archived_events where _source_file = ?",
                   REDELIVERED)[0][0]  # fmt: skip
    (expiry,) = retention.apply(settings, today=date(2026, 11, 8))
    # Reconciliation after days were deleted on purpose: their files are expected nowhere (is_retained_landing_file).
    # Its query run here, without the file this test changed in raw alone (a real delivery changes the landing zone).
    dbt.run(settings, ["run", "--select", "stg_events__archived_events"], log_name="dbt-retention")
    dbt.run(settings, ["compile", "--select", "assert_landed_lines_reach_raw"], log_name="dbt-retention")
    [compiled] = settings.dbt_target_dir.glob("compiled/**/assert_landed_lines_reach_raw.sql")
    unreconciled = rows(settings, f"select * from ({compiled.read_text()}) where source_file != ?", REDELIVERED)
    with duckdb.connect() as con:
        redelivered = con.execute(
            "select count(*), count(*) filter (event_type = 'corrected') "
            f"from read_parquet('{retention.partition_file(settings, TABLE, REDELIVERED_DAY)}') where _source_file = ?",
            [REDELIVERED],
        ).fetchone()
        # Every file, rewritten ones too (the crash's day, the redelivered file's day).
        file_columns = [c[0] for c in con.execute(
            f"describe select * from read_parquet('{table_dir}/*/*.parquet', hive_partitioning = false, "
            "union_by_name = true)"
        ).fetchall()]  # fmt: skip
    return Retained(
        settings, raw_before, rows_by_day, landed_lines, staging_before,
        step, step_run, hot_after, archive_after, partitions, mismatched == (0,), file_columns,
        staging_after, archived_view_rows,
        retry, retry_hot, retry_archive, retry_day_file_rows, not leftover.exists(),
        in_view, redelivered, expiry, hot_keys(settings), archive_keys(settings), last_run(settings), unreconciled,
    )  # fmt: skip


def test_the_retention_step_moves_old_days_to_the_archive_and_loses_none(retained: Retained) -> None:
    assert retained.step["success"]
    figures = retained.step["metadata"]
    archived = len(retained.raw_before) - len(retained.hot_after)
    # The days before 2026-10-01 (30 days before the business day): 2025-11-01 .. 2026-09-30.
    due = {day: n for day, n in retained.rows_by_day.items() if day < date(2026, 10, 1)}
    assert len(due) == 334 and archived == sum(due.values()) > 0
    assert figures[f"{TABLE} archived_rows"] == archived == len(retained.archive_after)
    assert figures[f"{TABLE} archived_days"] == 334 and figures[f"{TABLE} deleted_rows"] == 0
    assert figures[f"{TABLE} hot_rows"] == len(retained.hot_after)
    # Moved, never lost, never doubled: hot + archive = what raw held = the lines landed.
    assert sorted(retained.hot_after + retained.archive_after) == retained.raw_before
    assert len(retained.hot_after) + len(retained.archive_after) == retained.landed_lines
    assert not [key for key in retained.hot_after if key[0] < "2026-10-01"]
    # The run is on record in the warehouse too.
    run = retained.step_run
    assert (run["table_name"], run["business_day"], run["hot_days"], run["delete_after_days"]) == (
        TABLE, BUSINESS_DAY, 30, 370
    )  # fmt: skip
    assert (run["archived_rows"], run["archived_days"], run["deleted_rows"]) == (archived, 334, 0)


def test_the_archive_is_partitioned_by_landing_day_and_readable(retained: Retained) -> None:
    assert retained.partitions[0] == "landed_date=2025-11-01"
    assert retained.partitions[-1] == "landed_date=2026-09-30"
    assert len(retained.partitions) == 334
    assert retained.partition_days_match
    # The files hold raw's columns, no more (the day is the folder's name).
    raw_columns = [c[0] for c in rows(retained.settings, f"describe {TABLE}")]
    assert retained.file_columns == raw_columns
    # Staging's view over the archive reads all of it.
    assert retained.archived_view_rows == len(retained.archive_after)


def test_staging_keeps_every_event_after_archiving(retained: Retained) -> None:
    """stg_events__events rebuilt from raw and the archive: the same rows, value for value."""
    assert len(retained.staging_after) == len(retained.staging_before) > 0
    assert retained.staging_after == retained.staging_before


def test_a_retry_after_a_crash_between_archive_and_delete_doubles_nothing(retained: Retained) -> None:
    crash_day = date(2026, 10, 1)
    assert retained.retry.archived_days == [crash_day]
    assert retained.retry.archived_rows == retained.rows_by_day[crash_day]
    assert retained.retry_day_file_rows == retained.rows_by_day[crash_day]
    assert sorted(retained.retry_hot + retained.retry_archive) == retained.raw_before
    assert len(set(retained.retry_archive)) == len(retained.retry_archive)
    assert retained.leftover_gone


def test_an_archived_file_delivered_again_replaces_its_archived_copy(retained: Retained) -> None:
    """Raw holds the file's new version: the archive's view leaves the old one out, and the next retention run
    archives the new one in its place (the day's file holds each line once, the corrected one corrected)."""
    assert retained.redelivered_in_view == 0
    lines = sum(1 for key in retained.raw_before if key[0] == REDELIVERED)
    assert lines > 1 and retained.redelivered_archived == (lines, 1)
    assert not [key for key in retained.expiry_hot if key[0] == REDELIVERED]


def test_days_past_the_delete_horizon_are_deleted_and_counted(retained: Retained) -> None:
    expiry = retained.expiry
    gone_days = [date(2025, 11, 1), date(2025, 11, 2)]  # before 2026-11-08 - 370 days = 2025-11-03
    gone = sum(retained.rows_by_day[day] for day in gone_days)
    assert expiry.deleted_days == gone_days and expiry.deleted_rows == gone > 0
    assert expiry.archived_days == [REDELIVERED_DAY] + [date(2026, 10, 1) + timedelta(days=n) for n in range(1, 8)]
    for day in gone_days:
        assert not retention.partition_dir(retained.settings, TABLE, day).exists()
    assert retention.archived_days(retained.settings, TABLE)[0] == date(2025, 11, 3)
    left = [key[:2] for key in retained.raw_before if key[0][:10] not in {d.isoformat() for d in gone_days}]
    # Each line once (the file delivered again is there with its new load time).
    assert sorted(key[:2] for key in retained.expiry_hot + retained.expiry_archive) == left
    run = retained.expiry_run
    assert (run["business_day"], run["deleted_rows"], run["deleted_days"]) == (date(2026, 11, 8), gone, 2)
    assert run["hot_rows"] + run["archive_rows"] == len(left)
    assert retained.expiry_unreconciled == []


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("tables:\n  raw_app.orders: {hot_days: 1, delete_after_days: 2}\n", "unknown table 'raw_app.orders'"),
        ("tables:\n  raw_events.events: {hot_days: -1, delete_after_days: 2}\n", "hot_days must be a whole number"),
        ("tables:\n  raw_events.events: {hot_days: 30, delete_after_days: 30}\n", "must be more than hot_days"),
        ("tables:\n  raw_events.events: {hot_days: 30}\n", "needs exactly hot_days and delete_after_days"),
        ("tables: [raw_events.events\n", "not valid YAML"),
        ("raw_events.events: {hot_days: 1, delete_after_days: 2}\n", "expected one key, `tables`"),
    ],
)
def test_a_bad_policy_file_is_one_clear_error(tmp_path: Path, policy: str, message: str) -> None:
    path = tmp_path / "retention.yml"
    path.write_text(policy)
    with pytest.raises(TidewaterError, match=f"retention policy {path}: .*") as error:
        retention.load_policy(path)
    assert message in str(error.value)


def test_the_projects_policy_is_valid_and_keeps_the_test_data_hot() -> None:
    """The default policy archives nothing of the generated year while the tests move a few days on."""
    (policy,) = retention.load_policy(Settings.load().retention_policy)
    assert policy.table == TABLE and policy.hot_days >= 366 + 10 and policy.delete_after_days > policy.hot_days
