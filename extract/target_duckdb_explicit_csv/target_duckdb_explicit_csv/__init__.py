"""Run target-duckdb 0.8.0 with the dialect of its batch CSV files stated instead of sniffed.

target-duckdb writes each batch to a CSV file with Python's csv module (delimiter ",", quote '"', quotes doubled) and
loads it with `COPY ... WITH (new_line '\\r\\n')`, leaving DuckDB to guess the rest. The guess goes wrong:
- with a value holding a quote (a malformed JSON line kept as text, say), DuckDB 1.2 guesses the escape character
  `\\` and the whole load fails ("Value with unterminated quote found");
- with duckdb >= 1.3 it guesses a header line and drops the first row of every batch, silently;
- a line over DuckDB's default max_line_size (2 MB: one huge field, such as a 3 MB user agent) fails the load.
This wrapper passes the real dialect and a line limit above the largest Singer message Meltano passes (elt.buffer_size,
100 MiB) to that one COPY statement.

It also replaces target-duckdb's `flatten_record` (called twice per record, two thirds of the loader's time) with one
that gives the same result for the flat records Tidewater loads (data_flattening_max_level 0, its default): a nested
value, or a value whose schema type is exactly object-or-array, becomes its JSON text; anything else is kept as is.
The record's key string, for which the library flattened the whole record, is built from the key columns alone.
Each batch's staging table is a TEMP table without a key (in memory; the library made a table in the warehouse file
with a key index, dropped after the batch): the merge into the real table is unchanged and keeps its keys unique.

A tap that writes Singer BATCH messages (tap-landing-zone) has its batch files loaded by DuckDB: see batches.py.
The warehouse is opened only while the loader writes to it, so the loads of several sources can run side by side
(see shared_warehouse.py).
"""

from __future__ import annotations

import json
from typing import Any

import target_duckdb
from target_duckdb import db_sync

from target_duckdb_explicit_csv import batches
from target_duckdb_explicit_csv.shared_warehouse import SharedWarehouseConnection, wait_seconds_from_environment

SNIFFED_COPY_OPTIONS = "WITH (new_line '\\r\\n')"
MAX_LINE_SIZE = 128 * 1024 * 1024


def explicit_copy_options(delimiter: str = ",", quotechar: str = '"') -> str:
    """The options that describe the file target-duckdb actually writes."""
    return (
        f"WITH (new_line '\\r\\n', header false, delimiter '{delimiter}', quote '{quotechar}', escape '{quotechar}', "
        f"max_line_size {MAX_LINE_SIZE})"
    )


class ExplicitCsvConnection:
    """A DuckDB connection whose batch COPY statements carry the CSV dialect; everything else passes through."""

    def __init__(self, connection: Any, copy_options: str) -> None:
        self._connection = connection
        self._copy_options = copy_options

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("COPY ") and query.endswith(SNIFFED_COPY_OPTIONS):
            query = query[: -len(SNIFFED_COPY_OPTIONS)] + self._copy_options
        self._connection.execute(query, *args, **kwargs)
        return self

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


_library_flatten_record = db_sync.flatten_record
# The columns each flattened schema wants as JSON text, by the schema's identity (one schema object per stream).
_json_columns_of_schema: dict[int, tuple[dict[str, Any], frozenset[str]]] = {}


def _json_columns(flatten_schema: dict[str, Any] | None) -> frozenset[str]:
    if not flatten_schema:
        return frozenset()
    cached = _json_columns_of_schema.get(id(flatten_schema))
    if cached is None or cached[0] is not flatten_schema:
        columns = frozenset(
            key
            for key, prop in flatten_schema.items()
            if "type" in prop and set(prop["type"]) == {"null", "object", "array"}
        )
        cached = _json_columns_of_schema[id(flatten_schema)] = (flatten_schema, columns)
    return cached[1]


def flatten_record(
    d: dict[str, Any],
    flatten_schema: dict[str, Any] | None = None,
    parent_key: list[str] | None = None,
    sep: str = "__",
    level: int = 0,
    max_level: int = 0,
) -> dict[str, Any]:
    """target-duckdb's flatten_record, without its per-field function calls when nothing is to be flattened."""
    if max_level > 0 or parent_key:
        return _library_flatten_record(d, flatten_schema, parent_key or [], sep, level, max_level)
    json_columns = _json_columns(flatten_schema)
    return {  # _as_flattened inlined: this runs for every field of every record
        key: json.dumps(value) if isinstance(value, (dict, list)) or key in json_columns else value
        for key, value in d.items()
    }


def _as_flattened(column: str, value: Any, json_columns: frozenset[str]) -> Any:
    return json.dumps(value) if isinstance(value, (dict, list)) or column in json_columns else value


_library_record_primary_key_string = db_sync.DbSync.record_primary_key_string


def record_primary_key_string(self: db_sync.DbSync, record: dict[str, Any]) -> str | None:
    """DbSync.record_primary_key_string: the same string, from the key columns instead of the whole flattened record."""
    key_properties = self.stream_schema_message["key_properties"]
    if not key_properties:
        return None
    if self.data_flattening_max_level > 0 or any(key not in record for key in key_properties):
        return _library_record_primary_key_string(self, record)  # nested keys, or the library's own error
    json_columns = _json_columns(self.flatten_schema)
    return ",".join(str(_as_flattened(key, record[key], json_columns)) for key in key_properties)


_library_create_table_query = db_sync.DbSync.create_table_query


def create_table_query(self: db_sync.DbSync, table_name: str | None = None, is_temporary: bool = False) -> str:
    """DbSync.create_table_query; a batch's staging table is a keyless TEMP table (a batch holds each key once)."""
    if not (is_temporary and table_name):
        return _library_create_table_query(self, table_name, is_temporary)
    columns = ", ".join(db_sync.column_clause(name, schema) for name, schema in self.flatten_schema.items())
    return f"CREATE TEMP TABLE {table_name} ({columns})"


def main() -> None:
    db_sync.flatten_record = flatten_record
    db_sync.DbSync.record_primary_key_string = record_primary_key_string
    db_sync.DbSync.create_table_query = create_table_query
    original_connect = target_duckdb.duckdb_connect
    library_flush_streams = target_duckdb.flush_streams
    shared: list[SharedWarehouseConnection] = []

    def connect(config: dict[str, Any]) -> ExplicitCsvConnection:
        """The warehouse, opened when a statement needs it (the library opened it at once, until the end); the
        library's connect, called then, checks the configuration as before."""
        path = str(config.get("path", config.get("filepath")))
        connection = SharedWarehouseConnection(
            lambda: original_connect(config), wait_seconds=wait_seconds_from_environment(), label=path
        )
        shared.append(connection)
        options = explicit_copy_options(config.get("delimiter", ","), config.get("quotechar", '"'))
        return ExplicitCsvConnection(connection, options)

    def flush_streams(*args: Any, **kwargs: Any) -> Any:
        """The library's flush of RECORD messages, then the warehouse is let go until the next one."""
        flushed_state = library_flush_streams(*args, **kwargs)
        for connection in shared:
            connection.release()
        return flushed_state

    target_duckdb.duckdb_connect = connect
    target_duckdb.flush_streams = flush_streams
    target_duckdb.persist_lines = batches.persist_lines
    target_duckdb.main()
    for connection in shared:
        if connection.waited >= 1:
            target_duckdb.LOGGER.info(
                "Waited %.1f s in all for other loaders to let go of the warehouse (%d turns)",
                connection.waited,
                connection.turns,
            )
