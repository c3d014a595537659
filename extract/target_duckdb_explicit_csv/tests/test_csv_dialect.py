"""RECORD messages reach the warehouse through target-duckdb's batch CSV files: with their dialect stated, every row
lands, whatever its values hold."""

from __future__ import annotations

from pathlib import Path

from tests.loading import load_messages, loaded_rows

EVENTS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "events",
    "key_properties": ["event_id"],
    "schema": {"properties": {"event_id": {"type": ["string"]}, "event_type": {"type": ["null", "string"]}}},
}


def _records(events: list[tuple[str, str | None]]) -> list[dict]:
    return [
        {"type": "RECORD", "stream": "events", "record": {"event_id": event_id, "event_type": event_type}}
        for event_id, event_type in events
    ]


def test_the_loader_keeps_the_first_row_of_every_batch(tmp_path: Path) -> None:
    """target-duckdb 0.8.0 with duckdb >= 1.3 silently drops the first row of each batch (a sniffed header): with
    batches of 7 rows, 35 records must give 35 rows, not 30."""
    events = [(f"evt_{i:03d}", "page_view") for i in range(35)]
    result = load_messages(tmp_path, [EVENTS_SCHEMA, *_records(events)], batch_size_rows=7)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = loaded_rows(tmp_path / "wh.duckdb", "events")
    assert len(rows) == 35
    assert rows == sorted(events)


def test_values_with_quotes_commas_and_a_line_over_2_mb_land_as_sent(tmp_path: Path) -> None:
    """A value holding a quote made DuckDB guess `\\` as the escape character and fail the load; a 3 MB value is over
    its default line limit (2 MB)."""
    events = [
        ("quote", '{"event_id": "cut'),
        ("escape", 'say "hi", \\ ok'),
        ("comma", "a,b,,c"),
        ("non-ascii", "https://例え.jp/ü?q=1,2"),
        ("long", "x" * 3 * 1024 * 1024),
        ("null", None),
    ]
    result = load_messages(tmp_path, [EVENTS_SCHEMA, *_records(events)], batch_size_rows=2)
    assert result.returncode == 0, result.stderr[-3000:]
    assert loaded_rows(tmp_path / "wh.duckdb", "events") == sorted(events, key=lambda event: event[0])
