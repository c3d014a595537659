"""PR review tooling: the pre-commit hooks catch what they should, slim CI finds a change and the data diff shows it.

Everything runs in a temporary git repository holding a copy of the project (branch `main`), never in the
project's own data/ or target/; the slim CI run reads the session pipeline's warehouse as main's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from conftest import Built
from helpers import BIN, tidewater_cli

from tidewater.orchestrate.settings import PROJECT_ROOT
from tidewater.review import conventions, data_diff


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


def _git(repo: Path, *args: str) -> None:
    result = _run(["git", "-c", "user.name=Review Test", "-c", "user.email=review@example.invalid", *args], repo)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def review_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository on branch `main` holding the project's files as they are in the working tree."""
    repo = tmp_path_factory.mktemp("review") / "project"
    listed = _run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], PROJECT_ROOT)
    for name in filter(None, listed.stdout.split("\0")):
        source = PROJECT_ROOT / name
        if source.is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, repo / name)
    if (PROJECT_ROOT / "dbt_packages").is_dir():
        (repo / "dbt_packages").symlink_to((PROJECT_ROOT / "dbt_packages").resolve(), target_is_directory=True)
    _git(repo, "init", "--quiet", "--initial-branch=main")
    (repo / ".git" / "info" / "exclude").write_text("dbt_packages\n")
    _git(repo, "add", "--all")
    _git(repo, "commit", "--quiet", "--message", "main")
    return repo


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
    }
    return _run([str(BIN / "pre-commit"), "run", "--color", "never", *args], repo, env)


@pytest.fixture
def scratch(review_repo: Path) -> Iterator[list[Path]]:
    """Files a test adds to the repository, removed afterwards."""
    added: list[Path] = []
    yield added
    for path in added:
        path.unlink(missing_ok=True)


def add_file(scratch: list[Path], path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    scratch.append(path)
    return path


def test_the_project_passes_every_hook(review_repo: Path) -> None:
    result = pre_commit(review_repo, "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr


def test_sqlfluff_rejects_uppercase_keywords_and_leading_commas(review_repo: Path, scratch: list[Path]) -> None:
    bad = add_file(
        scratch,
        review_repo / "models" / "marts" / "sales" / "fct_badly_styled.sql",
        "SELECT\n    order_id\n    , customer_id\nFROM {{ ref('fct_orders') }}\n",
    )
    name = str(bad.relative_to(review_repo))
    result = pre_commit(review_repo, "sqlfluff-lint", "--files", name)
    assert result.returncode != 0
    assert "CP01" in result.stdout  # keywords must be lowercase
    assert "LT04" in result.stdout  # commas trail
    pre_commit(review_repo, "--hook-stage", "manual", "sqlfluff-fix", "--files", name)
    assert bad.read_text() == "select\n    order_id,\n    customer_id\nfrom {{ ref('fct_orders') }}\n"


def test_ruff_rejects_an_unused_import_and_bad_formatting(review_repo: Path, scratch: list[Path]) -> None:
    bad = add_file(scratch, review_repo / "extract" / "tidewater" / "badly_written.py", "import os\nx = {'a':1}\n")
    name = str(bad.relative_to(review_repo))
    check = pre_commit(review_repo, "ruff-check", "--files", name)
    assert check.returncode != 0 and "F401" in check.stdout
    formatting = pre_commit(review_repo, "ruff-format", "--files", name)
    assert formatting.returncode != 0 and "would be reformatted" in formatting.stdout


def test_check_yaml_rejects_broken_yaml(review_repo: Path, scratch: list[Path]) -> None:
    bad = add_file(scratch, review_repo / "models" / "marts" / "_broken.yml", "models:\n  - name: [fct_orders\n")
    result = pre_commit(review_repo, "check-yaml", "--files", str(bad.relative_to(review_repo)))
    assert result.returncode != 0
    assert "_broken.yml" in result.stdout


def test_model_conventions_reject_missing_metadata_and_sources_outside_staging(
    review_repo: Path, scratch: list[Path]
) -> None:
    sales = review_repo / "models" / "marts" / "sales"
    add_file(scratch, sales / "fct_undocumented.sql", "select order_id from {{ ref('fct_orders') }}\n")
    add_file(scratch, sales / "fct_raw_orders.sql", "select * from {{ source('app', 'orders') }}\n")
    add_file(scratch, sales / "orders_summary.sql", "select count(*) as orders from {{ ref('fct_orders') }}\n")
    add_file(
        scratch,
        sales / "_review_test__models.yml",
        """version: 2
models:
  - name: fct_raw_orders
    description: One row per raw order version.
    config:
      meta: {owner: analytics}
    columns:
      - name: order_id
        description: The order.
        data_tests: [not_null]
  - name: orders_summary
    description: Orders in total.
    config:
      meta: {owner: analytics}
    columns:
      - name: orders
        description: Orders placed.
        data_tests: [not_null]
""",
    )
    result = pre_commit(review_repo, "dbt-check-models", "--all-files")
    assert result.returncode != 0
    report = result.stdout.split("Model: ")
    undocumented = next(item for item in report if item.startswith("fct_undocumented"))
    assert "Model lacks a description" in undocumented
    assert "Model lacks an owner" in undocumented
    assert "has no data tests" in undocumented
    raw_orders = next(item for item in report if item.startswith("fct_raw_orders"))
    assert "reads source() outside staging: app.orders" in raw_orders
    summary = next(item for item in report if item.startswith("orders_summary"))
    assert "is not named fct_<events> or dim_<entities>" in summary
    assert not any(item.startswith("fct_orders ") for item in report)  # the real models stay clean


def test_coverage_rejects_undescribed_snapshot_and_seed_columns_and_unused_untested_sources(
    review_repo: Path, scratch: list[Path]
) -> None:
    """Beyond models: a snapshot's columns (its parent's, as it selects `*`, and dbt's meta columns), a seed's CSV
    columns and every source table (read by something, tested) are checked on the parsed manifest too."""
    add_file(
        scratch,
        review_repo / "snapshots" / "snp_review_test__products.sql",
        "{% snapshot snp_review_test__products %}\n"
        "{{ config(schema='snapshots', unique_key='product_id', strategy='timestamp', updated_at='updated_at') }}\n"
        "select * from {{ ref('stg_app__products') }}\n"
        "{% endsnapshot %}\n",
    )
    add_file(
        scratch,
        review_repo / "snapshots" / "_review_test__snapshots.yml",
        """version: 2
snapshots:
  - name: snp_review_test__products
    description: History of every product.
    config:
      meta: {owner: analytics}
    columns:
      - name: product_id
        description: The product.
        data_tests: [not_null]
      - name: sku
""",
    )
    add_file(scratch, review_repo / "seeds" / "review_test_codes.csv", "code,label\na,Alpha\n")
    add_file(
        scratch,
        review_repo / "seeds" / "_review_test__seeds.yml",
        """version: 2
seeds:
  - name: review_test_codes
    description: Codes.
    config:
      meta: {owner: analytics}
    columns:
      - name: code
        description: The code.
        data_tests: [unique]
""",
    )
    add_file(
        scratch,
        review_repo / "models" / "staging" / "app" / "_review_test__sources.yml",
        """version: 2
sources:
  - name: review_test
    schema: raw_app
    tables:
      - name: forgotten_table
        description: A table nothing reads.
        columns:
          - name: forgotten_id
            description: Its key.
""",
    )
    result = pre_commit(review_repo, "dbt-check-models", "--all-files")
    assert result.returncode != 0
    out = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    snapshot = next(item for item in out.split("Snapshot: ") if item.startswith("snp_review_test__products "))
    assert "columns missing from the YAML: product_name, category_code" in snapshot  # stg_app__products' columns
    assert "dbt_scd_id, dbt_updated_at, dbt_valid_from, dbt_valid_to" in snapshot  # dbt's meta columns
    assert "columns without a description: sku" in snapshot
    seed = next(item for item in out.split("Seed: ") if item.startswith("review_test_codes "))
    assert "columns missing from the YAML: label" in seed
    source = next(item for item in out.split("Source: ") if item.startswith("review_test.forgotten_table "))
    assert "is read by no model, snapshot or test" in source
    assert "has no data tests" in source
    for clean in ("Snapshot: snp_app__customers ", "Seed: channels ", "Source: audit.snapshot_taken "):
        assert clean not in out  # the project's own stay clean


@pytest.mark.parametrize(
    ("name", "path", "problem"),
    [
        ("stg_app__orders", "models/staging/app/stg_app__orders.sql", None),
        ("stg_events__orders", "models/staging/app/stg_events__orders.sql", "names source `events`"),
        ("stg_orders", "models/staging/app/stg_orders.sql", "not named stg_<source>__<entities>"),
        ("int_orders__enriched", "models/intermediate/orders/int_orders__enriched.sql", None),
        ("int_orders", "models/intermediate/int_orders.sql", "not named int_<entities>__<verb>"),
        ("dim_customers", "models/marts/core/dim_customers.sql", None),
        ("customers", "models/marts/core/customers.sql", "not named fct_<events> or dim_<entities>"),
        ("metricflow_time_spine", "models/metrics/metricflow_time_spine.sql", None),
        ("fct_daily", "models/metrics/fct_daily.sql", "not named metrics_<grain>"),
        ("stg_app__orders", "models/stg_app__orders.sql", "outside models/"),
    ],
)
def test_naming_by_layer(name: str, path: str, problem: str | None) -> None:
    found = conventions.naming_problem(name, path)
    assert found is None if problem is None else (found is not None and problem in found)


def test_sources_only_in_staging() -> None:
    assert conventions.source_problem("models/staging/app/stg_app__orders.sql", ["source.tidewater.app.orders"]) is None
    found = conventions.source_problem("models/marts/sales/fct_x.sql", ["source.tidewater.app.orders", "model.t.a"])
    assert found is not None and "app.orders" in found
    assert conventions.tests_problem(0, [0, 0]) is not None
    assert conventions.tests_problem(0, [0, 2]) is None


def test_snapshot_columns_are_the_parents_and_dbts() -> None:
    star = "{{ config(unique_key='id') }}\n    select * from {{ ref('stg_app__things') }}\n    where not x\n"
    assert conventions.snapshot_columns({}, star, ["id", "name"]) == [
        "id",
        "name",
        "dbt_scd_id",
        "dbt_updated_at",
        "dbt_valid_from",
        "dbt_valid_to",
    ]
    renamed = {"hard_deletes": "new_record", "snapshot_meta_column_names": {"dbt_valid_to": "valid_to"}}
    listed = "select id, name from {{ ref('stg_app__things') }}"
    assert conventions.snapshot_columns(renamed, listed, ["id", "name"]) == [
        "dbt_scd_id",
        "dbt_updated_at",
        "dbt_valid_from",
        "valid_to",
        "dbt_is_deleted",
    ]
    assert conventions.columns_problem({"id": "The key.", "name": ""}, ["id", "name", "dbt_scd_id"]) == (
        "columns missing from the YAML: dbt_scd_id; columns without a description: name - describe each in the YAML"
    )
    assert conventions.columns_problem({"ID": "The key."}, ["id"]) is None


def test_sources_must_be_read_and_tested(tmp_path: Path) -> None:
    assert conventions.source_use_problem(0) is not None and conventions.source_use_problem(1) is None
    assert conventions.source_tests_problem(0) is not None and conventions.source_tests_problem(2) is None
    (tmp_path / "codes.csv").write_text("code,label\na,Alpha\n")
    assert conventions.seed_columns(tmp_path / "codes.csv") == ["code", "label"]
    assert conventions.seed_columns(tmp_path / "missing.csv") is None


def test_data_diff_reports_schema_changes_and_rows_without_a_key() -> None:
    con = duckdb.connect()
    con.execute("create schema main_build; create schema pr_build")
    con.execute("create table main_build.t (id integer, name varchar, amount integer)")
    con.execute("insert into main_build.t values (1, 'a', 10), (2, 'b', 20), (3, 'c', 30)")
    con.execute("create table pr_build.t (id integer, name varchar, amount varchar, is_new boolean)")
    con.execute("insert into pr_build.t values (1, 'a', '10', true), (2, 'B', '20', true), (4, 'd', '40', false)")
    keyed = data_diff.diff_relations(con, "t", "main_build.t", "pr_build.t", "id")
    assert (keyed.keys_added, keyed.keys_removed, keyed.rows_changed) == (1, 1, 1)
    assert (keyed.sample_keys_added, keyed.sample_keys_removed) == (["4"], ["3"])
    assert [(c.column, c.changed_rows, c.examples) for c in keyed.column_changes] == [("name", 1, [("2", "b", "B")])]
    assert keyed.columns_added == [("is_new", "BOOLEAN")] and keyed.columns_removed == []
    assert keyed.columns_retyped == [("amount", "INTEGER", "VARCHAR")]
    keyless = data_diff.diff_relations(con, "t", "main_build.t", "pr_build.t", None)
    assert keyless.primary_key is None and (keyless.rows_only_in_main, keyless.rows_only_in_pr) == (2, 2)
    markdown = data_diff.to_markdown([keyed], base="main")
    assert "| `t` | modified | 3 → 3 | 1 | 1 | 1 | 2 |" in markdown
    assert "- Column retyped: `amount` INTEGER → VARCHAR." in markdown


def test_primary_key_is_the_column_with_unique_and_not_null_tests() -> None:
    def test(name: str, column: str) -> dict[str, object]:
        return {
            "resource_type": "test",
            "attached_node": "model.p.m",
            "column_name": column,
            "test_metadata": {"name": name, "kwargs": {"column_name": column}},
        }

    manifest = {
        "nodes": {
            f"t{i}": node
            for i, node in enumerate([test("unique", "id"), test("not_null", "id"), test("not_null", "x")])
        }
    }
    assert data_diff.primary_key(manifest, "model.p.m") == "id"
    assert data_diff.primary_key(manifest, "model.p.other") is None


@pytest.mark.e2e
def test_slim_ci_builds_the_changed_model_and_the_diff_shows_the_change(
    review_repo: Path, built: Built, tmp_path: Path
) -> None:
    main_warehouse = built.settings.warehouse
    with duckdb.connect(str(main_warehouse), read_only=True) as con:
        main_rows, cancelled = con.execute(
            "select count(*), count(*) filter (where is_cancelled) from tidewater.marts.fct_orders"
        ).fetchone()
    assert cancelled > 0
    # An exposure on main, so the report must list it as affected.
    exposures = review_repo / "models" / "marts" / "sales" / "_review_test__exposures.yml"
    exposures.write_text(
        "version: 2\nexposures:\n  - name: orders_dashboard\n    type: dashboard\n"
        "    owner: {name: Analytics, email: analytics@example.invalid}\n"
        "    depends_on: [ref('fct_orders')]\n"
    )
    _git(review_repo, "add", "--all")
    _git(review_repo, "commit", "--quiet", "--message", "an exposure on fct_orders")
    # The pull request: fct_orders drops cancelled orders and lowercases the currency.
    model = review_repo / "models" / "marts" / "sales" / "fct_orders.sql"
    original = model.read_text()
    changed = original.replace("        currency_code,\n", "        lower(currency_code) as currency_code,\n")
    changed = changed.replace("    from orders\n)", "    from orders\n    where not is_cancelled\n)")
    assert changed.count("lower(currency_code)") == 1 and changed.count("where not is_cancelled") == 1
    model.write_text(changed)
    try:
        result = tidewater_cli(
            "slim-ci",
            "--project-dir",
            str(review_repo),
            "--main-warehouse",
            str(main_warehouse),
            "--ci-dir",
            str(tmp_path / "ci"),
            data_dir=tmp_path / "data",
        )
    finally:
        model.write_text(original)
    report = json.loads((tmp_path / "ci" / "report.json").read_text())
    assert report["modified"] == ["model.tidewater.fct_orders"], result.stdout + result.stderr
    affected = {uid.split(".")[-1] for uid in report["affected_models"]}
    assert {"fct_orders", "metrics_daily", "metrics_monthly_by_channel"} <= affected
    assert not affected & {"fct_order_items", "dim_customers", "stg_app__orders"}
    assert "exposure.tidewater.orders_dashboard" in report["affected_exposures"]
    # Dropping cancelled orders orphans their order lines: the relationships test from fct_order_items fails.
    assert result.returncode == 1
    assert any("relationships_fct_order_items_order_id" in name for name in report["build_failures"])

    orders = next(diff for diff in report["diffs"] if diff["model"] == "fct_orders")
    assert orders["status"] == "changed" and orders["primary_key"] == "order_id"
    assert (orders["main_rows"], orders["pr_rows"]) == (main_rows, main_rows - cancelled)
    assert (orders["keys_removed"], orders["keys_added"]) == (cancelled, 0)
    assert [change["column"] for change in orders["column_changes"]] == ["currency_code"]
    assert orders["column_changes"][0]["changed_rows"] == main_rows - cancelled
    assert orders["column_changes"][0]["examples"][0][1:] == ["USD", "usd"]
    assert not (orders["columns_added"] or orders["columns_removed"] or orders["columns_retyped"])

    markdown = (tmp_path / "ci" / "report.md").read_text()
    assert f"| `fct_orders` | modified | {main_rows:,} → {main_rows - cancelled:,} | 0 | {cancelled:,} |" in markdown
    assert "| `currency_code` |" in markdown
    assert "exposure `orders_dashboard`" in markdown
    assert not (tmp_path / "ci" / "main-worktree").exists()  # the worktree of main is gone
