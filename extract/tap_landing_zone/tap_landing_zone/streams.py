"""The events stream: every line of every landing file, read once, resumable per file."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from singer_sdk import Stream
from singer_sdk import typing as th

from tap_landing_zone.lines import EVENT_FIELDS, parse_line


class EventsStream(Stream):
    """One record per line of `<landing_dir>/<day>/*.jsonl`.

    The bookmark is the last line read in each file (one state partition per file), so lines appended to a file
    later (late events landing in an old day folder) are read on the next run, and lines already read are not.
    The key is (_source_file, _line_number): a line delivered twice by a rerun lands once.
    """

    name = "events"
    primary_keys = ("_source_file", "_line_number")
    replication_key = "_line_number"
    is_sorted = True

    schema = th.PropertiesList(
        *(th.Property(field, th.StringType) for field in EVENT_FIELDS),
        th.Property("extra_fields", th.StringType, description="JSON of fields this tap does not know yet."),
        th.Property("parse_error", th.StringType, description="Why the line could not be read; null if it could."),
        th.Property("raw_line", th.StringType, description="The line as written, kept when it could not be read."),
        th.Property("_source_file", th.StringType, required=True, description="File, relative to the landing dir."),
        th.Property("_line_number", th.IntegerType, required=True, description="1-based line number in the file."),
    ).to_dict()

    @property
    def landing_dir(self) -> Path:
        return Path(self.config["landing_dir"]).expanduser()

    def _files(self) -> list[Path]:
        if not self.landing_dir.is_dir():
            raise FileNotFoundError(f"event landing folder not found: {self.landing_dir}")
        return sorted(self.landing_dir.glob(self.config.get("file_pattern", "*/*.jsonl")))

    @property
    def partitions(self) -> list[dict[str, Any]]:
        return [{"source_file": path.relative_to(self.landing_dir).as_posix()} for path in self._files()]

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        assert context is not None, "the events stream is partitioned by file"
        source_file = context["source_file"]
        last_line_read = int(self.get_starting_replication_key_value(context) or 0)
        with (self.landing_dir / source_file).open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                if line_number <= last_line_read:
                    continue
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue  # a blank line carries no event
                record = parse_line(line)
                record["_source_file"] = source_file
                record["_line_number"] = line_number
                yield record
