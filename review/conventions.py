"""The project's model conventions, as plain functions of what dbt's manifest says about a model.

Each check returns a problem a reviewer can act on, or None. dbt-score runs them on the parsed manifest
(`tidewater.review.dbt_score_rules`, `tidewater check-models`); they take plain values so tests need no dbt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePosixPath

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
