"""Every file that lands is read or listed as rejected with a reason; a file that changed after it was loaded is read
whole again and raw (the loader's merge on file and line) ends up holding it as it is now; a file that only grew is
read from where the last run stopped. The tap runs as Meltano runs it, one command per run, state passed on."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
from pathlib import Path
from typing import Any

import pytest

from tests.test_tap import _last_state, _records, _run_tap

Raw = dict[tuple[str, int], dict[str, Any]]


def _line(event_id: str, **fields: Any) -> bytes:
    return json.dumps({"event_id": event_id, "event_type": "page_view", **fields}).encode() + b"\n"


def _lines(*event_ids: str) -> bytes:
    return b"".join(_line(event_id) for event_id in event_ids)


class Zone:
    """A landing folder, the tap run on it again and again with the state each run leaves, and raw as the loader
    merges the records (one row per file and line, the latest record wins)."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.dir = tmp_path / "landing"
        self.dir.mkdir()
        self.state: dict[str, Any] | None = None
        self.raw: Raw = {}
        self.files: dict[str, dict[str, Any]] = {}

    def write(self, name: str, content: bytes) -> Path:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        return path

    def run(self) -> list[dict[str, Any]]:
        """One run of the tap: the events records it wrote (they are merged into raw)."""
        messages = _run_tap(self.tmp_path, {"landing_dir": str(self.dir)}, state=self.state)
        self.state = _last_state(messages)
        events = _records(messages, "events")
        for record in events:
            self.raw[(record["_source_file"], record["_line_number"])] = record
        self.files = {record["_source_file"]: record for record in _records(messages, "landing_files")}
        return events

    def live(self, source_file: str) -> list[tuple[int, str | None, str]]:
        """(line, event_id, line md5) of the file's rows in raw that are not marked deleted, by line."""
        return sorted(
            (line, row["event_id"] or row["raw_line"], row["_line_md5"])
            for (file, line), row in self.raw.items()
            if file == source_file and row["_sdc_deleted_at"] is None
        )


def _expected(content: bytes) -> list[tuple[int, str | None, str]]:
    """What raw should hold for a file of this content: each non-blank line, its event id (or text) and md5."""
    rows = []
    for number, raw in enumerate(content.splitlines(keepends=True), start=1):
        if raw.strip():
            try:
                event_id = json.loads(raw)["event_id"]
            except ValueError:
                event_id = raw.decode().rstrip("\r\n")
            rows.append((number, event_id, hashlib.md5(raw).hexdigest()))
    return rows


@pytest.fixture
def zone(tmp_path: Path) -> Zone:
    return Zone(tmp_path)


def test_every_file_is_read_or_rejected_with_a_reason(zone: Zone, tmp_path: Path) -> None:
    """Compressed JSON lines and other spellings of JSON lines load; anything else is listed with why, and nothing
    makes the tap stop."""
    accepted = {
        "2026-01-01/events.jsonl": _lines("plain"),
        "2026-01-01/upper.JSONL": _lines("upper"),
        "2026-01-01/object-per-line.json": _lines("json"),
        "2026-01-01/gzipped.jsonl.gz": gzip.compress(_lines("gz1", "gz2")),
        "2026-01-01/upper.JSONL.GZ": gzip.compress(_lines("gz_upper")),
        "2026-01-01/other.ndjson.bz2": bz2.compress(_lines("bz2")),
        "2026-01-01/other.json.xz": lzma.compress(_lines("xz")),
    }
    for name, content in accepted.items():
        zone.write(name, content)
    rejected = {
        "at-the-root.jsonl": "not in a day folder",
        "2026-01-01/nested/deeper.jsonl": "in a nested folder",
        "2026-01-01/spend.csv": "unsupported extension .csv",
        "2026-01-01/archive.jsonl.zip": "unsupported extension .zip",
        "2026-01-01/no-extension": "unsupported extension (none)",
        "2026-01-01/.hidden.jsonl": "hidden file",
        ".staging/2026-01-01/events.jsonl": "hidden file",
        "2026-01-01/copying.jsonl.part": "temporary file",
        "2026-01-01/edited.jsonl~": "temporary file",
        "2026-01-01/not-gzip.jsonl.gz": "cannot be decompressed after line 0",
    }
    for name in rejected:
        zone.write(name, b"garbage, not gzip" if name.endswith(".gz") else _lines(name))
    (zone.dir / "2026-01-01" / "folder.jsonl").mkdir()
    rejected["2026-01-01/folder.jsonl"] = "a folder named like a landing file"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "linked.jsonl").write_bytes(_lines("linked"))
    (zone.dir / "2026-01-01" / "linked.jsonl").symlink_to(outside / "linked.jsonl")
    accepted["2026-01-01/linked.jsonl"] = _lines("linked")
    (zone.dir / "2026-01-02").symlink_to(outside, target_is_directory=True)
    rejected["2026-01-02"] = "a link to a folder (not followed)"
    (zone.dir / "2026-01-01" / "dangling.jsonl").symlink_to(outside / "gone.jsonl")
    rejected["2026-01-01/dangling.jsonl"] = "a link to nothing"
    cut = gzip.compress(_lines("cut1", "cut2") * 50)
    zone.write("2026-01-01/cut-short.jsonl.gz", cut[: len(cut) - 20])  # still being copied
    rejected["2026-01-01/cut-short.jsonl.gz"] = "cannot be decompressed after line"

    events = zone.run()

    assert sorted(zone.files) == sorted([*accepted, *rejected])
    for name, content in accepted.items():
        assert zone.files[name]["rejected_reason"] is None, name
        plain = gzip.decompress(content) if name.lower().endswith(".gz") else None
        if plain is not None:
            assert zone.live(name) == _expected(plain), name
            assert zone.files[name]["compression"] == "gzip"
        assert zone.files[name]["line_count"] == len(zone.live(name)) >= 1, name
        assert zone.files[name]["sha256"] == hashlib.sha256((zone.dir / name).read_bytes()).hexdigest(), name
    for name, reason in rejected.items():
        assert (zone.files[name]["rejected_reason"] or "").startswith(reason), (name, zone.files[name])
    # A compressed file cut short: the lines before the cut load; its rows are complete lines only.
    read_of_cut = [e for e in events if e["_source_file"] == "2026-01-01/cut-short.jsonl.gz"]
    assert read_of_cut and all(e["parse_error"] is None for e in read_of_cut[:-1])
    assert {e["_source_file"] for e in events} == {*accepted, "2026-01-01/cut-short.jsonl.gz"}


def test_a_line_changed_in_place_reloads_the_file_and_nothing_else(zone: Zone) -> None:
    """Same size, same line count, one value changed: the file's prefix hash differs, so it is read whole again."""
    zone.write("2026-01-01/events.jsonl", _lines("a", "b", "c"))
    zone.write("2026-01-02/events.jsonl", _lines("d"))
    zone.run()
    changed = _lines("a", "B", "c")
    zone.write("2026-01-01/events.jsonl", changed)
    events = zone.run()
    assert {e["_source_file"] for e in events} == {"2026-01-01/events.jsonl"}
    assert zone.live("2026-01-01/events.jsonl") == _expected(changed)
    assert zone.live("2026-01-02/events.jsonl") == _expected(_lines("d"))


def test_a_line_inserted_mid_file_is_read_and_the_lines_after_it_move(zone: Zone) -> None:
    zone.write("2026-01-01/events.jsonl", _lines("a", "b", "c"))
    zone.run()
    inserted = _lines("a", "inserted", "b", "c")
    zone.write("2026-01-01/events.jsonl", inserted)
    zone.run()
    assert zone.live("2026-01-01/events.jsonl") == _expected(inserted)


@pytest.mark.parametrize(
    "after",
    [
        _lines("a", "b"),  # cut shorter
        _lines("x", "y", "z"),  # replaced, same line count
        _lines("a") + b"\n" + _lines("c"),  # a line emptied: a blank line holds no event
        b"",  # emptied
        _lines("b", "a", "c", "d")[: -len(_line("d"))] + b'{"event_id": "c", "ev',  # cut mid-line
    ],
    ids=["shorter", "replaced", "line-blanked", "emptied", "cut-mid-line"],
)
def test_a_changed_file_leaves_nothing_stale_in_raw(zone: Zone, after: bytes) -> None:
    """Line numbers that no longer hold an event get a row marked deleted (_sdc_deleted_at): raw's live rows are
    the file as it is now."""
    zone.write("2026-01-01/events.jsonl", _lines("a", "b", "c"))
    zone.run()
    zone.write("2026-01-01/events.jsonl", after)
    zone.run()
    assert zone.live("2026-01-01/events.jsonl") == _expected(after)
    deleted = {line for (_, line), row in zone.raw.items() if row["_sdc_deleted_at"] is not None}
    assert deleted == {1, 2, 3} - {line for line, _, _ in _expected(after)}


def test_appended_lines_stay_incremental(zone: Zone) -> None:
    """Lines appended to an old day's file (late events), plain or as another gzip member, are read alone."""
    zone.write("2026-01-01/events.jsonl", _lines("a", "b"))
    zone.write("2026-01-01/events.jsonl.gz", gzip.compress(_lines("g1")))
    zone.run()
    with (zone.dir / "2026-01-01" / "events.jsonl").open("ab") as late:
        late.write(_lines("late"))
    with (zone.dir / "2026-01-01" / "events.jsonl.gz").open("ab") as late:
        late.write(gzip.compress(_lines("g_late")))
    events = zone.run()
    assert sorted((e["_source_file"], e["_line_number"], e["event_id"]) for e in events) == [
        ("2026-01-01/events.jsonl", 3, "late"),
        ("2026-01-01/events.jsonl.gz", 2, "g_late"),
    ]
    assert zone.run() == [], "a run with nothing new reads nothing"


def test_a_last_line_being_written_is_read_again_once_finished(zone: Zone) -> None:
    """A last line without an end of line loads with its error; the next run reads it again only if it changed."""
    zone.write("2026-01-01/events.jsonl", _lines("a") + b'{"event_id": "b", "ev')
    first = zone.run()
    assert first[-1]["parse_error"].startswith("truncated file")
    assert zone.run() == [], "an unchanged unfinished line is not loaded again"
    zone.write("2026-01-01/events.jsonl", _lines("a", "b"))
    (finished,) = zone.run()
    assert (finished["_line_number"], finished["event_id"], finished["parse_error"]) == (2, "b", None)
    assert zone.live("2026-01-01/events.jsonl") == _expected(_lines("a", "b"))


def test_a_file_replaced_with_an_old_modification_time_is_still_seen(zone: Zone) -> None:
    """The tap compares content, not times: a corrected copy keeping its old mtime (cp -p, rsync -t) reloads."""
    path = zone.write("2026-01-01/events.jsonl", _lines("a", "b"))
    zone.run()
    stat = path.stat()
    path.write_bytes(_lines("a", "c"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    zone.run()
    assert zone.live("2026-01-01/events.jsonl") == _expected(_lines("a", "c"))


def test_a_bookmark_without_a_hash_reads_the_file_whole_once(zone: Zone) -> None:
    """A state written before the hashes (a line bookmark only) cannot tell a changed file: the file is read whole
    once, the state gets its hash, and the next run reads only what is new."""
    zone.write("2026-01-01/events.jsonl", _lines("a", "b"))
    zone.state = {
        "bookmarks": {
            "events": {
                "partitions": [
                    {
                        "context": {"source_file": "2026-01-01/events.jsonl"},
                        "replication_key": "_line_number",
                        "replication_key_value": 3,
                    }
                ]
            }
        }
    }
    events = zone.run()
    assert [(e["_line_number"], e["_sdc_deleted_at"] is None) for e in events] == [(1, True), (2, True), (3, False)]
    assert zone.run() == []
