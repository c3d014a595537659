"""The loader's fast path gives target-duckdb's own result, record for record, and the tap's buffered writer loses
nothing: checked with the real plugins in the environments Meltano installed them in."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import duckdb
from conftest import BIN, TEST_SCALE, TEST_SEED, meltano_run_alone

from tidewater.generate import GenerationConfig, generate
from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.paths import PROJECT_ROOT

LOADER_PYTHON = PROJECT_ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"

# Runs inside the loader's environment: each case through target-duckdb's flatten_record and the wrapper's, and
# through both ways of building a record's key string (the library's raises on a missing key; so does the wrapper's
# fallback, and a record missing a key is not compared).
COMPARE_FLATTEN = r"""
import json, sys
from decimal import Decimal
from target_duckdb import db_sync
import target_duckdb_explicit_csv as wrapper

schema = {
    "name": {"type": ["null", "string"]},
    "payload": {"type": ["null", "object", "array"]},
    "amount": {"type": ["null", "number"]},
}
records = [
    {"name": "a", "amount": Decimal("1.10"), "payload": None},
    {"name": None, "amount": 0, "flag": False, "zero": 0.0},
    {"name": "nested", "payload": {"b": 1, "a": [1, 2]}, "tags": ["x", "y"]},
    {"name": "text in a json column", "payload": "already text"},
    {"name": "quote \" and comma ,", "payload": [], "empty": {}},
    {"name": "deep", "inner": {"x": {"y": 1}}, "payload": {"k": "v"}, "amount": 2},
]
mismatches = []
compared = 0
for max_level in (0, 1, 2):
    for record in records:
        for flatten_schema in (schema, None):
            expected = db_sync.flatten_record(record, flatten_schema, max_level=max_level)
            actual = wrapper.flatten_record(record, flatten_schema, max_level=max_level)
            compared += 1
            if repr(expected) != repr(actual):
                mismatches.append({"record": repr(record), "expected": repr(expected), "actual": repr(actual)})
json_schema = {"type": "object", "properties": {
    "name": {"type": ["null", "string"]}, "payload": {"type": ["null", "object", "array"]}}}
for keys in (["name"], ["name", "payload"], ["payload", "amount"], []):
    sync = db_sync.DbSync(None, {"default_target_schema": "raw", "database": "w"},
                          {"stream": "s", "schema": json_schema, "key_properties": keys})
    for record in records:
        if any(key not in record for key in keys):
            continue
        compared += 1
        expected = db_sync.DbSync.record_primary_key_string(sync, record)
        actual = wrapper.record_primary_key_string(sync, record)
        if repr(expected) != repr(actual):
            mismatches.append({"keys": keys, "record": repr(record), "expected": expected, "actual": actual})
print(json.dumps({"compared": compared, "mismatches": mismatches}))
"""


def test_loader_fast_flatten_gives_target_duckdbs_result() -> None:
    result = subprocess.run(
        [str(LOADER_PYTHON), "-c", COMPARE_FLATTEN], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout)
    assert outcome["compared"] == 36 + 6 + 5 + 2 + 6  # flatten; keys name, name+payload, payload+amount, none
    assert outcome["mismatches"] == []


def test_every_line_of_several_files_lands_once_through_the_buffered_tap(tmp_path: Path) -> None:
    """The tap flushes its output at each state message, not after each record: 3 files of 2,500 lines (one
    malformed, one with a nested field) in batches of 1,000 rows must land as 7,500 rows, each (file, line) once."""
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        folder = tmp_path / "landing" / "events" / day
        folder.mkdir(parents=True)
        lines = [
            json.dumps({"event_id": f"evt_{day}_{i:05d}", "event_type": "page_view", "context": {"i": i}})
            for i in range(2_500)
        ]
        lines[17] = '{"event_id": "cut'
        folder.joinpath(f"arrived-{day}.jsonl").write_text("\n".join(lines) + "\n")
    result, wh = meltano_run_alone(tmp_path, "tap-landing-zone", "TARGET_DUCKDB_BATCH_SIZE_ROWS=1000\n")
    assert result.returncode == 0, result.stderr[-3000:]
    with warehouse.connect(wh) as connection:
        ((rows, keys, malformed, with_extra),) = connection.execute(
            """
            select
                count(*),
                count(distinct (_source_file, _line_number)),
                count(*) filter (where parse_error is not null),
                count(*) filter (where extra_fields = '{"context":{"i":5}}')
            from raw_events.events
            """
        ).fetchall()
    assert (rows, keys, malformed, with_extra) == (7_500, 7_500, 3, 3)


TAP = PROJECT_ROOT / ".meltano" / "extractors" / "tap-landing-zone" / "venv" / "bin" / "tap-landing-zone"
LOADER = PROJECT_ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb-explicit-csv"
# The columns that say when a row was extracted and loaded: they differ between any two loads.
LOAD_TIMES = ("_sdc_extracted_at", "_sdc_batched_at")


def _tap_then_loader(
    tmp_path: Path,
    name: str,
    batch_config: dict | None,
    batch_size_rows: int,
    tap: list[str] | None = None,
    tap_config: dict | None = None,
    schema: str = "raw_events",
) -> tuple[Path, str]:
    """A tap (tap-landing-zone unless told) piped into the loader, as Meltano runs them; returns the warehouse and
    the last state the loader emitted."""
    tap_config = {**(tap_config or {"landing_dir": str(tmp_path / "landing")})}
    tap_config.pop("batch_config", None)
    if batch_config:
        tap_config["batch_config"] = batch_config
    wh = tmp_path / f"{name}.duckdb"
    loader_config = {
        "filepath": str(wh),
        "default_target_schema": schema,
        "add_metadata_columns": True,
        "batch_size_rows": batch_size_rows,
        "primary_key_required": False,
    }
    (tmp_path / f"{name}-tap.json").write_text(json.dumps(tap_config))
    (tmp_path / f"{name}-loader.json").write_text(json.dumps(loader_config))
    command = [*(tap or [str(TAP)]), "--config", str(tmp_path / f"{name}-tap.json")]
    tap_process = subprocess.Popen(command, stdout=subprocess.PIPE)
    loaded = subprocess.run(
        [str(LOADER), "--config", str(tmp_path / f"{name}-loader.json")],
        stdin=tap_process.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tap_process.wait(timeout=60) == 0
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return wh, loaded.stdout.strip().splitlines()[-1]


def _raw_rows(wh: Path, table: str, schema: str = "raw_events") -> list[tuple]:
    with warehouse.connect(wh) as connection:
        described = connection.execute(f"describe {schema}.{table}").fetchall()
        listed = ", ".join(f'"{row[0]}"' for row in described if row[0] not in LOAD_TIMES)
        return connection.execute(f"select {listed} from {schema}.{table} order by all").fetchall()


def test_batch_files_land_the_rows_and_state_that_record_messages_land(tmp_path: Path) -> None:
    """tap-landing-zone's BATCH messages, loaded by DuckDB, against its RECORD messages through target-duckdb's own
    loop: the same rows (text, numbers, empty strings made NULL, nested values, malformed and cut lines, a byte
    order mark, blank lines, quotes and non-ASCII), the same table, the same final state."""
    lines = [
        json.dumps({"event_id": f"evt_{i:04d}", "event_type": "page_view", "referrer": "" if i % 3 else None})
        for i in range(2_345)
    ]
    lines[5] = '{"event_id": "cut'
    lines[6] = json.dumps({"event_id": 'say "hi", \\ ok', "page_url": "https://例え.jp/ü?q=1,2", "customer_id": 17})
    lines[7] = json.dumps({"event_id": "evt_nested", "context": {"i": [1, 2.5, None, True]}, "product_id": 3.0})
    lines[8] = "   "
    lines[9] = json.dumps(["not", "an", "object"])
    day_one = tmp_path / "landing" / "2026-01-01"
    day_one.mkdir(parents=True)
    day_one.joinpath("events.jsonl").write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    day_two = tmp_path / "landing" / "2026-01-02"
    day_two.mkdir()
    day_two.joinpath("events.jsonl").write_text('{"event_id": "evt_last"}\n{"event_id": "no end of line')
    batches = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (tmp_path / "batches").as_uri()},
        "batch_size": 1_000,
    }
    by_records, records_state = _tap_then_loader(tmp_path, "records", None, 500)
    by_batches, batches_state = _tap_then_loader(tmp_path, "batches", batches, 500)
    events = _raw_rows(by_batches, "events")
    assert len(events) == 2_345 - 1 + 2  # the blank line carries no event
    assert events == _raw_rows(by_records, "events")
    assert _raw_rows(by_batches, "landing_files") == _raw_rows(by_records, "landing_files")
    assert batches_state == records_state
    assert not list((tmp_path / "batches").iterdir()), "the loader leaves batch files behind"
    with warehouse.connect(by_batches) as connection, warehouse.connect(by_records) as other:
        assert (
            connection.execute("describe raw_events.events").fetchall()
            == other.execute("describe raw_events.events").fetchall()
        )
        ((nulls, empty),) = connection.execute(
            "select count(*) filter (where referrer is null), count(*) filter (where referrer = '') "
            "from raw_events.events"
        ).fetchall()
    assert (nulls, empty) == (len(events), 0)  # as target-duckdb's CSV path: an empty string lands as NULL


# A keyed stream for the loader's own tests, and a BATCH message of its rows written as JSON lines.
THINGS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "things",
    "key_properties": ["thing_id"],
    "schema": {"properties": {"thing_id": {"type": ["integer"]}, "name": {"type": ["null", "string"]}}},
}


def _things_batch(tmp_path: Path, rows: list[dict]) -> dict:
    batch_file = tmp_path / "things.jsonl"
    batch_file.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return {"type": "BATCH", "stream": "things", "encoding": {"format": "jsonl"}, "manifest": [batch_file.as_uri()]}


def _loader_command(tmp_path: Path) -> list[str]:
    """The loader, into tmp_path/wh.duckdb, schema raw."""
    config = tmp_path / "loader.json"
    config.write_text(json.dumps({"filepath": str(tmp_path / "wh.duckdb"), "default_target_schema": "raw"}))
    return [str(LOADER), "--config", str(config)]


def _load_messages(tmp_path: Path, messages: list[dict]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _loader_command(tmp_path),
        input="".join(json.dumps(message) + "\n" for message in messages),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_batches_the_loader_cannot_load_faithfully_stop_it_with_the_reason(tmp_path: Path) -> None:
    batch = _things_batch(tmp_path, [{"thing_id": 1, "name": "a"}, {"thing_id": 1, "name": "b"}])
    twice = _load_messages(tmp_path, [THINGS_SCHEMA, batch])
    assert twice.returncode != 0
    assert "the batch files of stream things hold key 1 more than once" in twice.stderr

    batch = _things_batch(tmp_path, [{"thing_id": 1, "name": "a"}])
    record = {"type": "RECORD", "stream": "things", "record": {"thing_id": 2, "name": "c"}}
    mixed = _load_messages(tmp_path, [THINGS_SCHEMA, batch, record])
    assert mixed.returncode != 0
    assert "a RECORD message for stream things in a run of BATCH messages" in mixed.stderr


def _start_loader(tmp_path: Path, messages: list[dict], wait_seconds: float) -> subprocess.Popen[str]:
    singer = tmp_path / "messages.jsonl"
    singer.write_text("".join(json.dumps(message) + "\n" for message in messages))
    with singer.open() as stdin:
        return subprocess.Popen(
            _loader_command(tmp_path),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TIDEWATER_WAREHOUSE_WAIT_SECONDS": str(wait_seconds)},
        )


def test_loaders_wait_their_turn_on_the_warehouse_and_give_up_with_the_reason(tmp_path: Path) -> None:
    """`tidewater run` loads the sources side by side into one DuckDB file, which one process at a time may write:
    a loader that finds it held waits, then loads everything once it is free; held too long, it stops and says so."""
    batch = _things_batch(tmp_path, [{"thing_id": 1, "name": "a"}, {"thing_id": 2, "name": "b"}])
    state = {"type": "STATE", "value": {"bookmarks": {"things": {"replication_key_value": 2}}}}
    wh = tmp_path / "wh.duckdb"

    holder = duckdb.connect(str(wh))  # another process's load, or a user's open session
    loader = _start_loader(tmp_path, [THINGS_SCHEMA, batch, state], wait_seconds=120)
    try:
        time.sleep(3)
        assert loader.poll() is None, "the loader did not wait for the warehouse"
    finally:
        holder.close()
    out, err = loader.communicate(timeout=120)
    assert loader.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1]) == state["value"]
    with warehouse.connect(wh) as connection:
        assert connection.execute("select thing_id, name from raw.things order by 1").fetchall() == [(1, "a"), (2, "b")]

    record = {"type": "RECORD", "stream": "things", "record": {"thing_id": 3, "name": "c"}}
    holder = duckdb.connect(str(wh))
    try:
        out, err = _start_loader(tmp_path, [THINGS_SCHEMA, record, state], wait_seconds=1).communicate(timeout=120)
    finally:
        holder.close()
    assert "stayed locked by another process" in err and "TIDEWATER_WAREHOUSE_WAIT_SECONDS" in err, err[-3000:]
    assert not out.strip(), "a loader that loaded nothing emitted state"
    with warehouse.connect(wh) as connection:
        assert connection.execute("select count(*) from raw.things").fetchone() == (2,)


def test_app_batch_files_land_the_rows_and_state_that_record_messages_land(tmp_path: Path) -> None:
    """tap-postgres through our msgspec batch writer and DuckDB, against the SDK's RECORD messages through
    target-duckdb's own loop, on a generated app database: every table, row, column type and the final state."""
    server = PostgresServer(tmp_path / "postgres")
    connection = server.start()
    try:
        generate(GenerationConfig(seed=TEST_SEED, scale=TEST_SCALE), tmp_path / "landing", connection.conninfo)
        env_file = tmp_path / "tidewater.env"
        env_file.write_text(
            "".join(f"{key}={value}\n" for key, value in connection.env().items()) + f"TIDEWATER_DATA_DIR={tmp_path}\n"
        )
        dumped = {}
        for what in ("config", "catalog"):
            result = subprocess.run(
                [str(BIN / "meltano"), "--env-file", str(env_file), "invoke", f"--dump={what}", "tap-postgres"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            dumped[what] = json.loads(result.stdout)
        (tmp_path / "catalog.json").write_text(json.dumps(dumped["catalog"]))
        venv_bin = PROJECT_ROOT / ".meltano" / "extractors" / "tap-postgres" / "venv" / "bin"
        catalog = ["--catalog", str(tmp_path / "catalog.json")]
        by_records, records_state = _tap_then_loader(
            tmp_path, "records", None, 100_000, [str(venv_bin / "tap-postgres"), *catalog], dumped["config"], "raw_app"
        )
        batches = {**dumped["config"]["batch_config"], "batch_size": 2_000}
        assert batches["storage"]["root"] == (tmp_path / "batches").as_uri()
        by_batches, batches_state = _tap_then_loader(
            tmp_path,
            "batches",
            batches,
            5_000,
            [str(venv_bin / "tap-postgres-msgspec-batches"), *catalog],
            dumped["config"],
            "raw_app",
        )
    finally:
        server.stop()
    for table in ("customers", "products", "orders", "order_items", "payments"):
        rows = _raw_rows(by_batches, table, "raw_app")
        assert rows, table
        assert rows == _raw_rows(by_records, table, "raw_app"), table
    with warehouse.connect(by_batches) as connection, warehouse.connect(by_records) as other:
        columns = "select table_name, column_name, data_type from information_schema.columns order by all"
        assert connection.execute(columns).fetchall() == other.execute(columns).fetchall()
    assert batches_state == records_state
    assert not list((tmp_path / "batches").iterdir()), "the loader leaves batch files behind"


TAP_PYTHON = TAP.parent / "python"
# Runs inside the tap's environment: each line through parse_line (msgspec, falling back to the json module) and
# through parse_line_stdlib (the json module alone), which must agree on the record, error message included.
COMPARE_PARSE = r"""
import json, sys
from tap_landing_zone.lines import parse_line, parse_line_stdlib, UTF8_BOM
lines = [
    b'{"event_id": "e1", "event_type": "page_view", "customer_id": 17, "product_id": 3.0, "order_id": -0}',
    b'{"event_id": "e2", "context": {"b": [1, 2.5, null, true], "a": "\\u00fc"}, "referrer": ""}',
    b'{"event_id": "dup", "event_id": "last wins"}',
    b'{"event_id": 100000000000000000000000, "order_id": 1.5E3, "customer_id": 1e-7}',
    b'{"event_id": NaN, "order_id": Infinity, "customer_id": 1e400}',
    b'{"event_id": "\\ud800 lone surrogate"}',
    b'{"event_id": "raw \x01 control"}',
    b'{"event_id": "cut',
    b'{"event_id": "e3"} trailing',
    b'["not", "an", "object"]',
    b'"text"', b'42', b'null', b'true',
    b'\xff\xfe not utf-8',
    b'{"page_url": "caf\xc3\xa9", "user_agent": "caf\xe9"}',
    UTF8_BOM + b'{"event_id": "after a bom"}',
    b'  {"event_id": "spaces around"}  ',
    b'{"event_id": true, "event_type": false, "utm_source": null}',
    b'{}',
    b'{"a": {"deep": {"er": [[], {}]}}}',
]
mismatches = []
for line in lines:
    fast = parse_line(line)
    slow = parse_line_stdlib(line[len(UTF8_BOM):] if line.startswith(UTF8_BOM) else line)
    if fast != slow:
        mismatches.append({"line": repr(line), "fast": repr(fast), "stdlib": repr(slow)})
print(json.dumps({"compared": len(lines), "mismatches": mismatches}))
"""


def test_the_tap_parses_every_kind_of_line_as_the_json_module_does() -> None:
    result = subprocess.run(
        [str(TAP_PYTHON), "-c", COMPARE_PARSE], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout)
    assert outcome["compared"] == 21
    assert outcome["mismatches"] == []
