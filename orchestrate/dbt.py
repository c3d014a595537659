"""The one way Tidewater calls dbt: dagster-dbt's resource, for the pipeline's assets, slim CI and the bench.

Every invocation runs in the project's directory with the repo's profiles.yml and writes its artifacts where dbt
users look for them (target/ for the project's own data folder). dbt's own lines go to a log file under the data
folder; a person sees a progress line now and then, and the warnings and errors by name.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject
from packaging.version import Version

from tidewater.orchestrate.commands import interrupt
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings, venv_tool

# dbt's result statuses a person must hear about, by name.
PROBLEMS = ("warn", "fail", "error", "runtime error")
PROGRESS_EVERY_SECONDS = 10.0


class DbtCore(DbtCliResource):
    """dagster-dbt's resource without two start-up costs of every command that this project does not use: asking
    the dbt executable its version (a second dbt process) and opening a dbt adapter in this process (it serves
    dagster-dbt's optional row counts and column metadata). dbt-core is installed beside dagster-dbt, at its pin."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def resource(project_dir: Path = PROJECT_ROOT, target_path: Path | None = None) -> DbtCliResource:
    """dagster-dbt's resource for a dbt project (this checkout's, or another one's: slim CI parses main's), with the
    project's own profiles.yml."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir, target_path=target_path or "target")
    return DbtCore(project_dir=project, dbt_executable=venv_tool("tidewater-dbt"))


@contextlib.contextmanager
def environment(variables: dict[str, str]) -> Iterator[None]:
    """dbt reads its settings from the environment (profiles.yml: TIDEWATER_WAREHOUSE, ...): set them for the call."""
    saved = {key: os.environ.get(key) for key in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclass
class Progress:
    """What a person sees of a dbt command: a line every few seconds with the nodes done so far, then the warnings
    and errors by name."""

    what: str
    out: TextIO
    quiet: bool = False
    total: int | None = None
    done: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (status, node, message)
    errors: list[str] = field(default_factory=list)  # dbt's error-level lines (a hook or a compilation failing)
    _last: float = field(default_factory=time.monotonic)

    def see(self, raw: dict[str, Any]) -> None:
        info, data = raw.get("info", {}), raw.get("data", {})
        if info.get("level") == "error" and info.get("msg"):
            self.errors.append(str(info["msg"]).strip())
        if info.get("name") == "ConcurrencyLine":
            self.total = data.get("num_nodes")
        node = data.get("node_info", {})
        status = str(data.get("status") or node.get("node_status") or "").lower()
        # One result line per node (dbt's LogModelResult, LogTestResult, ..., LogFreshnessResult).
        event = str(info.get("name", ""))
        if event.startswith("Log") and event.endswith("Result"):
            self.done += 1
            if status in PROBLEMS:
                name = node.get("node_name") or data.get("name") or node.get("unique_id", "?")
                rows = data.get("num_failures")
                self.problems.append((status, name, f"{rows} row{'s' * (rows != 1)}" if rows else ""))
        if time.monotonic() - self._last >= PROGRESS_EVERY_SECONDS:
            self._last = time.monotonic()
            self.say(f"{self.what}: {self.done}{f' of {self.total}' if self.total else ''} nodes done")

    def say(self, line: str) -> None:
        if not self.quiet:
            print(f"    {line}", file=self.out, flush=True)

    def finish(self) -> None:
        counts: dict[str, int] = {}
        for status, _, _ in self.problems:
            counts[status] = counts.get(status, 0) + 1
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "no warnings"
        self.say(f"{self.what}: {self.done} nodes, {summary}")
        for status, name, message in self.problems:
            self.say(f"  {status.upper()}: {name}{f' ({message})' if message else ''}")


def stream(invocation: DbtCliInvocation, log_file: Path, progress: Progress) -> Iterator[Any]:
    """Yield the invocation's Dagster events (inside an asset) while dbt's lines go to `log_file` and a person sees
    `progress`. dagster-dbt writes each dbt line to sys.stdout: pointed at the log file here."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("w") as log, contextlib.redirect_stdout(log):
        for event in invocation.stream_raw_events():
            progress.see(event.raw_event)
            if invocation.context is not None:
                yield from event.to_default_asset_events(
                    manifest=invocation.manifest,
                    dagster_dbt_translator=invocation.dagster_dbt_translator,
                    context=invocation.context,
                    target_path=invocation.target_path,
                    project=invocation.project,
                )
    progress.finish()


def failure(what: str, log_file: Path, progress: Progress) -> TidewaterError:
    """The failing nodes by name and dbt's own error lines (a model's error, a hook's, a compilation error), and the
    log."""
    failed = [
        f"{name} ({message})" if message else name for status, name, message in progress.problems if status != "warn"
    ]
    lines = [f"failed: {'; '.join(failed[:10])}"] if failed else []
    lines += progress.errors[-5:] or ([] if failed else ["see the log"])
    return TidewaterError(f"`{what}` failed (log: {log_file}):\n" + "\n".join(lines))


def invoke(
    args: Sequence[str],
    *,
    env: dict[str, str],
    target_path: Path,
    log_file: Path,
    project_dir: Path = PROJECT_ROOT,
    quiet: bool = False,
) -> tuple[DbtCliInvocation, Progress]:
    """Any dbt command outside an asset: `env` on top of this process's environment, artifacts in `target_path`,
    dbt's lines in `log_file`, progress on stdout unless `quiet`. Returns the invocation (its artifacts, success)
    and what it reported (nodes with problems, error lines); raises nothing on dbt's failure."""
    progress = Progress(f"dbt {' '.join(args)}", sys.stdout, quiet=quiet)
    with environment(env):
        invocation = resource(project_dir, target_path).cli(list(args), target_path=target_path, raise_on_error=False)
        try:
            for _ in stream(invocation, log_file, progress):
                pass
        except BaseException:
            # Stopped (Ctrl-C, SIGTERM): dagster-dbt stops dbt only on Dagster's own interrupt, inside an asset.
            # Left running, dbt would go on writing a warehouse its command no longer holds.
            interrupt(invocation.process)
            raise
    return invocation, progress


def run(
    settings: Settings,
    args: Sequence[str],
    *,
    log_name: str,
    extra_env: dict[str, str] | None = None,
    quiet: bool = False,
) -> DbtCliInvocation:
    """A dbt command on the data folder's warehouse (parse, Elementary's tables, docs): its lines in
    DATA/logs/<log_name>.log; a failure raises TidewaterError naming the failing nodes and the log."""
    log_file = settings.logs_dir / f"{log_name}.log"
    env = {**settings.env(), **(extra_env or {})}
    invocation, progress = invoke(args, env=env, target_path=settings.dbt_target_dir, log_file=log_file, quiet=quiet)
    if not invocation.is_successful():
        raise failure(progress.what, log_file, progress)
    return invocation


# What dbt parses: a manifest older than any of these is parsed again.
PROJECT_FILES = (
    "dbt_project.yml",
    "packages.yml",
    "profiles.yml",
    "models",
    "macros",
    "seeds",
    "snapshots",
    "tests/dbt",
)


def project_files() -> list[Path]:
    files: list[Path] = []
    for name in PROJECT_FILES:
        path = PROJECT_ROOT / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file())
    return files


def project_fingerprint() -> str:
    """A hash of everything dbt parses: equal fingerprints, the same models, tests, columns and descriptions."""
    digest = hashlib.sha256()
    for file in project_files():
        digest.update(str(file.relative_to(PROJECT_ROOT)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def _newest_project_file() -> float:
    return max((file.stat().st_mtime for file in project_files()), default=0.0)


def manifest(settings: Settings, *, if_stale: bool = True) -> Path:
    """dbt's manifest.json for this data folder's target (what Dagster builds its dbt assets from), parsed again when
    a project file changed since it was written (or always, with `if_stale` false)."""
    path = settings.dbt_target_dir / "manifest.json"
    if not if_stale or not path.exists() or path.stat().st_mtime < _newest_project_file():
        run(settings, ["parse"], log_name="dbt-parse", quiet=True)
    return path
