"""The streams: every line of every landing file (read once, again when the file changed), and the files themselves."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, NamedTuple
from uuid import uuid4

import msgspec
from singer_sdk import Stream
from singer_sdk import typing as th
from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig, StorageTarget
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_landing_zone.files import DECOMPRESSION_ERRORS, LandingEntry, compression_of, open_content, scan
from tap_landing_zone.lines import EVENT_FIELDS, UTF8_BOM, parse_line

_ENCODER = msgspec.json.Encoder()
# The events stream's state per file, beside the SDK's line bookmark: how far the file was read (see EventsStream),
# as one string `<bytes> <lines> <sha256 of those bytes> <last line loaded> <md5 of an unfinished last line or ->`.
# One value, not five: the SDK copies every file's state at each of its state messages (one per file at least).
READ_MARK = "read"


def landing_entries(tap_config: dict[str, Any]) -> tuple[Path, list[LandingEntry]]:
    """The landing folder and everything in it: the files the tap reads and the ones it rejects, with why."""
    landing_dir = Path(tap_config["landing_dir"]).expanduser()
    if not landing_dir.is_dir():
        raise FileNotFoundError(f"event landing folder not found: {landing_dir}")
    entries = scan(landing_dir)
    pattern = tap_config.get("file_pattern")
    if not pattern:
        return landing_dir, entries
    # The old setting, kept as a filter: a landing file it leaves out is listed as rejected, not skipped silently.
    selected = {path.relative_to(landing_dir).as_posix() for path in landing_dir.glob(pattern)}
    return landing_dir, [
        entry
        if not entry.is_accepted or entry.source_file in selected
        else LandingEntry(entry.source_file, entry.path, f"not matched by the file_pattern setting {pattern}")
        for entry in entries
    ]


class _ReadProgress:
    """How far a file has been read in complete lines: its first `offset` bytes (content, decompressed), `lines`
    lines, their sha256; the last line number that has a live row in raw (`last_live_line`); and the md5 of a last
    line without an end of line loaded after them (`partial_line_md5`), if any."""

    __slots__ = ("last_live_line", "lines", "offset", "partial_line_md5", "sha256")

    def __init__(self) -> None:
        self.offset = 0
        self.lines = 0
        self.sha256 = hashlib.sha256()
        self.last_live_line = 0
        self.partial_line_md5: str | None = None

    def mark(self) -> str:
        """The state's READ_MARK for what was read so far."""
        partial = self.partial_line_md5 or "-"
        return f"{self.offset} {self.lines} {self.sha256.hexdigest()} {self.last_live_line} {partial}"


class _ReadMark(NamedTuple):
    """A READ_MARK from the state, parsed."""

    offset: int
    lines: int
    sha256: str
    last_line_loaded: int
    partial_line_md5: str | None

    @classmethod
    def parse(cls, mark: object) -> _ReadMark | None:
        """None for a state without one (a file not read yet, or read before the tap kept hashes)."""
        if not isinstance(mark, str):
            return None
        offset, lines, sha256, last_line_loaded, partial_line_md5 = mark.split(" ")
        partial = None if partial_line_md5 == "-" else partial_line_md5
        return cls(int(offset), int(lines), sha256, int(last_line_loaded), partial)


class EventsStream(Stream):
    """One record per line of each landing file (`<landing_dir>/<day>/<name>.jsonl`, compressed or not).

    Each file is a state partition; its state says how far it was read (READ_MARK): the bytes (content, decompressed)
    and lines read, the sha256 of those bytes, and the last line number with a live row. On the next run:

    - the file still starts with those bytes (same hash): only the lines after them are read, so lines appended
      later (late events in an old day's file) are read and the lines before them are not (hashing the prefix
      costs a read of it, not a row);
    - it does not (a line changed, inserted or removed, the file cut shorter or replaced, or a state without the
      hash): the file is read whole again. Each line's row is replaced (the key is the file and line number), and a
      line number that no longer holds an event gets a row with only `_sdc_deleted_at` set (the Singer convention
      for a deleted row; staging leaves such rows out), so raw holds the file as it is now, nothing stale.

    A last line without an end of line (a file still being written) is loaded, but not counted as read: the next
    run reads it again from its start, and loads it again only if it changed (it was finished since). `_line_md5`
    (the md5 of the line's bytes, end of line included) lets the reconciliation compare the content raw holds with
    the files, not only their line counts.
    """

    name = "events"
    primary_keys = ("_source_file", "_line_number")
    replication_key = "_line_number"
    is_sorted = True
    # A file read whole again starts at line 1, below the line number its state holds: the order is checked per
    # file by the read itself (line numbers only grow within one read), not against the previous run.
    check_sorted = False
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
        th.Property("_line_md5", th.StringType, description="md5 (hex) of the line's bytes, end of line included."),
        th.Property(
            "_sdc_deleted_at",
            th.DateTimeType,
            description="Set when the line number no longer holds an event (the file changed); null otherwise.",
        ),
    ).to_dict()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._progress: dict[str, _ReadProgress] = {}
        self._deleted_at = datetime.now(tz=UTC).isoformat()

    @property
    def partitions(self) -> list[dict[str, Any]]:
        _, entries = landing_entries(self.config)
        return [{"source_file": entry.source_file} for entry in entries if entry.is_accepted]

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

    def _increment_stream_state(self, latest_record: dict[str, Any], *, context: dict | None = None) -> None:
        """The SDK's bookmark (the record's line number), and how far the file was read when the record was."""
        super()._increment_stream_state(latest_record, context=context)
        if context is None:
            return
        progress = self._progress[context["source_file"]]
        self.get_context_state(context)[READ_MARK] = progress.mark()

    def _new_lines(self, context: dict) -> Iterator[dict[str, Any]]:
        """The records of the lines of the context's file not read yet; all of them when the file changed."""
        source_file = context["source_file"]
        path = Path(self.config["landing_dir"]).expanduser() / source_file
        state = self.get_context_state(context)
        mark = _ReadMark.parse(state.get(READ_MARK))
        # Rows raw may hold for this file: up to the last line loaded (the line bookmark, in a state before hashes).
        loaded_before = mark.last_line_loaded if mark else int(state.get("replication_key_value") or 0)
        progress = _ReadProgress()
        handle = open_content(path)
        try:
            whole = mark is None or not _skip_unchanged_prefix(handle, mark, progress)
            if whole:
                if loaded_before:
                    self.logger.info("%s changed since it was loaded: reading it whole again", source_file)
                handle.close()
                handle = open_content(path)
                progress = _ReadProgress()
            else:
                progress.last_live_line = loaded_before
                progress.partial_line_md5 = mark.partial_line_md5 if mark else None
            self._progress[source_file] = progress
            yield from self._lines(handle, source_file, progress, loaded_before)
        finally:
            handle.close()

    def _lines(
        self, handle: IO[bytes], source_file: str, progress: _ReadProgress, deleted_up_to: int
    ) -> Iterator[dict[str, Any]]:
        """The records of the lines from the handle's position on, and a deleted-line row for each line number up to
        `deleted_up_to` (the last one loaded before) that holds no event any more."""
        line_number = progress.lines
        try:
            for raw in handle:
                line_number += 1
                complete = raw.endswith(b"\n")
                if complete:  # a last line without an end of line is read again next time, maybe finished by then
                    progress.offset += len(raw)
                    progress.lines = line_number
                    progress.sha256.update(raw)
                line = raw.rstrip(b"\r\n")
                if not line.strip():  # a blank line carries no event
                    if line_number <= deleted_up_to:
                        yield self._deleted_line(source_file, line_number)
                    continue
                line_md5 = hashlib.md5(raw, usedforsecurity=False).hexdigest()
                if not complete and line_md5 == progress.partial_line_md5:
                    continue  # the same unfinished last line as last time: its row is there
                progress.partial_line_md5 = None if complete else line_md5
                record = parse_line(line)
                if record["parse_error"] is not None and not complete:
                    # The last line of a file that stops mid-line: the writer died or the copy was cut short.
                    record["parse_error"] = f"truncated file: the last line has no end of line; {record['parse_error']}"
                record["_source_file"] = source_file
                record["_line_number"] = line_number
                record["_line_md5"] = line_md5
                record["_sdc_deleted_at"] = None
                progress.last_live_line = line_number
                yield record
        except DECOMPRESSION_ERRORS as exc:
            # A compressed file cut short (still being copied) or corrupt: its lines up to there are loaded, the
            # landing_files stream lists it as rejected with this error, and the next run tries again.
            self.logger.warning("%s: cannot decompress after line %d: %s", source_file, line_number, exc)
        for gone in range(line_number + 1, deleted_up_to + 1):
            yield self._deleted_line(source_file, gone)

    def _deleted_line(self, source_file: str, line_number: int) -> dict[str, Any]:
        record: dict[str, Any] = dict.fromkeys(EVENT_FIELDS)
        record.update(extra_fields=None, parse_error=None, raw_line=None, _line_md5=None)
        record["_source_file"] = source_file
        record["_line_number"] = line_number
        record["_sdc_deleted_at"] = self._deleted_at
        return record


def _skip_unchanged_prefix(handle: IO[bytes], mark: _ReadMark, progress: _ReadProgress) -> bool:
    """True when the file still starts with the bytes the mark says were read: the handle is then past them and
    `progress` covers them. False when the bytes differ (the file changed)."""
    remaining = mark.offset
    try:
        while remaining:
            chunk = handle.read(min(remaining, 1 << 20))
            if not chunk:
                return False  # shorter than what was read: cut
            progress.sha256.update(chunk)
            remaining -= len(chunk)
    except DECOMPRESSION_ERRORS:
        return False
    if progress.sha256.hexdigest() != mark.sha256:
        return False
    progress.offset, progress.lines = mark.offset, mark.lines
    return True


class LandingFilesStream(Stream):
    """One record per entry of the landing folder, read again on every run: what each landing file holds, so the
    warehouse can tell a file that gave no rows (empty, or only blank lines), a file that starts with a byte order
    mark or ends mid-line, and whether every line of the file reached raw_events.events; and every file the tap
    does not read, with why (rejected_reason), so that no delivered file goes unnoticed."""

    name = "landing_files"
    primary_keys = ("_source_file",)

    schema = th.PropertiesList(
        th.Property("_source_file", th.StringType, required=True, description="File, relative to the landing dir."),
        th.Property("rejected_reason", th.StringType, description="Why the tap does not read it; null if it does."),
        th.Property("compression", th.StringType, description="gzip, bz2 or xz when compressed; null if not."),
        th.Property("size_bytes", th.IntegerType, description="Size of the file (as stored) when it was read."),
        th.Property("sha256", th.StringType, description="sha256 (hex) of the file as stored, when it was read."),
        th.Property("line_count", th.IntegerType, description="Lines holding something (blank lines not counted)."),
        th.Property("blank_line_count", th.IntegerType, description="Lines holding only white space."),
        th.Property("has_utf8_bom", th.BooleanType, description="The file starts with a UTF-8 byte order mark."),
        th.Property("ends_with_newline", th.BooleanType, description="False when the last line has no end of line."),
        th.Property("modified_at", th.DateTimeType, description="The file's modification time (UTC)."),
        th.Property("seen_at", th.DateTimeType, description="When this run of the tap started (the same for all)."),
    ).to_dict()

    def get_records(self, context: dict | None) -> Iterable[dict[str, Any]]:
        _, entries = landing_entries(self.config)
        seen_at = datetime.now(tz=UTC).isoformat()
        for entry in entries:
            record: dict[str, Any] = {
                "_source_file": entry.source_file,
                "rejected_reason": entry.rejected_reason,
                "compression": None,
                "size_bytes": None,
                "sha256": None,
                "line_count": None,
                "blank_line_count": None,
                "has_utf8_bom": None,
                "ends_with_newline": None,
                "modified_at": None,
                "seen_at": seen_at,
            }
            if entry.path.exists() and not entry.path.is_dir():
                stat = entry.path.stat()
                record["size_bytes"] = stat.st_size
                record["modified_at"] = datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat()
            if entry.is_accepted:
                record.update(_content_facts(entry))
            yield record


def _content_facts(entry: LandingEntry) -> dict[str, Any]:
    """Line counts, byte order mark, end of line and hashes of a landing file (its content decompressed)."""
    compression = compression_of(entry.path)
    line_count = blank_line_count = content_size = 0
    first = last = b""
    stored_sha256 = hashlib.sha256()
    problem = None
    with open_content(entry.path) as handle:
        try:
            for raw in handle:
                if content_size == 0:
                    first = raw[: len(UTF8_BOM)]
                content_size += len(raw)
                last = raw
                if compression is None:
                    stored_sha256.update(raw)
                if raw.rstrip(b"\r\n").strip():  # as the events stream counts a line
                    line_count += 1
                else:
                    blank_line_count += 1
        except DECOMPRESSION_ERRORS as exc:
            lines = line_count + blank_line_count
            problem = f"cannot be decompressed after line {lines} ({exc}); the lines before it are loaded"
    if compression is not None:
        with entry.path.open("rb") as stored:
            stored_sha256 = hashlib.file_digest(stored, "sha256")
    return {
        "rejected_reason": problem,
        "compression": compression,
        "sha256": stored_sha256.hexdigest(),
        "line_count": line_count,
        "blank_line_count": blank_line_count,
        "has_utf8_bom": first == UTF8_BOM,
        "ends_with_newline": content_size == 0 or last.endswith(b"\n"),
    }
