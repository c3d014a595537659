"""The review commands of `tidewater`: check-models, slim-ci, data-diff (CONTRIBUTING.md)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

DIRECTORY = click.Path(file_okay=False, path_type=Path)
FILE = click.Path(path_type=Path)


def default_project_dir() -> Path:
    """The dbt project in the current directory (as pre-commit runs hooks), else this checkout's."""
    return Path.cwd() if (Path.cwd() / "dbt_project.yml").exists() else PROJECT_ROOT


@click.command(
    "check-models",
    help="Conventions and coverage of models, snapshots, seeds and sources on the parsed manifest (dbt parse + "
    "dbt-score); pre-commit runs it.",
)
@click.option("--project-dir", type=DIRECTORY, help="The dbt project (default: the current directory's).")
@click.option("--manifest", type=FILE, help="A manifest.json to check instead of parsing the project.")
def check_models(project_dir: Path | None, manifest: Path | None) -> int:
    from tidewater.review import check_models as checker

    return checker.check((project_dir or default_project_dir()).resolve(), manifest)


@click.command(
    "slim-ci", help="Build and test only state:modified+ against main, in its own DuckDB file; then the data diff."
)
@click.option("--ref", default="main", show_default=True, help="The git ref whose manifest is the baseline.")
@click.option("--state", type=FILE, help="main's manifest.json (or its folder), e.g. a CI artifact, instead of --ref.")
@click.option("--project-dir", type=DIRECTORY, help="The dbt project, a git checkout (default: the current one).")
@click.option("--main-warehouse", type=FILE, help="main's warehouse (default: the data folder's).")
@click.option("--ci-dir", type=DIRECTORY, help="Where the run keeps its files (default: <data dir>/ci).")
@click.option("--no-diff", is_flag=True, help="Skip the data diff.")
@click.pass_obj
def slim_ci(
    settings: Settings,
    ref: str,
    state: Path | None,
    project_dir: Path | None,
    main_warehouse: Path | None,
    ci_dir: Path | None,
    no_diff: bool,
) -> int:
    from tidewater.review import slim_ci as slim

    folder = (ci_dir or settings.data_dir / "ci").resolve()
    report = slim.run(
        (project_dir or default_project_dir()).resolve(),
        (main_warehouse or settings.warehouse).resolve(),
        folder,
        ref=ref,
        state_manifest=state,
        with_diff=not no_diff,
    )
    click.echo()
    click.echo(slim.CiDirs(folder).report.read_text())
    click.echo(f"(Markdown for the PR: {slim.CiDirs(folder).report}; build log: {folder / 'logs'})")
    return 0 if report.ok else 1


@click.command("data-diff", help="The data diff of the last slim-ci build against main, as Markdown.")
@click.option("--main-warehouse", type=FILE, help="main's warehouse (default: the data folder's).")
@click.option("--ci-dir", type=DIRECTORY, help="The slim-ci run's folder (default: <data dir>/ci).")
@click.pass_obj
def data_diff(settings: Settings, main_warehouse: Path | None, ci_dir: Path | None) -> int:
    from tidewater.review import data_diff as differ
    from tidewater.review import slim_ci as slim

    folder = (ci_dir or settings.data_dir / "ci").resolve()
    dirs = slim.CiDirs(folder)
    if not dirs.report_json.exists():
        raise TidewaterError(f"no slim-ci run in {folder}: run `tidewater slim-ci` first")
    saved = json.loads(dirs.report_json.read_text())
    report = slim.SlimCiReport(
        base=saved["base"],
        modified=saved["modified"],
        affected_models=saved["affected_models"],
        removed_models=saved["removed_models"],
        project=saved["project"],
    )
    diffs = slim.diff(report, dirs, (main_warehouse or settings.warehouse).resolve())
    click.echo(differ.to_markdown(diffs, base=report.base))
    return 0
