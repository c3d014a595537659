"""Singer BATCH messages for target-duckdb 0.8.0, which only reads RECORD messages.

A tap that writes BATCH messages hands over its records as JSON-lines files (Singer SDK `batch_config`). Each file
is read by DuckDB itself (`read_json`) into the batch's staging table, then merged into the real table with
target-duckdb's own SQL (the UPDATE and INSERT of `DbSync.load_rows`): no per-record Python in the loader.

The rows are the ones the CSV path gives: every value is read as text and cast by DuckDB to the column's type, as
the CSV COPY does, and an empty string becomes NULL, as `DbSync.record_to_flattened` makes it. `_sdc_batched_at` is
when the file was staged and `_sdc_extracted_at` when the tap wrote it (a BATCH message carries no extraction time).

The files of each stream wait on disk until `batch_size_rows` lines have arrived (or the stream ends); then the
warehouse is opened, every waiting file is read into the stream's staging table, merged, and the warehouse let go
(shared_warehouse.py), so another source's loader can take its turn while this tap writes its next files.

State is emitted only once everything it covers is merged: a STATE message is held while files wait, and emitted
after the merge; the files are deleted then. A kill loses only files whose state was never emitted; the tap writes
them again.

A run is either RECORD messages (target-duckdb's own loop) or BATCH messages (this one): the first of the two that
arrives decides, and a message of the other kind later stops the load with an error.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlparse

import target_duckdb
from target_duckdb import db_sync

DATA_MESSAGES = ("RECORD", "BATCH")
# JSON lines, plain or gzipped (DuckDB tells which from the file's name).
JSON_LINES_FORMATS = ("jsonl",)
# As the CSV COPY's max_line_size: above the largest Singer message Meltano passes.
MAX_OBJECT_SIZE = 128 * 1024 * 1024
METADATA_TIMES = ("_sdc_extracted_at", "_sdc_batched_at")


class BatchLoadError(Exception):
    """A BATCH message this loader cannot load as target-duckdb would load the same records."""


def first_data_message(lines: Iterable[str]) -> tuple[str | None, Iterator[str]]:
    """The type of the first RECORD or BATCH message (None if there is none), and all the lines, unconsumed."""
    iterator = iter(lines)
    held: list[str] = []
    for line in iterator:
        held.append(line)
        message_type = json.loads(line).get("type")
        if message_type in DATA_MESSAGES:
            return message_type, itertools.chain(held, iterator)
    return None, iter(held)


def persist_lines(connection: Any, config: dict[str, Any], lines: Iterable[str]) -> None:
    """target-duckdb's persist_lines for RECORD messages; BatchLoader for BATCH messages."""
    message_type, lines = first_data_message(lines)
    if message_type == "BATCH":
        BatchLoader(connection, config).persist(lines)
    else:
        _library_persist_lines(connection, config, lines)


_library_persist_lines = target_duckdb.persist_lines


def file_path(url: str) -> str:
    parsed = urlparse(url)
    if parsed.scheme not in ("", "file") or parsed.netloc not in ("", "localhost"):
        raise BatchLoadError(f"batch file is not a local file: {url}")
    return unquote(parsed.path)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def count_lines(path: str) -> int:
    """Lines in a JSON-lines batch file (one record each), gzipped or not."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as file:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: file.read(1 << 20), b""))


class BatchLoader:
    """Merges the batch files of each stream every `batch_size_rows` lines, taking a turn on the warehouse each time."""

    def __init__(self, connection: Any, config: dict[str, Any]) -> None:
        self.connection = connection
        self.config = config
        self.batch_size_rows = int(config.get("batch_size_rows", target_duckdb.DEFAULT_BATCH_SIZE_ROWS))
        self.with_metadata = bool(config.get("add_metadata_columns") or config.get("hard_delete"))
        self.streams: dict[str, db_sync.DbSync] = {}
        self.waiting: dict[str, list[str]] = {}  # stream -> batch files not merged yet
        self.waiting_lines = 0
        self.state: Any = None  # the latest state, not emitted yet

    def persist(self, lines: Iterable[str]) -> None:
        for line in lines:
            message = json.loads(line)
            message_type = message.get("type")
            if message_type == "BATCH":
                self.wait(message)
                if self.waiting_lines >= self.batch_size_rows:
                    self.merge_all()
            elif message_type == "STATE":
                self.state = message["value"]
                if not self.waiting:
                    self.emit_state()
            elif message_type == "SCHEMA":
                self.schema(message)
            elif message_type == "RECORD":
                raise BatchLoadError(
                    f"a RECORD message for stream {message.get('stream')} in a run of BATCH messages: "
                    "this loader takes one kind per run"
                )
            elif message_type != "ACTIVATE_VERSION":
                raise BatchLoadError(f"unknown message type {message_type}: {line[:200]}")
        self.merge_all()
        self.emit_state()

    def schema(self, message: dict[str, Any]) -> None:
        """As target-duckdb's SCHEMA handling: the table is created or altered to the stream's schema."""
        stream = message["stream"]
        if stream in self.waiting:
            self.merge_all()  # the waiting files have the previous schema's columns
        if "key_properties" not in message:
            raise BatchLoadError("key_properties field is required")
        if self.config.get("primary_key_required", True) and not message["key_properties"]:
            raise BatchLoadError(f"Primary key is set to mandatory but not defined in the [{stream}] stream")
        if self.with_metadata:
            message = target_duckdb.add_metadata_columns_to_schema(message)
        sync = db_sync.DbSync(self.connection, self.config, message)
        if sync.data_flattening_max_level:
            raise BatchLoadError("BATCH messages are loaded without flattening: data_flattening_max_level must be 0")
        sync.create_schema_if_not_exists()
        sync.sync_table()
        self.streams[stream] = sync
        self.release()

    def wait(self, message: dict[str, Any]) -> None:
        """Note the message's files; they are read at the next merge."""
        stream = message["stream"]
        if stream not in self.streams:
            raise BatchLoadError(f"a BATCH message for stream {stream} was encountered before its schema")
        encoding = message.get("encoding") or {}
        if encoding.get("format") not in JSON_LINES_FORMATS:
            raise BatchLoadError(f"batch files of stream {stream} are {encoding}; this loader reads JSON lines")
        for url in message["manifest"]:
            path = file_path(url)
            self.waiting_lines += count_lines(path)
            self.waiting.setdefault(stream, []).append(path)

    def stage(self, stream: str, files: list[str]) -> tuple[str, int]:
        """The stream's files in a new staging table (a TEMP table: it lives as long as this turn)."""
        sync = self.streams[stream]
        table = sync.table_name(stream, is_temporary=True)
        self.connection.execute(sync.create_table_query(table_name=table, is_temporary=True))
        rows = 0
        for path in files:
            extracted_at = datetime.fromtimestamp(os.stat(path).st_mtime, tz=UTC).replace(tzinfo=None)
            self.connection.execute(self.insert_query(sync, table, path, extracted_at))
            rows += self.connection.fetchone()[0]
        return table, rows

    def insert_query(self, sync: db_sync.DbSync, table: str, path: str, extracted_at: datetime) -> str:
        file_columns = [name for name in sync.flatten_schema if not (self.with_metadata and name in METADATA_TIMES)]
        declared = ", ".join(f"{_literal(name)}: 'VARCHAR'" for name in file_columns)
        values = {name: f"nullif({db_sync.safe_column_name(name)}, '')" for name in file_columns}
        if self.with_metadata:
            values["_sdc_extracted_at"] = f"timestamp {_literal(extracted_at.isoformat(sep=' '))}"
            values["_sdc_batched_at"] = "cast(now() at time zone 'UTC' as timestamp)"
        columns = ", ".join(db_sync.safe_column_name(name) for name in sync.flatten_schema)
        selected = ", ".join(values[name] for name in sync.flatten_schema)
        return (
            f"INSERT INTO {table} ({columns}) SELECT {selected} FROM read_json({_literal(path)}, "
            f"format = 'newline_delimited', records = true, columns = {{{declared}}}, "
            f"maximum_object_size = {MAX_OBJECT_SIZE})"
        )

    def merge_all(self) -> None:
        """One turn on the warehouse: every waiting file merged; then the files go and the state is emitted."""
        waiting, self.waiting, self.waiting_lines = self.waiting, {}, 0
        for stream, files in waiting.items():
            self.merge(stream, files)
        self.release()
        for files in waiting.values():
            for path in files:
                os.unlink(path)
        if self.state is not None:
            self.emit_state()

    def merge(self, stream: str, files: list[str]) -> None:
        """target-duckdb's merge of a batch: UPDATE the rows whose key is there, INSERT the others."""
        table, rows = self.stage(stream, files)
        sync = self.streams[stream]
        sync.logger.info("Loading %d rows into '%s'", rows, sync.table_name(stream, False))
        keys = db_sync.primary_column_names(sync.stream_schema_message)
        if keys:
            key_list = ", ".join(keys)
            self.connection.execute(f"SELECT ({key_list}) FROM {table} GROUP BY {key_list} HAVING count(*) > 1 LIMIT 1")
            repeated = self.connection.fetchone()
            if repeated is not None:
                raise BatchLoadError(
                    f"the batch files of stream {stream} hold key {repeated[0]} more than once: "
                    "the loader cannot tell which copy is the latest"
                )
            update = sync.update_from_temp_table(table)
            if update:
                self.connection.execute(update)
        self.connection.execute(sync.insert_from_temp_table(table))
        self.connection.execute(f"DROP TABLE {table}")
        if self.config.get("hard_delete"):
            sync.delete_rows(stream)

    def release(self) -> None:
        """Let go of the warehouse until the next turn (a plain DuckDB connection, in tests, stays open)."""
        release = getattr(self.connection, "release", None)
        if release is not None:
            release()

    def emit_state(self) -> None:
        if self.state is not None:
            target_duckdb.emit_state(self.state)
            self.state = None
