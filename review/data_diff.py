"""Data diff: what a change does to each model's data, main's build against the PR's, as Markdown for the PR.

For each model: row counts, keys added and removed (the key is the column with both a `unique` and a `not_null`
test), for each column how many rows changed (with a few examples), and schema changes (columns added, removed,
retyped). Both relations are read through one DuckDB connection: the CI build's file, with main's warehouse
attached read-only under the catalog name main's manifest uses.

Why not Recce or data-diff: see CONTRIBUTING.md ("Why our own data diff").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb

EXAMPLES = 3
SAMPLE_KEYS = 5


@dataclass
class ColumnChange:
    column: str
    changed_rows: int
    examples: list[tuple[str, str, str]] = field(default_factory=list)  # (key, value in main, value in the PR)


@dataclass
class ModelDiff:
    model: str
    role: str  # "modified" or "downstream"
    status: str  # "changed", "unchanged", "new", "removed", "not built"
    main_relation: str | None = None
    pr_relation: str | None = None
    primary_key: str | None = None
    main_rows: int | None = None
    pr_rows: int | None = None
    keys_added: int = 0
    keys_removed: int = 0
    sample_keys_added: list[str] = field(default_factory=list)
    sample_keys_removed: list[str] = field(default_factory=list)
    rows_changed: int = 0  # rows whose key is in both and at least one value differs
    rows_only_in_main: int = 0  # without a key: rows of main missing from the PR, duplicates counted
    rows_only_in_pr: int = 0
    columns_added: list[tuple[str, str]] = field(default_factory=list)
    columns_removed: list[tuple[str, str]] = field(default_factory=list)
    columns_retyped: list[tuple[str, str, str]] = field(default_factory=list)
    column_changes: list[ColumnChange] = field(default_factory=list)
    note: str | None = None

    @property
    def has_schema_change(self) -> bool:
        return bool(self.columns_added or self.columns_removed or self.columns_retyped)


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def relation_name(node: dict[str, Any]) -> str:
    """ "catalog"."schema"."table" of a manifest node."""
    return ".".join(quote(part) for part in (node["database"], node["schema"], node.get("alias") or node["name"]))


def primary_key(manifest: dict[str, Any], unique_id: str) -> str | None:
    """The model's column that has both a `unique` and a `not_null` generic test, if exactly one has."""
    tests_by_column: dict[str, set[str]] = {}
    for node in manifest.get("nodes", {}).values():
        metadata = node.get("test_metadata") or {}
        column = node.get("column_name") or (metadata.get("kwargs") or {}).get("column_name")
        if node.get("resource_type") != "test" or node.get("attached_node") != unique_id or not column:
            continue
        tests_by_column.setdefault(column, set()).add(metadata.get("name", ""))
    keys = sorted(column for column, names in tests_by_column.items() if {"unique", "not_null"} <= names)
    return keys[0] if len(keys) == 1 else None


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"describe select * from {relation}").fetchall()]


def _exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    try:
        con.execute(f"select 1 from {relation} limit 0")
    except duckdb.Error:
        return False
    return True


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()) -> int:
    row = con.execute(sql, list(params)).fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _text(value: object) -> str:
    return "null" if value is None else str(value)


def diff_relations(
    con: duckdb.DuckDBPyConnection,
    model: str,
    main_relation: str,
    pr_relation: str,
    key: str | None,
    role: str = "modified",
) -> ModelDiff:
    """Compare one model's relation in main with its relation in the PR build."""
    result = ModelDiff(model=model, role=role, status="unchanged", main_relation=main_relation, pr_relation=pr_relation)
    main_columns, pr_columns = dict(_columns(con, main_relation)), dict(_columns(con, pr_relation))
    result.columns_added = [(name, kind) for name, kind in pr_columns.items() if name not in main_columns]
    result.columns_removed = [(name, kind) for name, kind in main_columns.items() if name not in pr_columns]
    result.columns_retyped = [
        (name, kind, pr_columns[name])
        for name, kind in main_columns.items()
        if name in pr_columns and pr_columns[name] != kind
    ]
    result.main_rows = _count(con, f"select count(*) from {main_relation}")
    result.pr_rows = _count(con, f"select count(*) from {pr_relation}")
    common = [name for name in main_columns if name in pr_columns]
    retyped = {name for name, _, _ in result.columns_retyped}

    def side(alias: str, column: str) -> str:
        expression = f"{alias}.{quote(column)}"
        return f"cast({expression} as varchar)" if column in retyped else expression

    if key and key in main_columns and key in pr_columns:
        result.primary_key = key
        k = quote(key)

        def keys_only_in(alias: str, this: str, other: str) -> str:
            return (
                f"select {side(alias, key)} from {this} as {alias} anti join {other} as o"
                f" on {side(alias, key)} = {side('o', key)}"
            )

        removed = keys_only_in("m", main_relation, pr_relation)
        added = keys_only_in("p", pr_relation, main_relation)
        result.keys_removed = _count(con, f"select count(*) from ({removed})")
        result.keys_added = _count(con, f"select count(*) from ({added})")
        result.sample_keys_removed = [
            _text(r[0]) for r in con.execute(f"{removed} order by 1 limit {SAMPLE_KEYS}").fetchall()
        ]
        result.sample_keys_added = [
            _text(r[0]) for r in con.execute(f"{added} order by 1 limit {SAMPLE_KEYS}").fetchall()
        ]
        compared = [name for name in common if name != key]
        joined = f"from {main_relation} as m inner join {pr_relation} as p on {side('m', key)} = {side('p', key)}"
        if compared:
            distinct = [f"{side('m', name)} is distinct from {side('p', name)}" for name in compared]
            counts = con.execute(
                "select "
                + ", ".join(f"count(*) filter (where {d})" for d in distinct)
                + f", count(*) filter (where {' or '.join(distinct)}) {joined}"
            ).fetchone()
            assert counts is not None
            result.rows_changed = int(counts[-1])
            for name, condition, changed in zip(compared, distinct, counts[:-1], strict=True):
                if changed:
                    examples = con.execute(
                        f"select m.{k}, {side('m', name)}, {side('p', name)} {joined} where {condition} "
                        f"order by m.{k} limit {EXAMPLES}"
                    ).fetchall()
                    result.column_changes.append(
                        ColumnChange(name, int(changed), [(_text(a), _text(b), _text(c)) for a, b, c in examples])
                    )
    else:
        result.note = "no primary key (a column with unique and not_null tests): compared whole rows"
        columns = ", ".join(side("t", name) for name in common) or "1"
        rows = "select {columns} from {relation} as t"
        main_rows = rows.format(columns=columns, relation=main_relation)
        pr_rows = rows.format(columns=columns, relation=pr_relation)
        result.rows_only_in_main = _count(con, f"select count(*) from ({main_rows} except all {pr_rows})")
        result.rows_only_in_pr = _count(con, f"select count(*) from ({pr_rows} except all {main_rows})")
    changed = (
        result.has_schema_change
        or result.main_rows != result.pr_rows
        or result.keys_added
        or result.keys_removed
        or result.rows_changed
        or result.rows_only_in_main
        or result.rows_only_in_pr
    )
    result.status = "changed" if changed else "unchanged"
    return result


def diff_models(
    con: duckdb.DuckDBPyConnection,
    main_manifest: dict[str, Any],
    pr_manifest: dict[str, Any],
    models: Iterable[tuple[str, str]],
) -> list[ModelDiff]:
    """Diff each (unique_id, role) model; main's relation comes from main's manifest, the PR's from the PR's."""
    diffs = []
    for unique_id, role in models:
        name = unique_id.split(".")[-1]
        main_node = main_manifest.get("nodes", {}).get(unique_id)
        pr_node = pr_manifest.get("nodes", {}).get(unique_id)
        if pr_node is None:
            main_relation = relation_name(main_node) if main_node else None
            rows = (
                _count(con, f"select count(*) from {main_relation}")
                if main_relation and _exists(con, main_relation)
                else None
            )
            diffs.append(
                ModelDiff(model=name, role=role, status="removed", main_relation=main_relation, main_rows=rows)
            )
            continue
        pr_relation = relation_name(pr_node)
        if not _exists(con, pr_relation):
            diffs.append(ModelDiff(model=name, role=role, status="not built", pr_relation=pr_relation))
            continue
        if main_node is None or not _exists(con, relation_name(main_node)):
            diffs.append(
                ModelDiff(
                    model=name,
                    role=role,
                    status="new",
                    pr_relation=pr_relation,
                    pr_rows=_count(con, f"select count(*) from {pr_relation}"),
                    columns_added=_columns(con, pr_relation),
                )
            )
            continue
        diffs.append(
            diff_relations(con, name, relation_name(main_node), pr_relation, primary_key(pr_manifest, unique_id), role)
        )
    return diffs


def connect(pr_warehouse: Path, main_warehouse: Path, main_catalog: str) -> duckdb.DuckDBPyConnection:
    """The PR's build, with main's warehouse attached read-only under the name main's manifest uses."""
    con = duckdb.connect(str(pr_warehouse), read_only=True)
    con.execute(f"attach {literal(str(main_warehouse))} as {quote(main_catalog)} (read_only)")
    return con


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _keys(count: int, sample: list[str]) -> str:
    if not count:
        return "none"
    more = ", ..." if count > len(sample) else ""
    return f"{count:,} (" + ", ".join(f"`{_cell(key)}`" for key in sample) + more + ")"


def to_markdown(diffs: Sequence[ModelDiff], *, base: str, head: str = "this PR") -> str:
    """A summary a reviewer can paste into the PR: one table, then a section per changed model."""
    lines = [f"## Data diff: {head} against `{base}`", ""]
    if not diffs:
        return "\n".join([*lines, "No model changed.", ""])
    lines += [
        "| model | role | rows (main → PR) | keys added | keys removed | rows changed | schema changes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for diff in diffs:
        if diff.status in ("new", "removed", "not built"):
            rows = f"new: {_number(diff.pr_rows)} rows" if diff.status == "new" else diff.status
            lines.append(f"| `{diff.model}` | {diff.role} | {rows} | | | | |")
            continue
        changed = (
            f"{diff.rows_changed:,}"
            if diff.primary_key
            else f"{diff.rows_only_in_main:,} only in main, {diff.rows_only_in_pr:,} only in PR"
        )
        schema = len(diff.columns_added) + len(diff.columns_removed) + len(diff.columns_retyped)
        lines.append(
            f"| `{diff.model}` | {diff.role} | {_number(diff.main_rows)} → {_number(diff.pr_rows)} | "
            f"{diff.keys_added:,} | {diff.keys_removed:,} | {changed} | {schema or 'none'} |"
        )
    for diff in diffs:
        if diff.status == "unchanged":
            continue
        label = diff.status if diff.role == diff.status else f"{diff.role}, {diff.status}"
        lines += ["", f"### `{diff.model}` ({label})", ""]
        if diff.status == "not built":
            lines.append("Not built by the CI run (failed, or skipped after a failure upstream): see the build log.")
            continue
        if diff.status == "removed":
            lines.append(f"Removed by this PR: {diff.main_relation} has {_number(diff.main_rows)} rows in main.")
            continue
        if diff.status == "new":
            lines.append(f"New in this PR: {_number(diff.pr_rows)} rows, columns:")
            lines += [f"- `{name}` {kind}" for name, kind in diff.columns_added]
            continue
        delta = (diff.pr_rows or 0) - (diff.main_rows or 0)
        lines.append(f"- Rows: {_number(diff.main_rows)} in main, {_number(diff.pr_rows)} in this PR ({delta:+,}).")
        if diff.primary_key:
            lines.append(
                f"- Key `{diff.primary_key}`: added {_keys(diff.keys_added, diff.sample_keys_added)};"
                f" removed {_keys(diff.keys_removed, diff.sample_keys_removed)}."
            )
            lines.append(f"- Rows with a changed value (same key): {diff.rows_changed:,}.")
        else:
            lines.append(
                f"- {diff.note}: {diff.rows_only_in_main:,} rows only in main, "
                f"{diff.rows_only_in_pr:,} only in this PR."
            )
        for name, kind in diff.columns_added:
            lines.append(f"- Column added: `{name}` {kind}.")
        for name, kind in diff.columns_removed:
            lines.append(f"- Column removed: `{name}` {kind}.")
        for name, old, new in diff.columns_retyped:
            lines.append(f"- Column retyped: `{name}` {old} → {new}.")
        if diff.column_changes:
            lines += ["", "| column | rows changed | examples (key: main → PR) |", "| --- | --- | --- |"]
            for change in diff.column_changes:
                examples = "; ".join(f"`{_cell(k)}`: {_cell(a)} → {_cell(b)}" for k, a, b in change.examples)
                lines.append(f"| `{change.column}` | {change.changed_rows:,} | {examples} |")
    return "\n".join([*lines, ""])


def to_json(diffs: Sequence[ModelDiff]) -> str:
    return json.dumps([asdict(diff) for diff in diffs], indent=2)
