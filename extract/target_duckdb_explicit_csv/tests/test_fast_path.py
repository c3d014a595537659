"""The fast path gives target-duckdb's own result, record for record (moved from tests/python/test_loader.py, where
it ran the same cases in this environment through a subprocess)."""

from __future__ import annotations

from decimal import Decimal

from target_duckdb import db_sync
from target_duckdb_explicit_csv import fast_path

SCHEMA = {
    "name": {"type": ["null", "string"]},
    "payload": {"type": ["null", "object", "array"]},
    "amount": {"type": ["null", "number"]},
}
RECORDS = [
    {"name": "a", "amount": Decimal("1.10"), "payload": None},
    {"name": None, "amount": 0, "flag": False, "zero": 0.0},
    {"name": "nested", "payload": {"b": 1, "a": [1, 2]}, "tags": ["x", "y"]},
    {"name": "text in a json column", "payload": "already text"},
    {"name": 'quote " and comma ,', "payload": [], "empty": {}},
    {"name": "deep", "inner": {"x": {"y": 1}}, "payload": {"k": "v"}, "amount": 2},
]
JSON_SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": ["null", "string"]}, "payload": {"type": ["null", "object", "array"]}},
}


def test_fast_flatten_and_key_string_give_target_duckdbs_result() -> None:
    """Each case through target-duckdb's flatten_record and the wrapper's, and through both ways of building a
    record's key string (the library's raises on a missing key; so does the wrapper's fallback, and a record missing
    a key is not compared)."""
    assert db_sync.flatten_record is not fast_path.flatten_record, "the library's function was replaced in this process"
    mismatches = []
    compared = 0
    for max_level in (0, 1, 2):
        for record in RECORDS:
            for flatten_schema in (SCHEMA, None):
                expected = db_sync.flatten_record(record, flatten_schema, max_level=max_level)
                actual = fast_path.flatten_record(record, flatten_schema, max_level=max_level)
                compared += 1
                if repr(expected) != repr(actual):
                    mismatches.append({"record": repr(record), "expected": repr(expected), "actual": repr(actual)})
    for keys in (["name"], ["name", "payload"], ["payload", "amount"], []):
        sync = db_sync.DbSync(
            None,
            {"default_target_schema": "raw", "database": "w"},
            {"stream": "s", "schema": JSON_SCHEMA, "key_properties": keys},
        )
        for record in RECORDS:
            if any(key not in record for key in keys):
                continue
            compared += 1
            expected = db_sync.DbSync.record_primary_key_string(sync, record)
            actual = fast_path.record_primary_key_string(sync, record)
            if repr(expected) != repr(actual):
                mismatches.append({"keys": keys, "record": repr(record), "expected": expected, "actual": actual})
    assert compared == 36 + 6 + 5 + 2 + 6  # flatten; keys name, name+payload, payload+amount, none
    assert mismatches == []
