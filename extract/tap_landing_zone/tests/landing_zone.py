"""A small landing zone, written by the tests: two day folders, every kind of line the tap must keep."""

from __future__ import annotations

import json
from pathlib import Path

UTF8_BOM = b"\xef\xbb\xbf"

DAY_ONE = [
    json.dumps({"event_id": "evt_001", "event_type": "page_view", "occurred_at": "2026-01-01T10:00:00Z"}),
    json.dumps({"event_id": "evt_002", "event_type": "add_to_cart", "customer_id": 17, "product_id": 3.0}),
    '{"event_id": "cut',  # malformed: the writer died mid-line
    "   ",  # blank: carries no event
    json.dumps({"event_id": "evt_003", "context": {"i": [1, 2.5, None, True]}}),  # a field the tap does not know
    json.dumps({"event_id": 'say "hi", \\ ok', "page_url": "https://例え.jp/ü?q=1,2"}),
    json.dumps(["not", "an", "object"]),
]
# Starts with a byte order mark; its last line has no end of line (the copy was cut short).
DAY_TWO = [json.dumps({"event_id": "evt_004", "event_type": "page_view"}), '{"event_id": "no end of line']

# One record per line that holds something: 6 on day one, 2 on day two. Three cannot be read (the cut line, the list,
# the line without an end of line): they land with parse_error and raw_line set.
EVENT_COUNT = 8
UNREADABLE_COUNT = 3


def write_landing_zone(landing_dir: Path) -> None:
    """Day folders under landing_dir, as the generator lays them out."""
    day_one = landing_dir / "2026-01-01"
    day_one.mkdir(parents=True, exist_ok=True)
    day_one.joinpath("events.jsonl").write_text("\n".join(DAY_ONE) + "\n")
    day_two = landing_dir / "2026-01-02"
    day_two.mkdir(exist_ok=True)
    day_two.joinpath("arrived-2026-01-02.jsonl").write_bytes(UTF8_BOM + "\n".join(DAY_TWO).encode())
