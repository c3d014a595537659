"""The project's conventions, as plain functions of what dbt's manifest says about a model, snapshot, seed or source.

Each check returns a problem a reviewer can act on, or None. dbt-score runs them on the parsed manifest
(`tidewater.review.dbt_score_rules`, `tidewater check-models`); they take plain values so tests need no dbt.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

LAYERS = ("staging", "intermediate", "marts", "metrics")

# What a model may be called in each layer (models/<layer>/...). Staging also checks the source folder.
NAME_PATTERNS: dict[str, re.Pattern[str]] = {
    "staging": re.compile(r"stg_(?P<source>[a-z0-9]+(?:_[a-z0-9]+)*)__[a-z0-9]+(?:_[a-z0-9]+)*"),
    "intermediate": re.compile(r"int_[a-z0-9]+(?:_[a-z0-9]+)*__[a-z0-9]+(?:_[a-z0-9]+)*"),
    "marts": re.compile(r"(?:fct|dim)_[a-z0-9]+(?:_[a-z0-9]+)*"),
    # MetricFlow's time spine keeps the name MetricFlow's docs and tools expect.
    "metrics": re.compile(r"metrics_[a-z0-9]+(?:_[a-z0-9]+)*|metricflow_time_spine"),
}
EXPECTED_NAMES = {
    "staging": "stg_<source>__<entities> in models/staging/<source>/",
    "intermediate": "int_<entities>__<verb>",
    "marts": "fct_<events> or dim_<entities>",
    "metrics": "metrics_<grain> (or metricflow_time_spine)",
}


def layer_of(original_file_path: str) -> str | None:
    """`models/marts/sales/fct_orders.sql` -> `marts`; None outside the four layer folders."""
    parts = PurePosixPath(original_file_path).parts
    if len(parts) >= 3 and parts[0] == "models" and parts[1] in LAYERS:
        return parts[1]
    return None


def naming_problem(name: str, original_file_path: str) -> str | None:
    """The model's name must say its layer, and a staging model's name its source folder."""
    layer = layer_of(original_file_path)
    if layer is None:
        return f"{original_file_path} is outside models/{{{','.join(LAYERS)}}}/: put the model in its layer's folder"
    match = NAME_PATTERNS[layer].fullmatch(name)
    if match is None:
        return f"{name} is in models/{layer}/ but is not named {EXPECTED_NAMES[layer]}"
    if layer == "staging":
        folder = PurePosixPath(original_file_path).parts[2] if len(PurePosixPath(original_file_path).parts) > 3 else ""
        if match.group("source") != folder:
            return f"{name} names source `{match.group('source')}` but lives in models/staging/{folder or '.'}/"
    return None


def source_problem(original_file_path: str, depends_on_nodes: Iterable[str]) -> str | None:
    """Only staging reads source(): every other layer builds on staging (or later) models."""
    sources = sorted(node.split(".", 2)[-1] for node in depends_on_nodes if node.startswith("source."))
    if sources and layer_of(original_file_path) != "staging":
        return f"reads source() outside staging: {', '.join(sources)}; read the stg_ model instead"
    return None


def tests_problem(model_test_count: int, column_test_counts: Iterable[int]) -> str | None:
    """A model needs at least one data test (on the model or on a column): usually its key's unique + not_null."""
    if model_test_count + sum(column_test_counts) == 0:
        return "has no data tests: test its primary key (unique, not_null) at least"
    return None


# dbt's snapshot meta columns, by their default names (`snapshot_meta_column_names` renames them); dbt_is_deleted only
# with `hard_deletes: new_record`.
SNAPSHOT_META_COLUMNS = ("dbt_scd_id", "dbt_updated_at", "dbt_valid_from", "dbt_valid_to")
SNAPSHOT_DELETE_COLUMN = "dbt_is_deleted"
# A snapshot whose query is `select * from {{ ref(...) }}` (or source) has its parent's columns.
SELECT_STAR = re.compile(r"\bselect\s+\*\s+from\s+\{\{\s*(?:ref|source)\s*\(", re.IGNORECASE)


def snapshot_columns(config: Mapping[str, Any], raw_code: str, parent_columns: Sequence[str] | None) -> list[str]:
    """The columns of a snapshot's table, as far as the manifest tells: its parent's (when the query is one
    `select * from` a model or source, and parent_columns are that parent's documented columns), then dbt's meta
    columns. A query listing its own columns adds nothing here: its YAML is all there is to check."""
    names = {name: name for name in (*SNAPSHOT_META_COLUMNS, SNAPSHOT_DELETE_COLUMN)}
    names.update({k: v for k, v in (config.get("snapshot_meta_column_names") or {}).items() if v})
    columns = list(parent_columns) if parent_columns is not None and SELECT_STAR.search(raw_code) else []
    columns += [names[name] for name in SNAPSHOT_META_COLUMNS]
    if config.get("hard_deletes") == "new_record":
        columns.append(names[SNAPSHOT_DELETE_COLUMN])
    return columns


def seed_columns(csv_path: Path) -> list[str] | None:
    """The header of a seed's CSV file; None when the file can not be read."""
    try:
        with csv_path.open(newline="", encoding="utf-8") as handle:
            return next(csv.reader(handle), [])
    except OSError:
        return None


def columns_problem(documented: Mapping[str, str], expected: Iterable[str] = ()) -> str | None:
    """Every column is described: the ones the YAML lists (name -> description) and the ones the table is known
    to have (expected), which must be listed too."""
    listed = {name.lower() for name in documented}
    missing = [name for name in expected if name.lower() not in listed]
    undescribed = [name for name, description in documented.items() if not (description or "").strip()]
    problems = []
    if missing:
        problems.append(f"columns missing from the YAML: {', '.join(missing)}")
    if undescribed:
        problems.append(f"columns without a description: {', '.join(undescribed)}")
    return "; ".join(problems) + " - describe each in the YAML" if problems else None


def source_use_problem(reader_count: int) -> str | None:
    """A source table is read by a model, a snapshot, an exposure or a test; otherwise it is dead weight."""
    if reader_count == 0:
        return "is read by no model, snapshot or test: use it, or remove it from the sources YAML"
    return None


def source_tests_problem(test_count: int) -> str | None:
    """A source table needs at least one data test (on the table, a column, or a singular test reading it first)."""
    if test_count == 0:
        return (
            "has no data tests: add one in its sources YAML (on the table or a column), or a singular test that "
            "reads it first"
        )
    return None
