"""The streams: every line of every landing file (read once, resumable per file), and the files themselves."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, StorageTarget
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_landing_zone.lines import EVENT_FIELDS, UTF8_BOM, parse_line

_ENCODER = msgspec.json.Encoder()


def landing_files(tap_config: dict[str, Any]) -> tuple[Path, list[Path]]:
    """The landing folder and the files the config's pattern selects, in order."""
    landing_dir = Path(tap_config["landing_dir"]).expanduser()
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"event landing folder not found: {landing_dir}")
    return landing_dir, sorted(landing_dir.glob(tap_config.get("file_pattern", "*/*.jsonl")))


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
    # parse_line builds every record with the schema's types already (text, and an int line number): the SDK's
    # per-field type conformance would only check that again, a third of the tap's time.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    schema = th.PropertiesList(
        *(th.Property(field, th.StringType) for field in EVENT_FIELDS),
        th.Property("extra_fields", th.StringType, description="JSON of fields this tap does not know yet."),
        th.Property("parse_error", th.StringType, description="Why the line could not be read; null if it could."),
        th.Property("raw_line", th.StringType, description="The line as written, kept when it could not be read."),
        th.Property("_source_file", th.StringType, required=True, description="File, relative to the landing dir."),
        th.Property("_line_number", th.IntegerType, required=True, description="1-based line number in the file."),
    ).to_dict()

    @property
    def partitions(self) -> list[dict[str, Any]]:
        landing_dir, files = landing_files(self.config)
        return [{"source_file": path.relative_to(landing_dir).as_posix()} for path in files]

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        assert context is not None, "the events stream is partitioned by file"
        return self._new_lines(context)

    def get_batches(
        self, batch_config: BatchConfig, context: dict | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """The new lines of one landing file as JSON-lines batch files of at most `batch_size` records.

        The records go straight from the file to the batch file, without the SDK's per-record path (a third of the
        tap's time when it writes RECORD messages). The bookmark moves to each batch's last line before the SDK
        writes the BATCH message and the STATE message after it, so a loader that emits that state has the batch.
        """
        encoding = batch_config.encoding
        if encoding.format != "jsonl" or encoding.compression not in (None, "none", "gzip"):
            raise ValueError(f"tap-landing-zone writes batches as jsonl, plain or gzip; not {encoding}")
        storage = batch_config.storage
        sync_id = f"{storage.prefix or ''}{self.tap_name}--{self.name}-{uuid4()}"
        part = 0
        # As the SDK's _sync_records does for records: each file is a state partition, with its starting bookmark
        # set before its lines are read, and its state finalized after.
        for partition in [context] if context is not None else self.partitions:
            self._write_starting_replication_value(partition)
            chunk: list[dict[str, Any]] = []
            for record in self._new_lines(partition):
                chunk.append(record)
                if len(chunk) < batch_config.batch_size:
                    continue
                part += 1
                yield encoding, [self._write_batch(storage, f"{sync_id}-{part}", chunk, encoding, partition)]
                chunk = []
            if chunk:
                part += 1
                yield encoding, [self._write_batch(storage, f"{sync_id}-{part}", chunk, encoding, partition)]
            self._finalize_state(self.get_context_state(partition))
        if context is None:
            self._finalize_state(self.stream_state)

    def _write_batch(
        self,
        storage: StorageTarget,
        name: str,
        chunk: list[dict[str, Any]],
        encoding: BaseBatchFileEncoding,
        context: dict,
    ) -> str:
        body = _ENCODER.encode_lines(chunk)
        filename = f"{name}.jsonl.gz" if encoding.compression == "gzip" else f"{name}.jsonl"
        with storage.open(filename, "wb") as handle:
            handle.write(gzip.compress(body, compresslevel=1) if encoding.compression == "gzip" else body)
        self._increment_stream_state(chunk[-1], context=context)
        return storage.get_url(filename)

    def _new_lines(self, context: dict) -> Iterator[dict[str, Any]]:
        """The records of the lines of the context's file after its bookmark."""
        source_file = context["source_file"]
        last_line_read = int(self.get_starting_replication_key_value(context) or 0)
        landing_dir = Path(self.config["landing_dir"]).expanduser()
        with (landing_dir / source_file).open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                if line_number <= last_line_read:
                    continue
                line = raw.rstrip(b"\r\n")
                if not line.strip():
                    continue  # a blank line carries no event
                record = parse_line(line)
                if record["parse_error"] is not None and not raw.endswith(b"\n"):
                    # The last line of a file that stops mid-line: the writer died or the copy was cut short.
                    record["parse_error"] = f"truncated file: the last line has no end of line; {record['parse_error']}"
                record["_source_file"] = source_file
                record["_line_number"] = line_number
                yield record


class LandingFilesStream(Stream):
    """One record per landing file, read again on every run: what the file holds, so the warehouse can tell a file
    that gave no rows (empty, or only blank lines), a file that starts with a byte order mark or ends mid-line,
    and whether every line of the file reached raw_events.events."""

    name = "landing_files"
    primary_keys = ("_source_file",)

    schema = th.PropertiesList(
        th.Property("_source_file", th.StringType, required=True, description="File, relative to the landing dir."),
        th.Property("size_bytes", th.IntegerType, description="Size of the file when it was read."),
        th.Property("line_count", th.IntegerType, description="Lines holding something (blank lines not counted)."),
        th.Property("blank_line_count", th.IntegerType, description="Lines holding only white space."),
        th.Property("has_utf8_bom", th.BooleanType, description="The file starts with a UTF-8 byte order mark."),
        th.Property("ends_with_newline", th.BooleanType, description="False when the last line has no end of line."),
        th.Property("modified_at", th.DateTimeType, description="The file's modification time (UTC)."),
    ).to_dict()

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        landing_dir, files = landing_files(self.config)
        for path in files:
            line_count = blank_line_count = size = 0
            first = last = b""
            with path.open("rb") as handle:
                for raw in handle:
                    if size == 0:
                        first = raw[: len(UTF8_BOM)]
                    size += len(raw)
                    last = raw
                    if raw.rstrip(b"\r\n").strip():  # as the events stream counts a line
                        line_count += 1
                    else:
                        blank_line_count += 1
            yield {
                "_source_file": path.relative_to(landing_dir).as_posix(),
                "size_bytes": size,
                "line_count": line_count,
                "blank_line_count": blank_line_count,
                "has_utf8_bom": first == UTF8_BOM,
                "ends_with_newline": size == 0 or last.endswith(b"\n"),
                "modified_at": datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(),
            }
