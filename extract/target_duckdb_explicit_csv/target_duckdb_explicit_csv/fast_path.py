"""target-duckdb's per-record functions, faster, with the same results for the records Tidewater loads.

target-duckdb's `flatten_record` is called twice per record: two thirds of the loader's time. This one gives the same
result for flat records (data_flattening_max_level 0, its default): a nested value, or a value whose schema type is
exactly object-or-array, becomes its JSON text; anything else is kept as is. The record's key string, for which the
library flattened the whole record, is built from the key columns alone. Each batch's staging table is a TEMP table
without a key (in memory; the library made a table in the warehouse file with a key index, dropped after the batch):
the merge into the real table is unchanged and keeps its keys unique.

Anything else (nested flattening, a record missing a key) goes to the library's own function.
"""

from __future__ import annotations

import json
from typing import Any

from target_duckdb import db_sync

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


def use_fast_path() -> None:
    """Put these functions in the library's place, for this process."""
    db_sync.flatten_record = flatten_record
    db_sync.DbSync.record_primary_key_string = record_primary_key_string
    db_sync.DbSync.create_table_query = create_table_query
