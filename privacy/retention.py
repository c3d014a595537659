"""Retention of raw data: rows stay hot in the warehouse for a while, then move to an archive of Parquet files
partitioned by day under the data folder, and are deleted once older than the policy allows
(privacy/retention.yml, or TIDEWATER_RETENTION_POLICY_FILE).

The day is the day folder a row's landing file sits in (`landed_date`, from `_source_file`), not the event's time:
every row has it (a malformed line or an unparseable timestamp has no event time), a file never spans two days, and
the file is what the loader replaces whole when it is delivered again. So a day's archive is one file,
`archive/raw_events/events/landed_date=<day>/events.parquet`, rewritten whole whenever rows of that day are archived:
the hot rows of the day plus the archived rows of the files not back in raw. That one rule makes a retry after a
crash (archive written, raw not yet deleted) write the same rows again, not twice; and a late file landing in an
archived day's folder, or an archived file delivered again, joins or replaces that day's rows.

Never a row lost: a day's file is written under a temporary name, flushed to disk and renamed (a half-written file
is never visible), and only then, in one transaction, are the hot rows deleted, after checking that each of them is
in the file. The figures of each run that moved or deleted rows go to `audit.retention_runs`, in that same
transaction.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import yaml

from tidewater.generate import advance as time_moves
from tidewater.lake.files import hugeint_as_bigint, replace_atomically, sql_path
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import FIRST_DAY
from tidewater.orchestrate.settings import Settings

# The tables retention knows, with the SQL of each row's day (rows whose day is null are never archived).
DAY_OF_ROW = {"raw_events.events": "try_cast(split_part(_source_file, '/', 1) as date)"}
DAY_COLUMN = "landed_date"
# A row is the same row in raw and in the archive when these match (the loader's key, and its load time: a file
# loaded again is a new row).
ROW_KEY = ("_source_file", "_line_number", "_sdc_batched_at")
RUNS_TABLE = "audit.retention_runs"
PARTITION = re.compile(rf"^{DAY_COLUMN}=(\d{{4}}-\d{{2}}-\d{{2}})$")


@dataclass(frozen=True)
class TablePolicy:
    table: str  # schema.table
    hot_days: int
    delete_after_days: int


@dataclass(frozen=True)
class TableResult:
    """What one run did to one table."""

    table: str
    business_day: date
    hot_days: int
    delete_after_days: int
    archived_rows: int  # rows moved from raw to the archive (each also gone from raw)
    archived_days: list[date]  # the days whose archive file was (re)written
    deleted_rows: int  # archived rows deleted with their day, past delete_after_days
    deleted_days: list[date]
    hot_rows: int  # after the run
    archive_rows: int  # after the run


def load_policy(path: Path) -> list[TablePolicy]:
    """The policy file, checked: a TidewaterError naming the file and the problem when it is not right."""
    where = f"retention policy {path}"
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise TidewaterError(f"{where}: no such file (TIDEWATER_RETENTION_POLICY_FILE)") from None
    except yaml.YAMLError as exc:
        raise TidewaterError(f"{where}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(document, dict) or set(document) != {"tables"} or not isinstance(document["tables"], dict):
        raise TidewaterError(f"{where}: expected one key, `tables`, mapping schema.table to its hot_days and "
                             "delete_after_days")  # fmt: skip
    policies = []
    for table, days in document["tables"].items():
        if table not in DAY_OF_ROW:
            raise TidewaterError(f"{where}: unknown table {table!r} (retention knows {', '.join(sorted(DAY_OF_ROW))})")
        if not isinstance(days, dict) or set(days) != {"hot_days", "delete_after_days"}:
            raise TidewaterError(f"{where}: {table} needs exactly hot_days and delete_after_days, got {days!r}")
        for key, value in days.items():
            # bool is an int in Python: `hot_days: yes` is a mistake, not 1.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise TidewaterError(f"{where}: {table}.{key} must be a whole number of days >= 0, got {value!r}")
        if days["delete_after_days"] <= days["hot_days"]:
            raise TidewaterError(
                f"{where}: {table}.delete_after_days ({days['delete_after_days']}) must be more than hot_days "
                f"({days['hot_days']}): rows are archived before they are deleted"
            )
        policies.append(TablePolicy(table, days["hot_days"], days["delete_after_days"]))
    return policies


def business_day(settings: Settings) -> date:
    """The last day the sources moved to (dbt's business "now" is midnight after it): day 0, 2026-10-31, plus the
    days advanced, as the landing zone records them, so retention judges time as the build does."""
    return FIRST_DAY + timedelta(days=time_moves.recorded_days_advanced(settings.landing_dir))


def table_dir(settings: Settings, table: str) -> Path:
    schema, name = table.split(".")
    return settings.archive_dir / schema / name


def partition_dir(settings: Settings, table: str, day: date) -> Path:
    return table_dir(settings, table) / f"{DAY_COLUMN}={day.isoformat()}"


def partition_file(settings: Settings, table: str, day: date) -> Path:
    return partition_dir(settings, table, day) / f"{table.split('.')[1]}.parquet"


def archived_days(settings: Settings, table: str) -> list[date]:
    folder = table_dir(settings, table)
    days = [PARTITION.match(p.name) for p in folder.iterdir()] if folder.is_dir() else []
    return sorted(date.fromisoformat(m.group(1)) for m in days if m)


def _read(files: str) -> str:
    """read_parquet of `files` (SQL: a quoted path or a list of them), with the columns the files hold: DuckDB would
    add the folder's landed_date=<day> as a column of its own."""
    return f"read_parquet({files}, hive_partitioning = false, union_by_name = true)"


def _write_day(con: duckdb.DuckDBPyConnection, settings: Settings, table: str, day: date) -> int:
    """(Re)write one day's archive file: the day's hot rows, plus the rows already archived for files not back in
    raw (a file in both is the loader's newer copy). Atomic: a temporary name, flushed, then renamed. Returns the
    file's rows."""
    target = partition_file(settings, table, day)
    target.parent.mkdir(parents=True, exist_ok=True)
    replace = hugeint_as_bigint([(name, kind) for name, kind, *_ in con.execute(f"describe {table}").fetchall()])
    hot = f"select *{replace} from {table} where {DAY_OF_ROW[table]} = ?"
    query = hot
    params: list[Any] = [day]
    if target.exists():
        query = (
            f"{hot} union all by name select * from {_read(sql_path(target))} "
            f"where _source_file not in (select _source_file from {table} where {DAY_OF_ROW[table]} = ?)"
        )
        params = [day, day]
    # Ordered by file and line: the same rows make the same file, and a reader scans a file's lines together.
    replace_atomically(con, f"{query} order by _source_file, _line_number, _sdc_batched_at", params, target)
    (rows,) = con.execute(f"select count(*) from {_read(sql_path(target))}").fetchone() or (0,)
    return int(rows)


def _expire(settings: Settings, table: str, before: date) -> tuple[int, list[date]]:
    """Delete the archive's days older than `before`: each folder is first renamed away (hidden), so a reader never
    sees a day half deleted. Returns the rows and days deleted."""
    rows, days = 0, []
    folder = table_dir(settings, table)
    for day in archived_days(settings, table):
        if day >= before:
            continue
        partition = partition_dir(settings, table, day)
        files = sorted(partition.glob("*.parquet"))
        if files:
            listed = ", ".join(sql_path(f) for f in files)
            with duckdb.connect() as con:
                rows += int((con.execute(f"select count(*) from {_read(f'[{listed}]')}").fetchone() or (0,))[0])
        doomed = folder / f".expired-{partition.name}"
        shutil.rmtree(doomed, ignore_errors=True)  # a crash's leftover
        os.replace(partition, doomed)
        shutil.rmtree(doomed)
        days.append(day)
    return rows, days


def _record(con: duckdb.DuckDBPyConnection, result: TableResult, ran_at: datetime) -> None:
    con.execute("create schema if not exists audit")
    con.execute(
        f"""create table if not exists {RUNS_TABLE} (
            ran_at timestamp, table_name varchar, business_day date, hot_days integer, delete_after_days integer,
            archived_rows bigint, archived_days integer, deleted_rows bigint, deleted_days integer,
            hot_rows bigint, archive_rows bigint
        )"""
    )
    con.execute(
        f"insert into {RUNS_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [ran_at, result.table, result.business_day, result.hot_days, result.delete_after_days,
         result.archived_rows, len(result.archived_days), result.deleted_rows, len(result.deleted_days),
         result.hot_rows, result.archive_rows],
    )  # fmt: skip


def archive_rows(settings: Settings, table: str) -> int:
    files = sorted(table_dir(settings, table).glob(f"{DAY_COLUMN}=*/*.parquet"))
    if not files:
        return 0
    with duckdb.connect() as con:
        listed = ", ".join(sql_path(f) for f in files)
        return int((con.execute(f"select count(*) from {_read(f'[{listed}]')}").fetchone() or (0,))[0])


def apply_table(settings: Settings, policy: TablePolicy, today: date) -> TableResult:
    table = policy.table
    hot_before = today - timedelta(days=policy.hot_days)
    delete_before = today - timedelta(days=policy.delete_after_days)
    folder = table_dir(settings, table)
    for leftover in folder.glob(f"{DAY_COLUMN}=*/.*.tmp") if folder.is_dir() else []:
        leftover.unlink()  # a crash's half-written file: never renamed, so never read
    # The archive's expired days first; then raw's days past the hot horizon: archived, or, past the delete horizon
    # too (a policy shortened, a folder that was not retained for a while), deleted from raw without an archive.
    deleted_rows, deleted_days = _expire(settings, table, delete_before)
    with warehouse.connect(settings.warehouse, read_only=False) as con:
        con.execute("set enable_progress_bar = false")
        day = DAY_OF_ROW[table]
        due = [d for (d,) in con.execute(
            f"select distinct {day} from {table} where {day} < ? order by 1", [hot_before]
        ).fetchall()]  # fmt: skip
        to_archive = [d for d in due if d >= delete_before]
        for each in to_archive:
            _write_day(con, settings, table, each)
        con.execute("begin transaction")
        try:
            archived = 0
            for each in to_archive:
                # Each hot row of the day must be in its file before any is deleted.
                key = " and ".join(f"a.{c} is not distinct from h.{c}" for c in ROW_KEY)
                (missing,) = con.execute(
                    f"select count(*) from {table} as h where {day} = ? and not exists "
                    f"(select 1 from {_read(sql_path(partition_file(settings, table, each)))} as a "
                    f"where {key})",
                    [each],
                ).fetchone() or (0,)
                if missing:
                    raise TidewaterError(
                        f"retention: {missing} rows of {table} for {each} are not in the archive file just written; "
                        "nothing deleted"
                    )
                (gone,) = con.execute(f"delete from {table} where {day} = ?", [each]).fetchone() or (0,)
                archived += int(gone)
            for each in (d for d in due if d < delete_before):
                (gone,) = con.execute(f"delete from {table} where {day} = ?", [each]).fetchone() or (0,)
                deleted_rows += int(gone)
                deleted_days = sorted({*deleted_days, each})
            (hot_rows,) = con.execute(f"select count(*) from {table}").fetchone() or (0,)
            result = TableResult(
                table=table,
                business_day=today,
                hot_days=policy.hot_days,
                delete_after_days=policy.delete_after_days,
                archived_rows=archived,
                archived_days=to_archive,
                deleted_rows=deleted_rows,
                deleted_days=deleted_days,
                hot_rows=int(hot_rows),
                archive_rows=archive_rows(settings, table),
            )
            if result.archived_days or result.deleted_days or deleted_rows:
                # A run that moved or deleted nothing leaves no row: a rerun changes nothing in the warehouse.
                _record(con, result, datetime.now(UTC).replace(tzinfo=None))
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
    return result


def apply(settings: Settings, today: date | None = None) -> list[TableResult]:
    """Apply the policy to every table it names, as of `today` (default: the business day)."""
    policies = load_policy(settings.retention_policy)
    return [apply_table(settings, policy, today or business_day(settings)) for policy in policies]


def summary(result: TableResult) -> dict[str, Any]:
    """A result as plain values (the asset's metadata, a log line)."""
    values = asdict(result)
    values["business_day"] = result.business_day.isoformat()
    values["archived_days"] = [d.isoformat() for d in result.archived_days]
    values["deleted_days"] = [d.isoformat() for d in result.deleted_days]
    return values
