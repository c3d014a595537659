"""Model governance and column classification (issue 18).

Columns are classified in their YAML with `meta: {classification: pii | quasi-identifier}`; a column without one is
public (models/overview.md). What is personal stays in staging: no model past it (intermediate, marts, metrics) may
carry a pii or quasi-identifier column, and every column named like personal data must be classified. The checks read
the manifest and the warehouse of the shared real run, so a column that is built but not declared is caught too.

Access: every model is in the `analytics` group; staging and intermediate are private (one staging model protected,
for an exposure), marts and metrics public. The proof that it holds is dbt's own: a model of another group that refs
a private model does not parse, one that refs a public model does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import BIN, rows

from tidewater.orchestrate.settings import PROJECT_ROOT

KEY = "classification"
PERSONAL = frozenset({"pii", "quasi-identifier"})
LEVELS = PERSONAL | {"public"}
# Names that say a column holds a person's identifier, a hash of one, or a quasi-identifier. Business names
# (product_name, supplier_name, channel_name, country_name) are not personal, so only people's name parts are listed.
PERSONAL_NAME = re.compile(
    r"email|first_name|last_name|full_name|surname|phone|address|street|city|postal|zip|birth|(^|_)ip(_|$)"
    r"|user_agent|national_id|passport"
)
# A flag about such a value (has_phone) says nothing about who the person is.
FLAG = re.compile(r"^(has|is)_")
# Schemas the models past staging write to (dbt_project.yml).
PAST_STAGING = ("intermediate", "marts", "metrics")
# The layer is the first folder under models/.
ACCESS_BY_LAYER = {
    "staging": {"private", "protected"},
    "intermediate": {"private"},
    "marts": {"public"},
    "metrics": {"public"},
}


def looks_personal(column: str) -> bool:
    return bool(PERSONAL_NAME.search(column)) and not FLAG.match(column)


def classification(column: dict[str, Any]) -> str:
    return str(column.get("config", {}).get("meta", {}).get(KEY) or column.get("meta", {}).get(KEY) or "public")


def layer(node: dict[str, Any]) -> str:
    return Path(node["original_file_path"]).parts[1]


@pytest.fixture(scope="module")
def manifest(built: Built) -> dict[str, Any]:
    return json.loads((built.settings.dbt_target_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    found = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "tidewater"
    ]
    assert len(found) > 20
    return found


@pytest.fixture(scope="module")
def built_columns(built: Built) -> dict[tuple[str, str], set[str]]:
    """The warehouse's columns by (schema, table), as built (not as declared)."""
    by_table: dict[tuple[str, str], set[str]] = {}
    sql = "select schema_name, table_name, column_name from duckdb_columns() where database_name = 'tidewater'"
    for schema, table, column in rows(built.settings, sql):
        by_table.setdefault((schema, table), set()).add(column)
    return by_table


@pytest.mark.e2e
def test_every_classification_is_a_known_level(manifest: dict[str, Any]) -> None:
    relations = [*manifest["nodes"].values(), *manifest["sources"].values()]
    used = {classification(column) for node in relations for column in node.get("columns", {}).values()}
    assert used <= LEVELS, used - LEVELS
    assert used >= PERSONAL  # the project classifies something: the key is the one read here


@pytest.mark.e2e
def test_columns_named_like_personal_data_are_classified(
    manifest: dict[str, Any], models: list[dict[str, Any]], built_columns: dict[tuple[str, str], set[str]]
) -> None:
    sources = [source for source in manifest["sources"].values() if source["package_name"] == "tidewater"]
    unclassified = [
        f"{node['name']}.{name}"
        for node in [*models, *sources]
        for name, column in node["columns"].items()
        if looks_personal(name) and classification(column) not in PERSONAL
    ]
    assert not unclassified
    # A column built but not declared in the YAML would escape that check: each built one must be declared.
    undeclared = [
        f"{node['name']}.{name}"
        for node in models
        for name in built_columns[(node["schema"], node["alias"])]
        if looks_personal(name) and name not in node["columns"]
    ]
    assert not undeclared
    customers = next(node for node in models if node["name"] == "stg_app__customers")
    # The check sees real columns: staging's personal ones are there.
    assert built_columns[(customers["schema"], customers["alias"])] >= {"email_hash", "city", "postal_code"}


@pytest.mark.e2e
def test_no_personal_column_past_staging(
    models: list[dict[str, Any]], built_columns: dict[tuple[str, str], set[str]]
) -> None:
    declared = [
        f"{node['name']}.{name} ({classification(column)})"
        for node in models
        if layer(node) != "staging"
        for name, column in node["columns"].items()
        if classification(column) in PERSONAL
    ]
    assert not declared
    built = sorted(
        f"{schema}.{table}.{name}"
        for (schema, table), names in built_columns.items()
        if schema in PAST_STAGING
        for name in names
        if looks_personal(name)
    )
    assert not built
    # What links a published row to a person is the app's key, never a hash of their email.
    assert "customer_id" in built_columns[("marts", "dim_customers")]


@pytest.mark.e2e
def test_marts_refuse_nulls_where_their_contract_says_not_null(built: Built, models: list[dict[str, Any]]) -> None:
    """A mart column declared `not_null` (a contract constraint, instead of a not_null test) is NOT NULL in the built
    table: DuckDB refuses the row that would break it, and the build stops at that model."""
    declared = {
        (node["schema"], node["alias"], name)
        for node in models
        if node["config"].get("contract", {}).get("enforced")
        for name, column in node["columns"].items()
        if any(constraint["type"] == "not_null" for constraint in column.get("constraints", []))
    }
    assert len(declared) > 50  # the marts' non-key columns that may never be null
    sql = "select schema_name, table_name, column_name from duckdb_columns() where not is_nullable"
    not_nullable = {tuple(row) for row in rows(built.settings, sql)}
    assert declared - not_nullable == set()


@pytest.mark.e2e
def test_models_have_a_group_and_access_by_layer(models: list[dict[str, Any]]) -> None:
    assert {node["group"] for node in models} == {"analytics"}
    wrong = {node["name"]: node["access"] for node in models if node["access"] not in ACCESS_BY_LAYER[layer(node)]}
    assert not wrong
    protected = sorted(node["name"] for node in models if node["access"] == "protected")
    assert protected == ["stg_events__events"]  # the exposure's; every other staging model is private


def _project_copy(root: Path) -> Path:
    """The dbt project's files in a scratch folder (the installed packages linked), to parse with changes."""
    project = root / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "packages.yml", "profiles.yml"):
        shutil.copy2(PROJECT_ROOT / name, project / name)
    for name in ("models", "macros", "seeds", "snapshots", "tests"):
        shutil.copytree(PROJECT_ROOT / name, project / name, ignore=shutil.ignore_patterns("python", "__pycache__"))
    (project / "dbt_packages").symlink_to((PROJECT_ROOT / "dbt_packages").resolve(), target_is_directory=True)
    return project


def _parse(project: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "TIDEWATER_WAREHOUSE": str(project / "unused.duckdb"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
    }
    command = [str(BIN / "dbt"), "parse", "--project-dir", str(project), "--profiles-dir", str(project)]
    command += ["--target-path", str(project / "target"), "--log-path", str(project / "logs")]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_only_public_models_can_be_referenced_from_another_group(tmp_path: Path) -> None:
    project = _project_copy(tmp_path)
    other = project / "models" / "other"
    other.mkdir()
    (other / "_other.yml").write_text(
        """version: 2
groups:
  - name: other_team
    owner: {name: Another team}
models:
  - name: other_customers
    description: A model of another group.
    config:
      group: other_team
""",
    )
    model = other / "other_customers.sql"
    model.write_text("select customer_id from {{ ref('dim_customers') }}\n")
    public = _parse(project)
    assert public.returncode == 0, public.stdout[-3000:]

    model.write_text("select customer_id from {{ ref('stg_app__customers') }}\n")
    private = _parse(project)
    assert private.returncode != 0
    assert (
        "model.tidewater.other_customers attempted to reference node model.tidewater.stg_app__customers, which is not "
        "allowed because the referenced node is private to the 'analytics' group" in " ".join(private.stdout.split())
    )
