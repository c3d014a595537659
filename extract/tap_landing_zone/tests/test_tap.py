"""The `tap-landing-zone` command, as Meltano runs it: every line lands once, unreadable ones with their error; a
rerun reads only new lines; its batch files hold the records its RECORD messages hold."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tests.landing_zone import EVENT_COUNT, UNREADABLE_COUNT, write_landing_zone

TAP = Path(sys.executable).parent / "tap-landing-zone"


def _run_tap(tmp_path: Path, config: dict[str, Any], state: dict | None = None) -> list[dict[str, Any]]:
    """The tap's messages, in order."""
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps(config))
    command = [str(TAP), "--config", str(config_file)]
    if state is not None:
        state_file = tmp_path / "state.json"
        state_file.write_text(json.dumps(state))
        command += ["--state", str(state_file)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def _records(messages: list[dict[str, Any]], stream: str) -> list[dict[str, Any]]:
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def _schema(messages: list[dict[str, Any]], stream: str) -> dict[str, Any]:
    return next(m["schema"] for m in messages if m["type"] == "SCHEMA" and m["stream"] == stream)


def _last_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return [m for m in messages if m["type"] == "STATE"][-1]["value"]


def test_every_line_lands_once_and_unreadable_lines_keep_their_text_and_error(tmp_path: Path) -> None:
    write_landing_zone(tmp_path / "landing")
    messages = _run_tap(tmp_path, {"landing_dir": str(tmp_path / "landing")})
    assert messages[-1]["type"] == "STATE", "records after the last state would be read again by the next run"

    events = _records(messages, "events")
    assert len(events) == EVENT_COUNT
    assert len({(e["_source_file"], e["_line_number"]) for e in events}) == EVENT_COUNT
    unreadable = {e["raw_line"]: e["parse_error"] for e in events if e["parse_error"] is not None}
    assert len(unreadable) == UNREADABLE_COUNT
    assert unreadable['{"event_id": "cut'].startswith("malformed JSON")
    assert unreadable['["not", "an", "object"]'] == "not a JSON object: list"
    assert unreadable['{"event_id": "no end of line'].startswith("truncated file: the last line has no end of line")
    (nested,) = [e for e in events if e["event_id"] == "evt_003"]
    assert nested["extra_fields"] == '{"context":{"i":[1,2.5,null,true]}}'

    files = {f["_source_file"]: f for f in _records(messages, "landing_files")}
    assert sorted(files) == ["2026-01-01/events.jsonl", "2026-01-02/arrived-2026-01-02.jsonl"]
    day_one, day_two = files["2026-01-01/events.jsonl"], files["2026-01-02/arrived-2026-01-02.jsonl"]
    assert (day_one["line_count"], day_one["blank_line_count"], day_one["has_utf8_bom"]) == (6, 1, False)
    assert (day_two["line_count"], day_two["ends_with_newline"], day_two["has_utf8_bom"]) == (2, False, True)


def test_a_rerun_reads_only_the_lines_appended_since(tmp_path: Path) -> None:
    """The bookmark is the last line read in each file: a late event appended to an old day's file is read, the
    lines before it are not."""
    landing = tmp_path / "landing"
    write_landing_zone(landing)
    first = _run_tap(tmp_path, {"landing_dir": str(landing)})
    with (landing / "2026-01-01" / "events.jsonl").open("a") as late:
        late.write(json.dumps({"event_id": "evt_late"}) + "\n")
    second = _run_tap(tmp_path, {"landing_dir": str(landing)}, state=_last_state(first))
    assert [(e["event_id"], e["_line_number"]) for e in _records(second, "events")] == [("evt_late", 8)]


def test_batch_files_hold_the_records_and_state_of_record_messages(tmp_path: Path) -> None:
    """With batch_config, the tap writes JSON-lines files (of at most batch_size lines) instead of RECORD messages:
    the same records, the same final state."""
    landing = tmp_path / "landing"
    write_landing_zone(landing)
    by_records = _run_tap(tmp_path, {"landing_dir": str(landing)})
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (tmp_path / "batches").as_uri()},
        "batch_size": 2,
    }
    by_batches = _run_tap(tmp_path, {"landing_dir": str(landing), "batch_config": batch_config})

    assert not _records(by_batches, "events")
    from_files: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in by_batches:
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                path = Path(urlparse(url).path)
                # landing_files goes through the SDK's own jsonl batcher, which gzips whatever the config says.
                body = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
                lines = body.decode().splitlines()
                assert len(lines) <= 2
                from_files[message["stream"]].extend(json.loads(line) for line in lines)
    for stream in ("events", "landing_files"):
        # As RECORD messages, events records also carry their partition's key (see conftest.py): the schema's fields;
        # seen_at is when each run started.
        fields = set(_schema(by_records, stream)["properties"]) - {"seen_at"}
        expected = [{key: value for key, value in r.items() if key in fields} for r in _records(by_records, stream)]
        got = [{key: value for key, value in r.items() if key in fields} for r in from_files[stream]]
        assert got == expected, stream
    assert _last_state(by_batches) == _last_state(by_records)
