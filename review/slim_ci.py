"""Slim CI: build and test only what a change touches (`state:modified+`), against main, in a DuckDB file of its own.

1. main's manifest: `git worktree add` of a ref (default `main`) and `dbt parse` there, or a manifest.json given by
   the user (a CI artifact);
2. `dbt ls --select state:modified+ --resource-type model exposure`: the models and exposures the change affects;
3. `dbt build --select state:modified+ --defer --state ... --target ci`: the `ci` target (profiles.yml) builds into
   its own file and attaches main's warehouse read-only as `tidewater`, the catalog main's manifest names, so
   deferred refs read main's tables. Sources are not deferred by dbt: the CI file gets a view per raw table, reading
   main's;
4. the data diff of every affected model (tidewater.review.data_diff), written as Markdown for the PR.

Everything a run writes stays in one folder (default `<data dir>/ci`), emptied at the start of each run.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
from dagster_dbt import DbtCliInvocation

from tidewater.orchestrate import dbt
from tidewater.orchestrate.errors import TidewaterError
from tidewater.review import data_diff

MAIN_CATALOG = "tidewater"  # the catalog main's manifest names (its warehouse file is tidewater.duckdb)
CI_TARGET = "ci"
SELECTOR = "state:modified+"
# Generic tests from these packages are monitors (Elementary's anomaly and schema-change tests): they compare with
# the history kept in the warehouse's own tables, which a fresh CI file does not have. They run with `make run`.
MONITOR_NAMESPACES = ("elementary",)
# Elementary's end-of-run uploads write into its own tables, which the CI file does not have (and main's history is
# not the CI run's to add to): off for slim CI. Unknown to a project without Elementary, these vars change nothing.
CI_VARS = {
    "disable_dbt_artifacts_autoupload": True,
    "disable_run_results": True,
    "disable_tests_results": True,
    "disable_freshness_results": True,
    "disable_dbt_invocation_autoupload": True,
}
MARKER = ".tidewater-slim-ci"  # marks a folder slim CI made, so it empties no other


@dataclass(frozen=True)
class CiDirs:
    """Where one slim CI run keeps its things."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "ci.duckdb"

    @property
    def state(self) -> Path:
        return self.root / "main-state"

    @property
    def worktree(self) -> Path:
        return self.root / "main-worktree"

    @property
    def target(self) -> Path:
        return self.root / "target"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def report(self) -> Path:
        return self.root / "report.md"

    @property
    def report_json(self) -> Path:
        return self.root / "report.json"


@dataclass
class SlimCiReport:
    base: str
    modified: list[str] = field(default_factory=list)  # unique ids of models changed by the PR itself
    affected_models: list[str] = field(default_factory=list)  # state:modified+ models
    affected_exposures: list[str] = field(default_factory=list)
    removed_models: list[str] = field(default_factory=list)  # models of main the PR deletes
    build_counts: dict[str, int] = field(default_factory=dict)
    build_failures: list[str] = field(default_factory=list)
    monitors_left_out: int = 0
    build_exit_code: int = 0
    diffs: list[data_diff.ModelDiff] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    project: str = "tidewater"

    @property
    def ok(self) -> bool:
        return self.build_exit_code == 0 and not self.build_failures

    def role(self, unique_id: str) -> str:
        if unique_id in self.removed_models:
            return "removed"
        return "modified" if unique_id in self.modified else "downstream"

    @property
    def project_models(self) -> list[str]:
        """The affected models of this project; those of dbt packages are built and tested but not diffed."""
        return [uid for uid in self.affected_models if uid.split(".")[1] == self.project]

    def to_markdown(self) -> str:
        lines = [f"## Slim CI against `{self.base}`", ""]
        if not self.affected_models and not self.affected_exposures and not self.removed_models:
            return "\n".join([*lines, "No model or exposure changed: nothing to build.", ""])
        lines.append("Affected by this change (`state:modified+`):")
        lines.append("")
        lines += [f"- model `{uid.split('.')[-1]}` ({self.role(uid)})" for uid in self.project_models]
        lines += [f"- model `{uid.split('.')[-1]}` (removed)" for uid in self.removed_models]
        packages: dict[str, int] = {}
        for uid in self.affected_models:
            if uid not in self.project_models:
                packages[uid.split(".")[1]] = packages.get(uid.split(".")[1], 0) + 1
        lines += [
            f"- {count} models of package `{package}` (built and tested, not diffed)"
            for package, count in packages.items()
        ]
        lines += [f"- exposure `{uid.split('.')[-1]}`" for uid in self.affected_exposures]
        counts = ", ".join(f"{count} {status}" for status, count in sorted(self.build_counts.items()))
        lines += ["", f"Build: {counts or 'nothing run'}."]
        if self.monitors_left_out:
            lines += [
                "",
                f"Not run here: the project's {self.monitors_left_out} Elementary monitors (they compare with history"
                " that only the warehouse keeps; they run with `make run`).",
            ]
        if self.build_failures:
            lines += ["", "Failed:", ""] + [f"- `{name}`" for name in self.build_failures]
        elif self.build_exit_code:
            lines += ["", f"`dbt build` failed (exit {self.build_exit_code}) before running anything: see the log."]
        lines.append("")
        head = "\n".join(lines)
        return head + "\n" + data_diff.to_markdown(self.diffs, base=self.base)


def _dbt(
    env: dict[str, str], project_dir: Path, *args: str, target: Path, logs: Path, check: bool = True
) -> tuple[DbtCliInvocation, dbt.Progress]:
    """A dbt command of slim CI, through the project's one way of calling dbt; its lines in logs/dbt-<command>.log."""
    log_file = logs / f"dbt-{args[0]}.log"
    invocation, progress = dbt.invoke(
        args, env=env, target_path=target, log_file=log_file, project_dir=project_dir, quiet=True
    )
    if check and not invocation.is_successful():
        raise dbt.failure(progress.what, log_file, progress)
    return invocation, progress


def _git(project_dir: Path, *args: str) -> str:
    result = subprocess.run(["git", "-C", str(project_dir), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TidewaterError(f"`git {' '.join(args)}` failed: {result.stderr.strip()}")
    return result.stdout


def dbt_env(main_warehouse: Path, dirs: CiDirs) -> dict[str, str]:
    """The variables dbt needs: profiles.yml's `ci` target reads both warehouse paths."""
    return {
        "TIDEWATER_WAREHOUSE": str(main_warehouse),
        "TIDEWATER_CI_WAREHOUSE": str(dirs.warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def state_from_ref(project_dir: Path, ref: str, dirs: CiDirs, env: dict[str, str]) -> Path:
    """Parse `ref` in a temporary worktree; its manifest.json lands in dirs.state."""
    try:
        _git(project_dir, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except TidewaterError:
        raise TidewaterError(
            f"`{ref}` is no commit of the git repository {project_dir}: give --ref or --state"
        ) from None
    _git(project_dir, "worktree", "add", "--detach", str(dirs.worktree), ref)
    try:
        packages = project_dir / "dbt_packages"
        if packages.is_dir() and not (dirs.worktree / "dbt_packages").exists():
            (dirs.worktree / "dbt_packages").symlink_to(packages.resolve(), target_is_directory=True)
        # The manifest names main's catalog after the warehouse file's stem: parse as if it were tidewater.duckdb,
        # whatever main's file is called, since the ci target attaches it under that name.
        parse_env = {**env, "TIDEWATER_WAREHOUSE": str(dirs.root / f"{MAIN_CATALOG}.duckdb")}
        _dbt(parse_env, dirs.worktree, "parse", target=dirs.state, logs=dirs.logs)
    finally:
        subprocess.run(
            ["git", "-C", str(project_dir), "worktree", "remove", "--force", str(dirs.worktree)],
            capture_output=True,
            check=False,
        )
        subprocess.run(["git", "-C", str(project_dir), "worktree", "prune"], capture_output=True, check=False)
    return dirs.state / "manifest.json"


def state_from_manifest(manifest: Path, dirs: CiDirs) -> Path:
    """A manifest.json given by the user (or the folder holding one), copied into dirs.state."""
    source = manifest / "manifest.json" if manifest.is_dir() else manifest
    if not source.is_file():
        raise TidewaterError(f"no manifest.json at {manifest}")
    dirs.state.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, dirs.state / "manifest.json")
    return dirs.state / "manifest.json"


def check_main_catalog(manifest: dict[str, Any]) -> None:
    catalogs = {node["database"] for node in manifest.get("nodes", {}).values() if node.get("resource_type") == "model"}
    if catalogs - {MAIN_CATALOG}:
        raise TidewaterError(
            f"main's manifest names catalog(s) {', '.join(sorted(catalogs))}, but the ci target attaches main's"
            f" warehouse as `{MAIN_CATALOG}`: use a manifest parsed with the dev target"
        )


def list_selected(env: dict[str, str], project_dir: Path, dirs: CiDirs, selector: str, *types: str) -> list[dict]:
    _dbt(
        env,
        project_dir,
        "ls",
        "--select",
        selector,
        "--resource-type",
        *types,
        "--state",
        str(dirs.state),
        "--target",
        CI_TARGET,
        "--vars",
        json.dumps(CI_VARS),
        "--output",
        "json",
        "--output-keys",
        "unique_id resource_type name",
        target=dirs.target,
        logs=dirs.logs,
    )
    # `dbt ls --output json` prints one JSON object per node among dbt's log lines, which go to the command's log.
    listed = (dirs.logs / "dbt-ls.log").read_text().splitlines()
    return [json.loads(line) for line in listed if line.startswith('{"unique_id"')]


def create_source_views(pr_manifest: dict[str, Any], dirs: CiDirs, main_warehouse: Path) -> int:
    """A view in the CI file for each source table, reading main's: dbt defers refs, not sources."""
    con = duckdb.connect(str(dirs.warehouse))
    try:
        con.execute(f"attach {data_diff.literal(str(main_warehouse))} as {data_diff.quote(MAIN_CATALOG)} (read_only)")
        count = 0
        for source in pr_manifest.get("sources", {}).values():
            schema, table = source["schema"], source.get("identifier") or source["name"]
            con.execute(f"create schema if not exists {data_diff.quote(schema)}")
            con.execute(
                f"create or replace view {data_diff.quote(schema)}.{data_diff.quote(table)} as "
                f"select * from {data_diff.quote(MAIN_CATALOG)}.{data_diff.quote(schema)}.{data_diff.quote(table)}"
            )
            count += 1
        return count
    finally:
        con.close()


def removed_models(main_manifest: dict[str, Any], pr_manifest: dict[str, Any]) -> list[str]:
    """The project's models in main that the PR deletes (dbt's state selection never lists them)."""
    project = pr_manifest["metadata"]["project_name"]
    return sorted(
        uid
        for uid, node in main_manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
        and node.get("package_name") == project
        and uid not in pr_manifest.get("nodes", {})
    )


def monitor_tests(pr_manifest: dict[str, Any]) -> list[str]:
    """The names of the project's tests that are monitors from MONITOR_NAMESPACES (see there)."""
    return sorted(
        node["name"]
        for node in pr_manifest.get("nodes", {}).values()
        if node.get("resource_type") == "test"
        and (node.get("test_metadata") or {}).get("namespace") in MONITOR_NAMESPACES
    )


def display_name(unique_id: str) -> str:
    """`test.tidewater.unique_fct_orders_order_id.2d4f` -> `unique_fct_orders_order_id`; unit tests keep their model."""
    parts = unique_id.split(".")
    return f"{parts[2]}::{parts[3]}" if parts[0] == "unit_test" and len(parts) > 3 else parts[2]


def build_results(dirs: CiDirs) -> tuple[dict[str, int], list[str]]:
    results_file = dirs.target / "run_results.json"
    counts: dict[str, int] = {}
    failures: list[str] = []
    if results_file.exists():
        for result in json.loads(results_file.read_text())["results"]:
            kind = result["unique_id"].split(".")[0]
            counts[f"{kind} {result['status']}"] = counts.get(f"{kind} {result['status']}", 0) + 1
            if result["status"] in ("error", "fail", "runtime error"):
                failures.append(display_name(result["unique_id"]))
    return counts, failures


def diff(report: SlimCiReport, dirs: CiDirs, main_warehouse: Path) -> list[data_diff.ModelDiff]:
    main_manifest = json.loads((dirs.state / "manifest.json").read_text())
    pr_manifest = json.loads((dirs.target / "manifest.json").read_text())
    con = data_diff.connect(dirs.warehouse, main_warehouse, MAIN_CATALOG)
    try:
        return data_diff.diff_models(
            con,
            main_manifest,
            pr_manifest,
            [(uid, report.role(uid)) for uid in [*report.project_models, *report.removed_models]],
        )
    finally:
        con.close()


def run(
    project_dir: Path,
    main_warehouse: Path,
    ci_dir: Path,
    *,
    ref: str = "main",
    state_manifest: Path | None = None,
    with_diff: bool = True,
    say: Any = None,
) -> SlimCiReport:
    """The whole slim CI run; see the module's docstring."""
    say = say or (lambda message: print(message, flush=True))
    if not main_warehouse.exists():
        raise TidewaterError(f"main's warehouse is not there: {main_warehouse} (build it with `make run`)")
    dirs = CiDirs(ci_dir.resolve())
    if dirs.root.exists() and any(dirs.root.iterdir()) and not (dirs.root / MARKER).exists():
        raise TidewaterError(f"{dirs.root} holds files of something else: give slim CI a folder of its own (--ci-dir)")
    shutil.rmtree(dirs.root, ignore_errors=True)
    dirs.root.mkdir(parents=True)
    (dirs.root / MARKER).write_text("A slim CI run's folder (`tidewater slim-ci`): emptied at each run.\n")
    env = dbt_env(main_warehouse.resolve(), dirs)
    report = SlimCiReport(base=str(state_manifest) if state_manifest else ref)

    def step(name: str, started: float) -> None:
        report.timings[name] = time.monotonic() - started
        say(f"    {name}: {report.timings[name]:.1f} s")

    started = time.monotonic()
    say(f"==> main's manifest ({'from ' + str(state_manifest) if state_manifest else 'dbt parse of ' + ref})")
    if state_manifest:
        state_from_manifest(state_manifest, dirs)
    else:
        state_from_ref(project_dir, ref, dirs, env)
    check_main_catalog(json.loads((dirs.state / "manifest.json").read_text()))
    step("main's manifest", started)

    started = time.monotonic()
    say(f"==> what the change affects (dbt ls --select {SELECTOR})")
    report.modified = [n["unique_id"] for n in list_selected(env, project_dir, dirs, "state:modified", "model")]
    affected = list_selected(env, project_dir, dirs, SELECTOR, "model", "exposure")
    report.affected_models = [n["unique_id"] for n in affected if n["resource_type"] == "model"]
    report.affected_exposures = [n["unique_id"] for n in affected if n["resource_type"] == "exposure"]
    pr_manifest = json.loads((dirs.target / "manifest.json").read_text())
    report.project = pr_manifest["metadata"]["project_name"]
    report.removed_models = removed_models(json.loads((dirs.state / "manifest.json").read_text()), pr_manifest)
    for uid in report.project_models:
        say(f"    model {uid.split('.')[-1]} ({report.role(uid)})")
    for uid in report.removed_models:
        say(f"    model {uid.split('.')[-1]} (removed)")
    for uid in report.affected_exposures:
        say(f"    exposure {uid.split('.')[-1]}")
    step("dbt ls", started)

    if report.affected_models or report.affected_exposures or report.removed_models:
        started = time.monotonic()
        say(f"==> dbt build --select {SELECTOR} --defer --target {CI_TARGET} (into {dirs.warehouse})")
        create_source_views(pr_manifest, dirs, main_warehouse)
        monitors = monitor_tests(pr_manifest)
        report.monitors_left_out = len(monitors)
        build, _ = _dbt(
            env,
            project_dir,
            "build",
            "--select",
            SELECTOR,
            *(["--exclude", " ".join(monitors)] if monitors else []),  # one argument: dagster-dbt reads one value
            "--defer",
            "--state",
            str(dirs.state),
            "--target",
            CI_TARGET,
            "--vars",
            json.dumps(CI_VARS),
            target=dirs.target,
            logs=dirs.logs,
            check=False,
        )
        report.build_counts, report.build_failures = build_results(dirs)
        report.build_exit_code = build.process.returncode
        say("    " + ", ".join(f"{count} {status}" for status, count in sorted(report.build_counts.items())))
        step("dbt build", started)
        if with_diff and (report.project_models or report.removed_models):
            started = time.monotonic()
            say("==> data diff against main")
            report.diffs = diff(report, dirs, main_warehouse)
            step("data diff", started)

    dirs.report.write_text(report.to_markdown())
    dirs.report_json.write_text(
        json.dumps(
            {
                "base": report.base,
                "project": report.project,
                "modified": report.modified,
                "affected_models": report.affected_models,
                "affected_exposures": report.affected_exposures,
                "removed_models": report.removed_models,
                "build_counts": report.build_counts,
                "build_failures": report.build_failures,
                "build_exit_code": report.build_exit_code,
                "timings": report.timings,
                "diffs": json.loads(data_diff.to_json(report.diffs)),
            },
            indent=2,
        )
    )
    return report
