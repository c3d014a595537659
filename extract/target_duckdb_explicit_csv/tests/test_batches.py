"""Singer BATCH messages: their files, read by DuckDB, land the rows and the state RECORD messages land."""

from __future__ import annotations

from pathlib import Path

from tests.loading import THINGS_SCHEMA, batch_message, last_state, load_messages, loaded_rows, things_batch

ORDERS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["order_id"],
    "schema": {
        "properties": {
            "order_id": {"type": ["integer"]},
            "note": {"type": ["null", "string"]},
            "amount": {"type": ["null", "number"]},
            "is_gift": {"type": ["null", "boolean"]},
            "ordered_at": {"type": ["null", "string"], "format": "date-time"},
        }
    },
}
ORDERS = [
    {
        "order_id": i,
        "note": ["plain", "", None, 'say "hi", \\ ok', "a,b", "ü 例え", "two\nlines"][i % 7],
        "amount": [12.5, 0, None, 1234567.89][i % 4],
        "is_gift": [True, False, None][i % 3],
        "ordered_at": None if i % 5 == 0 else f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00.123456+00:00",
    }
    for i in range(1, 24)
]


def test_batch_files_land_the_rows_and_state_that_record_messages_land(tmp_path: Path) -> None:
    """The same orders as RECORD messages (target-duckdb's own loop, CSV files) and as BATCH files (read by DuckDB):
    the same rows (text with quotes, commas, newlines and non-ASCII; numbers, booleans, times; empty strings made
    NULL, as the CSV path makes them), the same table, the same final state; the batch files are deleted."""
    state = {"type": "STATE", "value": {"bookmarks": {"orders": {"replication_key_value": 23}}}}
    settings = {"add_metadata_columns": True, "batch_size_rows": 5, "primary_key_required": False}
    records = [{"type": "RECORD", "stream": "orders", "record": order} for order in ORDERS]
    by_records = load_messages(tmp_path, [ORDERS_SCHEMA, *records, state], name="records", **settings)
    assert by_records.returncode == 0, by_records.stderr[-3000:]
    batches = tmp_path / "batches"
    batches.mkdir()
    messages = [
        batch_message(batches / f"orders-{part}.jsonl", "orders", ORDERS[start : start + 4])
        for part, start in enumerate(range(0, len(ORDERS), 4))
    ]
    by_batches = load_messages(tmp_path, [ORDERS_SCHEMA, *messages, state], name="batches", **settings)
    assert by_batches.returncode == 0, by_batches.stderr[-3000:]

    rows = loaded_rows(tmp_path / "batches.duckdb", "orders")
    assert len(rows) == len(ORDERS)
    assert rows == loaded_rows(tmp_path / "records.duckdb", "orders")
    assert last_state(by_batches) == last_state(by_records) == state["value"]
    assert not list(batches.iterdir()), "the loader leaves batch files behind"


def test_batches_the_loader_cannot_load_faithfully_stop_it_with_the_reason(tmp_path: Path) -> None:
    """Moved from tests/python/test_loader.py."""
    batch = things_batch(tmp_path, [{"thing_id": 1, "name": "a"}, {"thing_id": 1, "name": "b"}])
    twice = load_messages(tmp_path, [THINGS_SCHEMA, batch])
    assert twice.returncode != 0
    assert "the batch files of stream things hold key 1 more than once" in twice.stderr

    batch = things_batch(tmp_path, [{"thing_id": 1, "name": "a"}])
    record = {"type": "RECORD", "stream": "things", "record": {"thing_id": 2, "name": "c"}}
    mixed = load_messages(tmp_path, [THINGS_SCHEMA, batch, record])
    assert mixed.returncode != 0
    assert "a RECORD message for stream things in a run of BATCH messages" in mixed.stderr
