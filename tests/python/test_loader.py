"""The loader's fast path gives target-duckdb's own result, record for record, and the tap's buffered writer loses
nothing: checked with the real plugins in the environments Meltano installed them in."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import meltano_run_alone
from tidewater import warehouse
from tidewater.paths import PROJECT_ROOT

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
