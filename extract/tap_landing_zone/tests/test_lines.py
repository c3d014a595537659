"""parse_line (msgspec, falling back to the json module) gives the record parse_line_stdlib (the json module alone)
gives, error message included, for every kind of line (moved from tests/python/test_loader.py, where it ran in this
environment through a subprocess)."""

from __future__ import annotations

from tap_landing_zone.lines import UTF8_BOM, parse_line, parse_line_stdlib

LINES = [
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
    b'"text"',
    b"42",
    b"null",
    b"true",
    b"\xff\xfe not utf-8",
    b'{"page_url": "caf\xc3\xa9", "user_agent": "caf\xe9"}',
    UTF8_BOM + b'{"event_id": "after a bom"}',
    b'  {"event_id": "spaces around"}  ',
    b'{"event_id": true, "event_type": false, "utm_source": null}',
    b"{}",
    b'{"a": {"deep": {"er": [[], {}]}}}',
]


def test_the_tap_parses_every_kind_of_line_as_the_json_module_does() -> None:
    mismatches = []
    for line in LINES:
        fast = parse_line(line)
        slow = parse_line_stdlib(line[len(UTF8_BOM) :] if line.startswith(UTF8_BOM) else line)
        if fast != slow:
            mismatches.append({"line": repr(line), "fast": repr(fast), "stdlib": repr(slow)})
    assert len(LINES) == 21
    assert mismatches == []
