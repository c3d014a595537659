"""The review subcommands of `tidewater`: check-models, slim-ci, data-diff."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.paths import PROJECT_ROOT, Paths

COMMANDS = ("check-models", "slim-ci", "data-diff")


def default_project_dir() -> Path:
    """The dbt project in the current directory (as pre-commit runs hooks), else this checkout's."""
    return Path.cwd() if (Path.cwd() / "dbt_project.yml").exists() else PROJECT_ROOT


def add_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    check = commands.add_parser(
        "check-models",
        help="conventions and coverage of models, snapshots, seeds and sources on the parsed manifest "
        "(dbt parse + dbt-score); pre-commit runs it",
    )
    check.add_argument("--project-dir", type=Path, help="the dbt project (default: the current directory's)")
    check.add_argument("--manifest", type=Path, help="a manifest.json to check instead of parsing the project")

    slim = commands.add_parser(
        "slim-ci", help="build and test only state:modified+ against main, in its own DuckDB file; then the data diff"
    )
    base = slim.add_mutually_exclusive_group()
    base.add_argument("--ref", default="main", help="git ref whose manifest is the baseline (default: main)")
    base.add_argument("--state", type=Path, help="main's manifest.json (or its folder), e.g. a CI artifact")
    slim.add_argument("--project-dir", type=Path, help="the dbt project, a git checkout (default: the current one)")
    slim.add_argument("--main-warehouse", type=Path, help="main's warehouse (default: the data folder's)")
    slim.add_argument("--ci-dir", type=Path, help="where the run keeps its files (default: <data dir>/ci)")
    slim.add_argument("--no-diff", action="store_true", help="skip the data diff")

    diff = commands.add_parser("data-diff", help="the data diff of the last slim-ci build against main, as Markdown")
    diff.add_argument("--main-warehouse", type=Path, help="main's warehouse (default: the data folder's)")
    diff.add_argument("--ci-dir", type=Path, help="the slim-ci run's folder (default: <data dir>/ci)")


def run(args: argparse.Namespace, paths: Paths) -> int:
    from tidewater.review import check_models, data_diff, slim_ci

    if args.command == "check-models":
        return check_models.check((args.project_dir or default_project_dir()).resolve(), args.manifest)
    main_warehouse = (args.main_warehouse or paths.warehouse).resolve()
    ci_dir = (args.ci_dir or paths.data_dir / "ci").resolve()
    if args.command == "slim-ci":
        report = slim_ci.run(
            (args.project_dir or default_project_dir()).resolve(),
            main_warehouse,
            ci_dir,
            ref=args.ref,
            state_manifest=args.state,
            with_diff=not args.no_diff,
        )
        print()
        print(slim_ci.CiDirs(ci_dir).report.read_text())
        print(f"(Markdown for the PR: {slim_ci.CiDirs(ci_dir).report}; build log: {ci_dir / 'logs'})")
        return 0 if report.ok else 1
    dirs = slim_ci.CiDirs(ci_dir)
    if not dirs.report_json.exists():
        raise TidewaterError(f"no slim-ci run in {ci_dir}: run `tidewater slim-ci` first")
    saved = json.loads(dirs.report_json.read_text())
    report = slim_ci.SlimCiReport(
        base=saved["base"],
        modified=saved["modified"],
        affected_models=saved["affected_models"],
        removed_models=saved["removed_models"],
        project=saved["project"],
    )
    diffs = slim_ci.diff(report, dirs, main_warehouse)
    print(data_diff.to_markdown(diffs, base=report.base))
    return 0
