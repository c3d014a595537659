"""dbt-score rules for the project's conventions (pyproject.toml, `[tool.dbt-score]` lists this module).

dbt-score's own rules cover models' descriptions (`has_description`, `columns_have_description`) and owners
(`has_owner`: `meta.owner`), and seeds' (`seed_has_description`, `seed_columns_have_description`, `seed_has_owner`);
these add, for models, tests, naming by layer and source() only in staging; for snapshots, seeds and sources,
coverage: every one described, every column described (a snapshot's columns include its parent's when it selects
`*`, and dbt's meta columns; a seed's are its CSV header), snapshots owned and tested, every source table read and
tested. dbt-score gives each rule the evaluables of its annotated type, and counts a singular test for the first
node it reads.
No `from __future__ import annotations` here: dbt-score reads the rules' annotations as real types.
"""

from pathlib import Path

from dbt_score import Model, RuleViolation, Seed, Snapshot, Source, rule

from tidewater.review import conventions


def _violation(problem: str | None) -> RuleViolation | None:
    return RuleViolation(message=problem) if problem else None


# -- models -----------------------------------------------------------------------------------------------------


@rule
def has_data_tests(model: Model) -> RuleViolation | None:
    """A model should have at least one data test, on the model or on a column."""
    return _violation(conventions.tests_problem(len(model.tests), (len(column.tests) for column in model.columns)))


@rule
def name_matches_layer(model: Model) -> RuleViolation | None:
    """A model's name should say its layer: stg_<source>__, int_, fct_/dim_, metrics_."""
    return _violation(conventions.naming_problem(model.name, model.original_file_path))


@rule
def reads_sources_only_in_staging(model: Model) -> RuleViolation | None:
    """Only staging models should read source()."""
    return _violation(conventions.source_problem(model.original_file_path, model.depends_on.get("nodes", [])))


# Column classification (models/overview.md): `meta.classification` pii or quasi-identifier; a column without one is
# public. Personal data may be reduced in staging but goes no further (issue 18).
PERSONAL_CLASSIFICATIONS = ("pii", "quasi-identifier")


@rule
def personal_columns_stay_in_staging(model: Model) -> RuleViolation | None:
    """Only a staging model may have a column classified pii or quasi-identifier."""
    if conventions.layer_of(model.original_file_path) == "staging":
        return None
    personal = [
        column.name for column in model.columns if column.meta.get("classification") in PERSONAL_CLASSIFICATIONS
    ]
    return RuleViolation(message=f"personal columns past staging: {', '.join(personal)}") if personal else None


# -- snapshots ----------------------------------------------------------------------------------------------------


@rule
def snapshot_has_description(snapshot: Snapshot) -> RuleViolation | None:
    """A snapshot should have a description."""
    return None if snapshot.description.strip() else RuleViolation(message="Snapshot lacks a description.")


@rule
def snapshot_has_owner(snapshot: Snapshot) -> RuleViolation | None:
    """A snapshot should have an owner (`meta.owner`)."""
    return None if snapshot.meta.get("owner") else RuleViolation(message="Snapshot lacks an owner.")


@rule
def snapshot_columns_have_description(snapshot: Snapshot) -> RuleViolation | None:
    """Every column of a snapshot should be in its YAML with a description: dbt's meta columns, and its parent's
    columns when it selects `*` from one model or source."""
    parents = snapshot.parents
    parent_columns = [column.name for column in parents[0].columns] if len(parents) == 1 else None
    expected = conventions.snapshot_columns(snapshot.config, snapshot.raw_code, parent_columns)
    documented = {column.name: column.description for column in snapshot.columns}
    return _violation(conventions.columns_problem(documented, expected))


@rule
def snapshot_has_data_tests(snapshot: Snapshot) -> RuleViolation | None:
    """A snapshot should have at least one data test, on the snapshot or on a column."""
    column_tests = (len(column.tests) for column in snapshot.columns)
    return _violation(conventions.tests_problem(len(snapshot.tests), column_tests))


# -- seeds --------------------------------------------------------------------------------------------------------


@rule
def seed_csv_columns_have_description(seed: Seed) -> RuleViolation | None:
    """Every column of a seed's CSV header should be in its YAML with a description."""
    header = conventions.seed_columns(Path(seed.original_file_path))
    documented = {column.name: column.description for column in seed.columns}
    return _violation(conventions.columns_problem(documented, header or []))


# -- sources ------------------------------------------------------------------------------------------------------


@rule
def source_has_description(source: Source) -> RuleViolation | None:
    """A source table should have a description of its own."""
    return None if source.description.strip() else RuleViolation(message="Source table lacks a description.")


@rule
def source_columns_have_description(source: Source) -> RuleViolation | None:
    """Every column a source table's YAML lists should have a description."""
    return _violation(conventions.columns_problem({column.name: column.description for column in source.columns}))


@rule
def source_is_used(source: Source) -> RuleViolation | None:
    """A source table should be read by a model, a snapshot, an exposure or a test."""
    tests = len(source.tests) + sum(len(column.tests) for column in source.columns)
    return _violation(conventions.source_use_problem(len(source.children) + tests))


@rule
def source_has_data_tests(source: Source) -> RuleViolation | None:
    """A source table should have at least one data test."""
    tests = len(source.tests) + sum(len(column.tests) for column in source.columns)
    return _violation(conventions.source_tests_problem(tests))
