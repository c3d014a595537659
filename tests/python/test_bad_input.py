"""Drill: bad input of many kinds, all at once. Each is kept (raw and staging or mart) and named by a warn test that
lists it; none is silently dropped. A copy of the built pipeline, the bad input injected, and the run the
landing-zone sensor asks for."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from conftest import Built
from helpers import copy_data_folder, execute, landing_zone_tick, listed_by, meltano_run_alone, rows, scalar

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.settings import Settings

pytestmark = pytest.mark.drill

DRILL_DAY = "2026-10-31"
HUGE_USER_AGENT = "Mozilla/5.0 " + "x" * 3_000_000  # over DuckDB's default 2 MB CSV line
UNKNOWN_CUSTOMER_ID = 990_001
FUTURE = "2027-06-01 10:00:00"  # after the business now (2026-11-01), the metrics' time spine stretches to it


def _event(event_id: str | None, **fields: Any) -> bytes:
    event = {
        "event_id": event_id,
        "event_type": "page_view",
        "occurred_at": f"{DRILL_DAY}T10:00:00.000Z",
        "anonymous_id": "anon_drill00000",
        "page_url": "/",
        "user_agent": "Mozilla/5.0",
        **fields,
    }
    return json.dumps(event).encode() + b"\n"


# The landing files the drill adds (the generator rewrites its own events.jsonl files, so the drill writes others).
DRILL_FILES: dict[str, bytes] = {
    f"{DRILL_DAY}/drill-events.jsonl": b"".join(
        [
            b'{"event_id": "evt_drill_malformed", "event_type": "page_view", "occurred_at": \n',
            _event("evt_drill_wrong_type", customer_id="abc"),
            _event(None, anonymous_id="anon_drill_nokey"),
            _event("evt_drill_duplicate", event_type="page_view"),
            _event("evt_drill_duplicate", event_type="add_to_cart", occurred_at=f"{DRILL_DAY}T11:00:00.000Z"),
            _event("evt_drill_future", occurred_at="2027-06-01T10:00:00.000Z"),
            b'{"event_id": "evt_drill_latin1", "event_type": "page_view", "page_url": "/caf\xe9"}\n',
            _event("evt_drill_huge", user_agent=HUGE_USER_AGENT),
        ]
    ),
    f"{DRILL_DAY}/drill-empty.jsonl": b"",
    f"{DRILL_DAY}/drill-bom.jsonl": b"\xef\xbb\xbf" + _event("evt_drill_bom"),
    f"{DRILL_DAY}/drill-truncated.jsonl": _event("evt_drill_before_cut") + b'{"event_id": "evt_drill_truncated", "ev',
}
DRILL_EVENTS_FILE = f"{DRILL_DAY}/drill-events.jsonl"

# Files delivered under other names than `<day>/<name>.jsonl`: each loads (JSON lines by another name, compressed or
# not) or is listed by warn_landing_files_rejected with why; none is skipped silently.
DRILL_ACCEPTED_FILES: dict[str, bytes] = {
    f"{DRILL_DAY}/drill-compressed.jsonl.gz": gzip.compress(_event("evt_drill_gzip_1") + _event("evt_drill_gzip_2")),
    f"{DRILL_DAY}/DRILL-UPPER.JSONL": _event("evt_drill_upper"),
    f"{DRILL_DAY}/drill-export.json": _event("evt_drill_json"),
}
DRILL_REJECTED_FILES: dict[str, tuple[bytes, str]] = {
    "drill-at-the-root.jsonl": (_event("evt_drill_root"), "not in a day folder"),
    f"{DRILL_DAY}/nested/drill-nested.jsonl": (_event("evt_drill_nested"), "in a nested folder"),
    f"{DRILL_DAY}/drill-events.csv": (b"event_id,event_type\nevt_drill_csv,page_view\n", "unsupported extension .csv"),
    f"{DRILL_DAY}/drill-copying.jsonl.part": (_event("evt_drill_part"), "temporary file"),
}
# An old day's file the built run loaded, delivered again corrected: one line's page_url changed in place and a line
# inserted in the middle. Raw and staging must hold the file as it is now.
DRILL_CHANGED_FILE = "2026-10-30/events.jsonl"
DRILL_CORRECTED_URL = "/drill-corrected"
DRILL_INSERTED_ID = "evt_drill_inserted"

# Lines a person adds at the end of the spreadsheet (Spend Date, Channel, Amount Spent (USD), Clicks, Impressions,
# Notes): amounts and counts in formats another convention reads differently, one good amount, and summary rows
# (the trailing Total row shows the spend the sheet had before, as a sum of its lines would).
SPREADSHEET_GOOD_AMOUNT = Decimal("1000.00")
SPREADSHEET_LINES = [
    ("2026-10-30", "Email", "3,61", "5", "50", "drill: comma decimal"),
    ("2026-10-30", "Paid Search", "1.234,56", "5", "50", "drill: European amount"),
    ("2026-10-30", "Display", "12.345", "5", "50", "drill: three decimals"),
    ("2026-10-30", "Affiliate", "€12", "5", "50", "drill: another currency"),
    ("2026-10-30", "Paid Social", f"${SPREADSHEET_GOOD_AMOUNT:,}", "1,2", "1.200", "drill: ambiguous counts"),
    ("", "", "$500.00", "", "", "drill: no date, no channel"),
    ("Total", "", "{total}", "", "", ""),
]


@dataclass
class ChangedFile:
    """The loaded file the drill changed: the event whose page_url it corrected and the number of the line it
    inserted."""

    corrected_id: str = ""
    inserted_line: int = 0


def _change_loaded_file(events_dir: Path) -> ChangedFile:
    """Correct one event of a file the built run loaded (an event found in no other line) and insert one line."""
    path = events_dir / DRILL_CHANGED_FILE
    lines = path.read_bytes().splitlines(keepends=True)

    def event_of(line: bytes) -> dict[str, Any]:
        try:
            event = json.loads(line)
        except ValueError:  # the generator writes a malformed line now and then
            return {}
        return event if isinstance(event, dict) else {}

    copies: dict[str, int] = {}
    for other in events_dir.glob("*/*.jsonl"):
        for line in other.read_bytes().splitlines():
            event_id = str(event_of(line).get("event_id"))
            copies[event_id] = copies.get(event_id, 0) + 1
    changed = ChangedFile()
    for index, line in enumerate(lines):
        event = event_of(line)
        if event.get("event_type") == "page_view" and copies.get(str(event.get("event_id"))) == 1:
            changed.corrected_id = event["event_id"]
            lines[index] = (
                json.dumps({**event, "page_url": DRILL_CORRECTED_URL}, separators=(",", ":")).encode() + b"\n"
            )
            break
    assert changed.corrected_id, f"no page view of {DRILL_CHANGED_FILE} to correct"
    changed.inserted_line = len(lines) // 2 + 1
    lines.insert(changed.inserted_line - 1, _event(DRILL_INSERTED_ID, occurred_at="2026-10-30T12:00:00.000Z"))
    path.write_bytes(b"".join(lines))
    return changed


@dataclass
class Drill:
    paths: Settings
    ids: dict[str, int]  # the app rows the drill changed, by kind
    results: dict[str, dict[str, Any]]  # dbt build results by test name
    before: dict[str, Any]  # the landing-zone sensor's tick before the bad files landed
    woken: dict[str, Any]  # its tick after they landed
    launched: dict[str, Any]  # the run it asked for
    after: dict[str, Any]  # its tick after that run
    spend_before: Decimal = Decimal(0)  # fct_marketing_spend's total before the drill's spreadsheet lines
    changed: ChangedFile = field(default_factory=ChangedFile)  # the loaded file the drill delivered again

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return rows(self.paths, sql, *params)

    def listed(self, test_name: str) -> list[dict[str, Any]]:
        return listed_by(self.paths, self.results[test_name])


def _inject_app_rows(paths: Settings) -> dict[str, int]:
    """Bad rows in the app database. The generator reloads the database when a table's row count changes, so the
    drill only updates rows (with a newer updated_at, as the app would): the extractor picks them up."""
    server = PostgresServer(paths.postgres_dir)
    connection = server.start()
    try:
        with psycopg.connect(connection.conninfo, autocommit=True) as conn:
            ids: list[int] = [
                row[0]
                for row in conn.execute(
                    "select o.order_id from public.orders o where o.customer_id is not null "
                    "and o.order_status not in ('cancelled', 'returned') order by o.order_id limit 4"
                ).fetchall()
            ]
            currency_order, future_order, deleted_customer_order, quantity_order = ids
            (refund_id, refund_order) = conn.execute(
                "select payment_id, order_id from public.payments where payment_type = 'refund' "
                "order by payment_id limit 1"
            ).fetchone() or (None, None)
            (item_id,) = conn.execute(
                "select min(order_item_id) from public.order_items where order_id = %s", (quantity_order,)
            ).fetchone() or (None,)
            assert refund_id is not None and item_id is not None
            bump = "(select max(updated_at) from public.{table}) + interval '1 hour'"
            conn.execute(
                f"update public.orders set currency = 'XBT', updated_at = {bump.format(table='orders')} "
                "where order_id = %s",
                (currency_order,),
            )
            conn.execute(
                f"update public.orders set ordered_at = %s, updated_at = {bump.format(table='orders')} "
                "where order_id = %s",
                (FUTURE, future_order),
            )
            # The customer is gone from the app (hard-deleted on request before the warehouse ever saw it).
            assert conn.execute(
                "select count(*) from public.customers where customer_id = %s", (UNKNOWN_CUSTOMER_ID,)
            ).fetchone() == (0,)
            conn.execute(
                f"update public.orders set customer_id = %s, updated_at = {bump.format(table='orders')} "
                "where order_id = %s",
                (UNKNOWN_CUSTOMER_ID, deleted_customer_order),
            )
            conn.execute(
                f"update public.order_items set quantity = -3, updated_at = {bump.format(table='order_items')} "
                "where order_item_id = %s",
                (item_id,),
            )
            conn.execute(
                "update public.payments set amount = (select sum(amount) from public.payments "
                "where order_id = %s and payment_type = 'payment') + 100, "
                f"updated_at = {bump.format(table='payments')} where payment_id = %s",
                (refund_order, refund_id),
            )
    finally:
        server.stop()
    return {
        "unknown currency": currency_order,
        "future order": future_order,
        "hard-deleted customer": deleted_customer_order,
        "negative quantity": item_id,
        "refund larger than payment": refund_order,
    }


def _append_spreadsheet_lines(paths: Settings) -> Decimal:
    """The drill's lines at the end of the generator's spreadsheet (the load-and-build run does not regenerate it;
    its changed mtime makes the landing-zone sensor load it again). Returns the spend the mart had before."""
    before = scalar(paths, "select sum(spend_amount) from marts.fct_marketing_spend")
    assert isinstance(before, Decimal)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for line in SPREADSHEET_LINES:
        writer.writerow([cell.format(total=f"${before:,}") for cell in line])
    with (paths.landing_dir / "marketing" / "marketing_spend.csv").open("a", encoding="utf-8") as sheet:
        sheet.write(out.getvalue())
    return before


@pytest.fixture(scope="module")
def drill(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Drill:
    """A copy of the built pipeline; the bad rows land in the app database and the bad files in the landing zone,
    where the landing-zone sensor sees them and asks for a load and build, run as its daemon would launch it."""
    paths = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("bad-input") / "data")
    before = landing_zone_tick(paths)
    ids = _inject_app_rows(paths)
    spend_before = _append_spreadsheet_lines(paths)
    events_dir = paths.landing_dir / "events"
    for name, content in DRILL_FILES.items():
        (events_dir / name).write_bytes(content)
    odd_files = {**DRILL_ACCEPTED_FILES, **{name: content for name, (content, _) in DRILL_REJECTED_FILES.items()}}
    for name, content in odd_files.items():
        (events_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (events_dir / name).write_bytes(content)
    changed = _change_loaded_file(events_dir)
    woken = landing_zone_tick(paths)
    launched = execute(paths, woken["requests"][0]["job"], woken["requests"][0]["tags"]) if woken["requests"] else {}
    results = {r["unique_id"].split(".")[2]: r for r in json.loads(paths.build_results_file.read_text())["results"]}
    return Drill(paths, ids, results, before, woken, launched, landing_zone_tick(paths), spend_before, changed)


def test_the_landing_zone_sensor_loads_the_files_that_landed_once(drill: Drill) -> None:
    assert drill.before["requests"] == [] and "no file landed" in drill.before["skip"]
    (request,) = drill.woken["requests"]
    assert request["job"] == "load_and_build"  # what landed is loaded and built; the sources' time does not move
    assert request["partition"] == "2026-10-31"
    assert drill.launched["success"]
    assert drill.after["requests"] == [], "the files it loaded woke the sensor again"


def _raw_line(drill: Drill, source_file: str, line: int) -> tuple[Any, ...]:
    rows = drill.query(
        "select event_id, parse_error, raw_line from raw_events.events where _source_file = ? and _line_number = ?",
        source_file,
        line,
    )
    assert len(rows) == 1, f"{source_file}:{line} is not in raw_events.events exactly once: {rows}"
    return rows[0]


def _staged(drill: Drill, where: str, *params: Any) -> list[tuple[Any, ...]]:
    return drill.query(f"select * from staging.stg_events__events where {where}", *params)


@dataclass
class Kind:
    name: str
    test: str
    check: Callable[[Drill], None]  # raw and staging/mart: the bad row is kept (and flagged)
    is_listed: Callable[[Drill, dict[str, Any]], bool]  # the test's listing names it


def _check_line(line: int, error_prefix: str | None, file: str = DRILL_EVENTS_FILE) -> Callable[[Drill], None]:
    def check(drill: Drill) -> None:
        _, parse_error, raw_line = _raw_line(drill, file, line)
        if error_prefix is None:
            assert parse_error is None
        else:
            assert parse_error is not None and parse_error.startswith(error_prefix), parse_error
            assert raw_line
            staged = drill.query(
                "select is_malformed, parse_error from staging.stg_events__events "
                "where source_file = ? and source_line_number = ?",
                file,
                line,
            )
            assert staged == [(True, parse_error)]

    return check


def _lists_line(line: int, file: str = DRILL_EVENTS_FILE) -> Callable[[Drill, dict[str, Any]], bool]:
    return lambda _, row: row.get("source_file") == file and row.get("source_line_number") == line


def _check_wrong_type(drill: Drill) -> None:
    assert _raw_line(drill, DRILL_EVENTS_FILE, 2)[0] == "evt_drill_wrong_type"
    assert drill.query("select customer_id from raw_events.events where event_id = 'evt_drill_wrong_type'") == [
        ("abc",)
    ]
    assert _staged(drill, "event_id = 'evt_drill_wrong_type' and customer_id is null")


def _check_null_key(drill: Drill) -> None:
    assert _raw_line(drill, DRILL_EVENTS_FILE, 3) == (None, None, None)
    assert _staged(drill, "event_id = ? and anonymous_id = 'anon_drill_nokey'", f"line:{DRILL_EVENTS_FILE}:3")


def _check_duplicate(drill: Drill) -> None:
    raw = drill.query(
        "select _line_number, event_type from raw_events.events where event_id = 'evt_drill_duplicate' order by 1"
    )
    assert raw == [(4, "page_view"), (5, "add_to_cart")]
    staged = drill.query(
        "select source_line_number, copy_count from staging.stg_events__events where event_id = 'evt_drill_duplicate'"
    )
    assert staged == [(4, 2)]


def _check_future(drill: Drill) -> None:
    assert _staged(drill, "event_id = 'evt_drill_future' and occurred_at = timestamp '2027-06-01 10:00:00'")
    order_id = drill.ids["future order"]
    assert drill.query("select count(*) from raw_app.orders where order_id = ?", order_id)[0][0] >= 1
    assert drill.query("select ordered_at from marts.fct_orders where order_id = ?", order_id) == [
        (datetime(2027, 6, 1, 10),)
    ]


def _check_app(table: str, key: str, kind: str, mart_sql: str, expected: tuple[Any, ...]) -> Callable[[Drill], None]:
    def check(drill: Drill) -> None:
        row_id = drill.ids[kind]
        assert drill.query(f"select count(*) from raw_app.{table} where {key} = ?", row_id)[0][0] >= 1
        assert drill.query(mart_sql, row_id) == [expected]

    return check


def _check_file_row(file: str, event_id: str) -> Callable[[Drill], None]:
    def check(drill: Drill) -> None:
        assert drill.query(
            "select event_id, parse_error from raw_events.events where _source_file = ? and _line_number = 1", file
        ) == [(event_id, None)]
        assert _staged(drill, "event_id = ? and not is_malformed", event_id)

    return check


def _check_empty(drill: Drill) -> None:
    file = f"{DRILL_DAY}/drill-empty.jsonl"
    assert drill.query("select count(*) from raw_events.events where _source_file = ?", file) == [(0,)]
    assert drill.query("select size_bytes, line_count from raw_events.landing_files where _source_file = ?", file) == [
        (0, 0)
    ]


def _check_huge(drill: Drill) -> None:
    assert drill.query("select length(user_agent) from raw_events.events where event_id = 'evt_drill_huge'") == [
        (len(HUGE_USER_AGENT),)
    ]
    assert drill.query(
        "select length(user_agent) from staging.stg_events__events where event_id = 'evt_drill_huge'"
    ) == [(len(HUGE_USER_AGENT),)]


def _check_rejected(name: str) -> Callable[[Drill], None]:
    """The tap lists the file with its reason and reads none of it."""

    def check(drill: Drill) -> None:
        reason = DRILL_REJECTED_FILES[name][1]
        listed = drill.query("select rejected_reason from raw_events.landing_files where _source_file = ?", name)
        assert len(listed) == 1 and listed[0][0].startswith(reason), listed
        assert drill.query("select count(*) from raw_events.events where _source_file = ?", name) == [(0,)]

    return check


def _listed_id(column: str, kind: str) -> Callable[[Drill, dict[str, Any]], bool]:
    return lambda drill, row: row.get(column) == drill.ids[kind]


def _check_spreadsheet_amount(notes: str, text: str, problem: str) -> Callable[[Drill], None]:
    """The line is in raw as typed; staging keeps it with a null amount, the text and why; the mart keeps the line
    without the value."""

    def check(drill: Drill) -> None:
        raw = drill.query("select amount_spent_usd from raw_marketing.marketing_spend where notes = ?", notes)
        assert raw and {amount for (amount,) in raw} == {text}, raw
        staged = drill.query(
            "select marketing_spend_id, spend_amount, raw_amount_spent, amount_problem, is_amount_unparseable, "
            "is_summary_row from staging.stg_marketing__marketing_spend where notes = ?",
            notes,
        )
        assert [row[1:] for row in staged] == [(None, text, problem, True, False)], staged
        assert drill.query(
            "select spend_amount, is_amount_unparseable from marts.fct_marketing_spend where marketing_spend_id = ?",
            staged[0][0],
        ) == [(None, True)]

    return check


def _check_spreadsheet_counts(drill: Drill) -> None:
    notes = "drill: ambiguous counts"
    assert drill.query("select clicks, impressions from raw_marketing.marketing_spend where notes = ?", notes) == [
        ("1,2", "1.200")
    ]
    assert drill.query(
        "select spend_amount, clicks, raw_clicks, impressions, raw_impressions "
        "from staging.stg_marketing__marketing_spend where notes = ?",
        notes,
    ) == [(SPREADSHEET_GOOD_AMOUNT, None, "1,2", None, "1.200")]
    assert drill.query(
        "select spend_amount, clicks, impressions from marts.fct_marketing_spend where notes = ?", notes
    ) == [(SPREADSHEET_GOOD_AMOUNT, None, None)]


def _summary_line(drill: Drill, where: str) -> tuple[Any, ...]:
    (row,) = drill.query(
        "select marketing_spend_id, spend_date_text, spend_amount, is_summary_row "
        f"from staging.stg_marketing__marketing_spend where {where}"
    )
    return row


def _check_summary_row(where: str, amount: Callable[[Drill], Decimal]) -> Callable[[Drill], None]:
    """The line is in raw and flagged in staging with the figure it shows; it is in no mart, and the warning on
    unreadable dates leaves it to the summary-row test."""

    def check(drill: Drill) -> None:
        spend_id, date_text, spend, is_summary = _summary_line(drill, where)
        assert is_summary and spend == amount(drill), (spend, amount(drill))
        raw_where = where.replace("spend_date_text", "spend_date")
        assert drill.query(f"select count(*) from raw_marketing.marketing_spend where {raw_where}")[0][0] >= 1
        assert drill.query("select count(*) from marts.fct_marketing_spend where marketing_spend_id = ?", spend_id) == [
            (0,)
        ]
        # Before summary rows were told apart, the unparseable-date warning listed the Total row as a spend line.
        listed = drill.listed("warn_marketing_spend_unparseable_dates")
        assert (date_text, spend) not in [(row["spend_date_text"], row["spend_amount"]) for row in listed], listed

    return check


def _lists_spreadsheet(column: str, value: str) -> Callable[[Drill, dict[str, Any]], bool]:
    return lambda _, row: row.get(column) == value


KINDS = [
    Kind(
        "malformed JSON line",
        "warn_malformed_event_lines",
        _check_line(1, "malformed JSON"),
        _lists_line(1),
    ),
    Kind(
        "truncated file",
        "warn_malformed_event_lines",
        _check_line(2, "truncated file: the last line has no end of line", f"{DRILL_DAY}/drill-truncated.jsonl"),
        _lists_line(2, f"{DRILL_DAY}/drill-truncated.jsonl"),
    ),
    Kind(
        "non-UTF-8 byte",
        "warn_malformed_event_lines",
        _check_line(7, "not valid UTF-8"),
        _lists_line(7),
    ),
    Kind(
        "wrong type (customer_id 'abc')",
        "warn_event_ids_not_numbers",
        _check_wrong_type,
        lambda _, row: row["event_id"] == "evt_drill_wrong_type" and row["id_text"] == "abc",
    ),
    Kind("null key (no event_id)", "warn_events_without_event_id", _check_null_key, _lists_line(3)),
    Kind(
        "duplicate key with different values",
        "warn_events_duplicate_id_different_content",
        _check_duplicate,
        lambda _, row: row["event_id"] == "evt_drill_duplicate" and row["source_line_number"] == 5,
    ),
    Kind(
        "future timestamp (order)",
        "warn_timestamps_in_the_future",
        _check_future,
        lambda drill, row: row["record_id"] == str(drill.ids["future order"]),
    ),
    Kind(
        "future timestamp (event)",
        "warn_timestamps_in_the_future",
        _check_future,
        lambda _, row: row["record_id"] == "evt_drill_future" and row["found_in"] == f"{DRILL_EVENTS_FILE}:6",
    ),
    Kind(
        "negative quantity",
        "warn_order_items_non_positive_quantity",
        _check_app(
            "order_items",
            "order_item_id",
            "negative quantity",
            "select quantity from marts.fct_order_items where order_item_id = ?",
            (-3,),
        ),
        _listed_id("order_item_id", "negative quantity"),
    ),
    Kind(
        "unknown currency",
        "warn_orders_with_unknown_currency",
        _check_app(
            "orders",
            "order_id",
            "unknown currency",
            "select currency_code from marts.fct_orders where order_id = ?",
            ("XBT",),
        ),
        _listed_id("order_id", "unknown currency"),
    ),
    Kind(
        "empty file",
        "warn_landing_files_without_events",
        _check_empty,
        lambda _, row: "drill-empty" in row["source_file"],
    ),
    Kind(
        "file with a BOM",
        "warn_landing_files_with_bom",
        _check_file_row(f"{DRILL_DAY}/drill-bom.jsonl", "evt_drill_bom"),
        lambda _, row: row["source_file"] == f"{DRILL_DAY}/drill-bom.jsonl",
    ),
    Kind(
        "order whose customer was hard-deleted",
        "warn_orders_with_unknown_customer",
        _check_app(
            "orders",
            "order_id",
            "hard-deleted customer",
            "select customer_id, acquisition_channel_code from marts.fct_orders where order_id = ?",
            (UNKNOWN_CUSTOMER_ID, None),
        ),
        _listed_id("order_id", "hard-deleted customer"),
    ),
    Kind(
        "refund larger than the payment",
        "warn_refunds_exceed_payments",
        _check_app(
            "payments",
            "order_id",
            "refund larger than payment",
            "select refund_amount > paid_amount from marts.fct_orders where order_id = ?",
            (True,),
        ),
        _listed_id("order_id", "refund larger than payment"),
    ),
    Kind("huge field (3 MB user_agent)", "warn_oversized_event_fields", _check_huge, _lists_line(8)),
    *(
        Kind(
            f"landing file {reason} ({name})",
            "warn_landing_files_rejected",
            _check_rejected(name),
            lambda _, row, name=name, reason=reason: (
                row["source_file"] == name and row["rejected_reason"].startswith(reason)
            ),
        )
        for name, (_, reason) in DRILL_REJECTED_FILES.items()
    ),
    *(
        Kind(
            f"spreadsheet {name} ({text})",
            "warn_marketing_spend_unparseable_amounts",
            _check_spreadsheet_amount(f"drill: {notes}", text, problem),
            _lists_spreadsheet("raw_amount_spent", text),
        )
        for name, notes, text, problem in [
            ("comma decimal amount", "comma decimal", "3,61", "ambiguous number format"),
            ("European amount", "European amount", "1.234,56", "ambiguous number format"),
            ("three-decimal amount", "three decimals", "12.345", "ambiguous number format"),
            ("amount in another currency", "another currency", "€12", "unrecognized number format"),
        ]
    ),
    Kind(
        "spreadsheet counts 1,2 and 1.200",
        "warn_marketing_spend_unparseable_counts",
        _check_spreadsheet_counts,
        _lists_spreadsheet("raw_clicks", "1,2"),
    ),
    Kind(
        "spreadsheet total row",
        "warn_marketing_spend_summary_rows",
        _check_summary_row("spend_date_text = 'Total'", lambda drill: drill.spend_before),
        _lists_spreadsheet("spend_date_text", "Total"),
    ),
    Kind(
        "spreadsheet amount with neither date nor channel",
        "warn_marketing_spend_summary_rows",
        _check_summary_row("notes = 'drill: no date, no channel'", lambda _: Decimal("500.00")),
        _lists_spreadsheet("notes", "drill: no date, no channel"),
    ),
]


@pytest.mark.parametrize("kind", KINDS, ids=[k.name for k in KINDS])
def test_bad_input_is_kept_and_named_by_a_warn_test(drill: Drill, kind: Kind) -> None:
    kind.check(drill)
    result = drill.results.get(kind.test)
    assert result is not None, f"{kind.test} did not run"
    assert result["status"] == "warn" and result["failures"] >= 1, (result["status"], result["failures"])
    listed = drill.listed(kind.test)
    assert any(kind.is_listed(drill, row) for row in listed), f"{kind.test} does not list it: {listed[:5]}"


def test_spend_counts_each_readable_spreadsheet_line_once(drill: Drill) -> None:
    """What users rely on: the mart's spend is the sum of the readable lines that are not summaries - the spend the
    sheet had plus the drill's one good amount; neither the total row (which would double it) nor a guessed amount.
    The daily metrics add up to it."""
    expected = drill.spend_before + SPREADSHEET_GOOD_AMOUNT
    assert drill.query("select sum(spend_amount) from marts.fct_marketing_spend") == [(expected,)]
    assert drill.query(
        "select sum(spend_amount) from staging.stg_marketing__marketing_spend where not is_summary_row"
    ) == [(expected,)]
    assert drill.query("select sum(spend) from metrics.metrics_daily") == [(expected,)]


def test_every_landing_line_reached_raw(drill: Drill) -> None:
    """Nothing lost: each non-blank line of each landing file the tap reads (the drill's included) is one live raw
    row; every other file is listed with why."""
    assert drill.results["assert_landed_lines_reach_raw"]["status"] == "pass"
    live = drill.query("select count(*) from raw_events.events where _sdc_deleted_at is null")[0][0]
    assert drill.query("select sum(line_count) from raw_events.landing_files where rejected_reason is null") == [
        (live,)
    ]
    on_disk = sorted(
        path.relative_to(drill.paths.landing_dir / "events").as_posix()
        for path in (drill.paths.landing_dir / "events").rglob("*")
        if path.is_file()
    )
    listed = drill.query("select _source_file, rejected_reason is null from raw_events.landing_files order by 1")
    assert [name for name, _ in listed] == on_disk
    assert {name for name, accepted in listed if not accepted} == set(DRILL_REJECTED_FILES)


def test_json_lines_by_other_names_load(drill: Drill) -> None:
    """A gzipped file, an upper-case extension and a .json file holding JSON lines load like any landing file."""
    for name, content in DRILL_ACCEPTED_FILES.items():
        lines = (gzip.decompress(content) if name.endswith(".gz") else content).splitlines()
        event_ids = [json.loads(line)["event_id"] for line in lines]
        assert drill.query(
            "select event_id from raw_events.events where _source_file = ? order by _line_number", name
        ) == [(event_id,) for event_id in event_ids], name
        assert drill.query(
            "select event_id from staging.stg_events__events where source_file = ? order by source_line_number", name
        ) == [(event_id,) for event_id in event_ids], name


def test_a_loaded_file_delivered_again_corrected_is_reloaded(drill: Drill) -> None:
    """The file the built run loaded, corrected and with a line inserted mid-file: raw's live rows are its lines as
    they are now (line for line, by md5: nothing of the old version is left), and the inserted event and the
    corrected value (not the url before) reach staging."""
    path = drill.paths.landing_dir / "events" / DRILL_CHANGED_FILE
    now = {
        number: hashlib.md5(line).hexdigest()
        for number, line in enumerate(path.read_bytes().splitlines(keepends=True), start=1)
        if line.strip()
    }
    raw = drill.query(
        "select _line_number, _line_md5 from raw_events.events where _source_file = ? and _sdc_deleted_at is null",
        DRILL_CHANGED_FILE,
    )
    assert dict(raw) == now and len(raw) == len(now)
    changed = drill.changed
    assert drill.query(
        "select source_file, source_line_number from staging.stg_events__events where event_id = ?", DRILL_INSERTED_ID
    ) == [(DRILL_CHANGED_FILE, changed.inserted_line)]
    assert drill.query(
        "select page_url from raw_events.events where event_id = ? and _sdc_deleted_at is null", changed.corrected_id
    ) == [(DRILL_CORRECTED_URL,)]
    assert drill.query("select page_url from staging.stg_events__events where event_id = ?", changed.corrected_id) == [
        (DRILL_CORRECTED_URL,)
    ]


def test_the_rerun_breaks_no_error_test(drill: Drill) -> None:
    failed = {name: r["status"] for name, r in drill.results.items() if r["status"] in ("fail", "error", "skipped")}
    assert failed == {}


def test_csv_row_with_a_shifted_column_stops_the_load_naming_file_and_line(tmp_path: Path) -> None:
    """A separate small load: a spreadsheet row with one value too many (an unquoted `$1,250.00`) stops the CSV load
    with the file and line, and no row of that file reaches the warehouse (it loads whole or not at all)."""
    csv_file = tmp_path / "landing" / "marketing" / "marketing_spend.csv"
    csv_file.parent.mkdir(parents=True)
    csv_file.write_text(
        "Spend Date,Channel,Amount Spent (USD),Clicks,Impressions,Notes\n"
        "2026-10-20,paid_search,12.50,4,300,\n"
        ",,,,,\n"
        "2026-10-20,email,$1,250.00,310,5400,launch\n"
        "2026-10-21,email,3.00,1,20,\n"
    )
    result, wh = meltano_run_alone(tmp_path, "tap-spreadsheets")
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert f"ShiftedColumnError: {csv_file} line 4: 7 values for 6 columns" in output, output[-3000:]
    if wh.exists():
        with duckdb.connect(str(wh), read_only=True) as connection:
            loaded = connection.execute(
                "select count(*) from information_schema.tables where table_schema = 'raw_marketing'"
            ).fetchone()
        assert loaded == (0,)
