"""dbt-score rules for the project's conventions (pyproject.toml, `[tool.dbt-score]` lists this module).

dbt-score's own rules cover descriptions (`has_description`, `columns_have_description`) and owners
(`has_owner`: `meta.owner`); these add tests, naming by layer and source() only in staging.
No `from __future__ import annotations` here: dbt-score reads the rules' annotations as real types.
"""

from dbt_score import Model, RuleViolation, rule

from tidewater.review import conventions


@rule
def has_data_tests(model: Model) -> RuleViolation | None:
    """A model should have at least one data test, on the model or on a column."""
    problem = conventions.tests_problem(len(model.tests), (len(column.tests) for column in model.columns))
    return RuleViolation(message=problem) if problem else None


@rule
def name_matches_layer(model: Model) -> RuleViolation | None:
    """A model's name should say its layer: stg_<source>__, int_, fct_/dim_, metrics_."""
    problem = conventions.naming_problem(model.name, model.original_file_path)
    return RuleViolation(message=problem) if problem else None


@rule
def reads_sources_only_in_staging(model: Model) -> RuleViolation | None:
    """Only staging models should read source()."""
    problem = conventions.source_problem(model.original_file_path, model.depends_on.get("nodes", []))
    return RuleViolation(message=problem) if problem else None
