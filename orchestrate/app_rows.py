"""The app database as it is now, for the reconciliation snapshot: its tables, columns and primary keys against what
the extractor selects and dbt declares, and per row its key, updated_at and a fingerprint of its content
(audit.source_rows, source_keys, source_tables, source_columns)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tidewater.orchestrate.settings import PROJECT_ROOT
from tidewater.orchestrate.sources import selected_tables, source

APP_SCHEMA = "public"

# How a value of each PostgreSQL type is written as text in a row's fingerprint. macros/source_row_fingerprint.sql
# writes raw's values the same way in DuckDB (raw holds numerics as double, timestamps as UTC without time zone).
# Types left out (floats, unconstrained numerics, json, arrays...) have no text form both sides agree on, so those
# columns are not compared; audit.source_columns says which are.
TEXT_FORMS = {
    "smallint": "integer",
    "integer": "integer",
    "bigint": "integer",
    "numeric": "decimal",
    "text": "text",
    "character varying": "text",
    "boolean": "boolean",
    "timestamp with time zone": "timestamp",
    "timestamp without time zone": "timestamp",
    "date": "date",
}
# Between values and for null in the fingerprint's text (the same in the macro): characters no app value holds.
FINGERPRINT_SEPARATOR = "chr(31)"
FINGERPRINT_NULL = "chr(30)"


@dataclass(frozen=True)
class SourceColumn:
    """A column of a selected app table as the source has it now."""

    table: str
    name: str
    data_type: str
    numeric_scale: int | None
    is_primary_key: bool
    is_declared: bool  # in dbt's source YAML for the app: staging may read it
    is_pseudonymised: bool = False  # raw holds its keyed hash under another name (meltano/extractors.meltano.yml)

    @property
    def text_form(self) -> str | None:
        form = TEXT_FORMS.get(self.data_type)
        if form == "decimal" and self.numeric_scale is None:
            return None  # an unconstrained numeric: loaded as double, its digits need not survive
        return form

    @property
    def is_compared(self) -> bool:
        """In the row's fingerprint: what staging reads (a column added to the source is only noticed, a column
        gone is named by the structure test), in a text form PostgreSQL and DuckDB agree on. Not a pseudonymised
        column: raw holds an HMAC under a key PostgreSQL does not have."""
        return self.is_declared and not self.is_pseudonymised and self.text_form is not None

    def as_text(self) -> str:
        """The value as text in PostgreSQL, the same characters as the macro writes from raw in DuckDB."""
        column = '"' + self.name.replace('"', '""') + '"'
        form = self.text_form
        if form == "decimal":
            text = f"round({column}, {self.numeric_scale})::text"
        elif form == "timestamp":
            utc = f"{column} at time zone 'UTC'" if self.data_type == "timestamp with time zone" else column
            text = f"to_char({utc}, 'YYYY-MM-DD HH24:MI:SS.US')"
        elif form == "date":
            text = f"to_char({column}, 'YYYY-MM-DD')"
        else:
            text = f"{column}::text"
        return f"coalesce({text}, {FINGERPRINT_NULL})"


@dataclass(frozen=True)
class AppStructure:
    """The app's tables and columns as the source has them now, against what the extractor selects and what dbt's
    source YAML declares."""

    tables: list[tuple[str, bool, bool, str | None]]  # table, is selected, is in the source, primary key column(s)
    columns: list[SourceColumn]  # of the selected tables in the source
    keys: dict[str, str]  # table -> its one integer primary key: the tables whose rows are snapshotted


def declared_columns(load_schema: str, models_dir: Path = PROJECT_ROOT / "models") -> dict[str, dict[str, str]]:
    """Table -> {the app's column: raw's} for the columns dbt's source YAML declares for the raw schema `load_schema`:
    what staging may read. A pseudonym column (`meta: {pseudonym_of: email}`, written by the extractor's stream maps
    in the place of the app's column or columns) stands for the app's columns it replaces."""
    declared: dict[str, dict[str, str]] = {}
    for path in sorted(models_dir.rglob("*.yml")):
        text = path.read_text()
        if "sources:" not in text:
            continue  # most YAML files describe models: parsing them all took most of the snapshot's added time
        document = yaml.safe_load(text) or {}
        for declared_source in document.get("sources") or []:
            if declared_source.get("schema", declared_source.get("name")) != load_schema:
                continue
            for table in declared_source.get("tables") or []:
                columns = declared.setdefault(table.get("identifier") or table["name"], {})
                for column in table.get("columns") or []:
                    meta = (column.get("config") or {}).get("meta") or column.get("meta") or {}
                    replaced = meta.get("pseudonym_of", column["name"])
                    for app_column in [replaced] if isinstance(replaced, str) else replaced:
                        columns[app_column] = column["name"]
    return declared


def app_structure(cur: Any) -> AppStructure:
    """The app tables the extractor selects (meltano/extractors.meltano.yml) and those in the source, their columns
    and primary keys. A selected table gone from the source is not an error here: tap-postgres skips it without a
    word, so the snapshot records it and assert_app_source_structure_unchanged names it on the build."""
    app = source("app")
    selected = selected_tables(app, APP_SCHEMA)
    cur.execute(
        "select table_name from information_schema.tables where table_schema = %s and table_type = 'BASE TABLE'",
        (APP_SCHEMA,),
    )
    in_source = {table for (table,) in cur.fetchall()}
    cur.execute(
        "select tc.table_name, kcu.column_name from information_schema.table_constraints tc "
        "join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name "
        "and kcu.table_schema = tc.table_schema and kcu.table_name = tc.table_name "
        "where tc.constraint_type = 'PRIMARY KEY' and tc.table_schema = %s order by 1, kcu.ordinal_position",
        (APP_SCHEMA,),
    )
    primary_keys: dict[str, list[str]] = {}
    for table, column in cur.fetchall():
        primary_keys.setdefault(table, []).append(column)
    cur.execute(
        "select table_name, column_name, data_type, numeric_scale from information_schema.columns "
        "where table_schema = %s and table_name = any(%s) order by table_name, ordinal_position",
        (APP_SCHEMA, selected),
    )
    declared = declared_columns(app.load_schema)
    columns = [
        SourceColumn(
            table=table,
            name=column,
            data_type=data_type,
            numeric_scale=scale,
            is_primary_key=column in primary_keys.get(table, []),
            is_declared=column in declared.get(table, {}),
            is_pseudonymised=declared.get(table, {}).get(column, column) != column,
        )
        for table, column, data_type, scale in cur.fetchall()
    ]
    types = {(column.table, column.name): column.text_form for column in columns}
    keys = {
        table: primary_keys[table][0]
        for table in selected
        if len(primary_keys.get(table, [])) == 1 and types.get((table, primary_keys[table][0])) == "integer"
    }
    tables = [
        # The key's columns sorted, as the structure test compares them with raw's.
        (table, table in selected, table in in_source, ", ".join(sorted(primary_keys.get(table, []))) or None)
        for table in sorted(set(selected) | in_source)
    ]
    return AppStructure(tables=tables, columns=columns, keys=keys)


def copy_app_rows(cur: Any, app: AppStructure, out: Any) -> None:
    """Write (table, key, updated_at in UTC, fingerprint) for every row of every snapshotted app table to `out` as
    CSV: one query per table, hashed in PostgreSQL. The fingerprint is the md5 of the compared columns' text, so
    the build can tell a row whose content changed without the extractor seeing it (updated_at moved backwards, or
    not at all) from the version raw holds."""
    if not app.keys:
        return
    selects = []
    for table, key in app.keys.items():
        compared = [column for column in app.columns if column.table == table and column.is_compared]
        names = {column.name for column in app.columns if column.table == table}
        updated_at = "updated_at at time zone 'UTC'" if "updated_at" in names else "null::timestamp"
        fingerprint = f"md5(concat_ws({FINGERPRINT_SEPARATOR}, {', '.join(c.as_text() for c in compared)}))"
        selects.append(
            f"select '{table}', \"{key}\", {updated_at}, {fingerprint if compared else 'null'} "
            f'from {APP_SCHEMA}."{table}"'
        )
    with cur.copy(f"copy ({' union all '.join(selects)}) to stdout with (format csv)") as copy:
        for chunk in copy:
            out.write(chunk)


def write_app_audit(con: Any, schema: str, app: AppStructure, rows_file: Path) -> None:
    """<schema>.source_rows, source_keys (its keys), source_tables and source_columns."""
    con.execute(
        f"create or replace table {schema}.source_rows as select * from read_csv(?, header = false, columns = "
        "{'entity': 'varchar', 'key_id': 'bigint', 'updated_at': 'timestamp', 'row_fingerprint': 'varchar'})",
        [str(rows_file)],
    )
    con.execute(f"create or replace table {schema}.source_keys as select entity, key_id from {schema}.source_rows")
    con.execute(
        f"create or replace table {schema}.source_tables "
        "(table_name varchar, is_selected boolean, is_in_source boolean, primary_key varchar, is_snapshotted boolean)"
    )
    con.executemany(
        f"insert into {schema}.source_tables values (?, ?, ?, ?, ?)",
        [(*table, table[0] in app.keys) for table in app.tables],
    )
    con.execute(
        f"create or replace table {schema}.source_columns (table_name varchar, column_position integer, "
        "column_name varchar, data_type varchar, text_form varchar, numeric_scale integer, is_primary_key boolean, "
        "is_declared boolean, is_compared boolean)"
    )
    if app.columns:
        # column_position keeps the fingerprint's order: the build hashes raw's columns in the same order.
        con.executemany(
            f"insert into {schema}.source_columns values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (c.table, position, c.name, c.data_type, c.text_form, c.numeric_scale, c.is_primary_key,
                 c.is_declared, c.is_compared)
                for position, c in enumerate(app.columns, start=1)
            ],
        )  # fmt: skip
