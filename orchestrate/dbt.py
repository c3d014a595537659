"""The one way Tidewater calls dbt: dagster-dbt's resource, for the pipeline's assets, slim CI and the bench.

Every invocation runs in the project's directory with the repo's profiles.yml and writes its artifacts where dbt
users look for them (target/ for the project's own data folder). dbt's own lines go to a log file under the data
folder; a person sees a progress line now and then, and the warnings and errors by name.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings, venv_tool

# dbt's result statuses a person must hear about, by name.
PROBLEMS = ("warn", "fail", "error", "runtime error")
PROGRESS_EVERY_SECONDS = 10.0


def project(settings: Settings) -> DbtProject:
    return DbtProject(project_dir=PROJECT_ROOT, profiles_dir=PROJECT_ROOT, target_path=settings.dbt_target_dir)


def resource(settings: Settings) -> DbtCliResource:
    return DbtCliResource(project_dir=project(settings), dbt_executable=venv_tool("dbt"))


@contextlib.contextmanager
def environment(settings: Settings, extra: dict[str, str] | None = None) -> Iterator[None]:
    """dbt reads its settings from the environment (profiles.yml: TIDEWATER_WAREHOUSE, ...): set them for the call."""
    wanted = {**settings.env(), **(extra or {})}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
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
    _last: float = field(default_factory=time.monotonic)

    def see(self, raw: dict[str, Any]) -> None:
        info, data = raw.get("info", {}), raw.get("data", {})
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
    errors = [
        f"{name}: {message}" if message else name for status, name, message in progress.problems if status != "warn"
    ]
    detail = "; ".join(errors[:10]) or "see the log"
    return TidewaterError(f"`{what}` failed: {detail} (log: {log_file})")


def run(
    settings: Settings,
    args: Sequence[str],
    *,
    log_name: str,
    extra_env: dict[str, str] | None = None,
    quiet: bool = False,
) -> DbtCliInvocation:
    """A dbt command outside an asset (parse, source freshness, docs, slim CI): its lines in DATA/logs/<log_name>.log,
    progress on stdout; a failure raises TidewaterError naming the failing nodes and the log."""
    what = f"dbt {' '.join(args)}"
    log_file = settings.logs_dir / f"{log_name}.log"
    progress = Progress(what, sys.stdout, quiet=quiet)
    with environment(settings, extra_env):
        invocation = resource(settings).cli(list(args), target_path=settings.dbt_target_dir, raise_on_error=False)
        for _ in stream(invocation, log_file, progress):
            pass
    if not invocation.is_successful():
        raise failure(what, log_file, progress)
    return invocation


def manifest(settings: Settings, *, parse: bool = True) -> Path:
    """dbt's manifest.json for this data folder's target, parsed now (dbt's partial parsing keeps it quick) unless
    `parse` is false and one is already there."""
    path = settings.dbt_target_dir / "manifest.json"
    if parse or not path.exists():
        run(settings, ["parse"], log_name="dbt-parse", quiet=True)
    return path
