"""One repeat of the lifecycle, as a user runs it (`tidewater run`), with its figures per stage.

Wall times come from Dagster's own record of the run (dagster_run.py): a stage is one step, from its start to its
end, or a part of one, from the line the step logs when the part starts to the one it logs when the part ends: each
source's load ("loading the ..." to "... loaded in"; extract+load, all sources, is the step that runs them side by
side), the docs and the report (their step runs them side by side). The whole run goes from the run's start to its
end. Rows per source are what the reconciliation snapshot counted in each raw schema right after the loads (its
`raw_rows` metadata). Peak memory comes from sampling the RSS of the `tidewater run` process tree and the PostgreSQL
server (memory.py), cut at each stage's start and end. dbt's internals come from the build's run_results.json and
from a separate, timed `dbt parse` without partial parsing.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tidewater.bench import dagster_run
from tidewater.bench.memory import RssSampler
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings, venv_tool
from tidewater.orchestrate.sources import Source, meltano_sources

GENERATE_STEP = "generate_sources"
LOAD_STEP = "extract_load"  # every source's load, side by side (orchestrate/assets/extract_load.py)
DOCS_STEP = "docs_and_report"  # the docs beside the report (orchestrate/assets/observability.py)
RECONCILIATION_STEP = "reconciliation_snapshot"
# The generate step starts the embedded PostgreSQL (the app database resource) before anything else, then logs
# this: from the step's start to this line is the server's start (initdb on a new data folder).
GENERATOR_FIRST_LINE = "generating the sources"
ALL_LOADS = "extract+load"
TOTAL = "pipeline total"
POSTGRES_START = "postgres start"


def load_stage(source: Source | str) -> str:
    return f"{ALL_LOADS} {source if isinstance(source, str) else source.name}"


def one_step_stages() -> dict[str, str]:
    """Stage -> the Dagster step it is, in the lifecycle's order."""
    return {
        "generate": GENERATE_STEP,
        ALL_LOADS: LOAD_STEP,
        "source snapshot": RECONCILIATION_STEP,
        "dbt build": "dbt_build",
    }


def part_of_step_stages() -> dict[str, tuple[str, str, str]]:
    """Stage -> (its step, the line it starts with, the line it ends with)."""
    from tidewater.orchestrate.assets.extract_load import LOADED_IN
    from tidewater.orchestrate.assets.observability import MADE_IN, STARTED

    return {
        **{
            load_stage(source): (LOAD_STEP, f"loading the {source.label} ", f"{source.label}: {LOADED_IN} ")
            for source in meltano_sources()
        },
        "docs": (DOCS_STEP, f"dbt docs: {STARTED} ", f"dbt docs: {MADE_IN} "),
        "report": (DOCS_STEP, f"Elementary's report: {STARTED} ", f"Elementary's report: {MADE_IN} "),
    }


def stage_names(sources: list[str]) -> list[str]:
    """Every stage a repeat reports, in the order of the report's tables."""
    return [
        POSTGRES_START, "generate", ALL_LOADS, *(load_stage(name) for name in sources), "source snapshot",
        "dbt build", "docs", "report", TOTAL,
    ]  # fmt: skip


@dataclass
class Command:
    """A command that ran to its end: when it started (epoch s), its wall time, and its tree's RSS samples."""

    started: float
    seconds: float
    sampler: RssSampler

    @property
    def pid(self) -> int:
        return self.sampler.root_pid


def timed_subprocess(
    command: list[str], *, log_file: Path, env: dict[str, str] | None = None, pidfile: Path | None = None
) -> Command:
    """Run a command with its output in `log_file`, sampling its tree's RSS; fail with the log's tail."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started_at, started = time.time(), time.perf_counter()
    with log_file.open("w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT, env={**os.environ, **(env or {})}
        )
        with RssSampler(process.pid, pidfile) as sampler:
            returncode = process.wait()
    seconds = time.perf_counter() - started
    if returncode != 0:
        tail = " | ".join(log_file.read_text(errors="replace").strip().splitlines()[-8:])
        raise TidewaterError(f"`{' '.join(command[:6])}` failed (exit {returncode}); log: {log_file}: {tail}")
    return Command(started_at, seconds, sampler)


def tidewater_command(data_dir: Path, *args: str) -> list[str]:
    return [venv_tool("tidewater"), "--data-dir", str(data_dir), *args]


def postmaster_pidfile(settings: Settings) -> Path:
    """Where the embedded PostgreSQL writes its server's pid: its processes are not children of the run's."""
    return settings.postgres_dir / "pgdata" / "postmaster.pid"


def run_lifecycle(settings: Settings, args: list[str], log_file: Path) -> tuple[Command, dagster_run.RunRecord]:
    """`tidewater run ARGS` on this data folder, sampled, then Dagster's record of the run it made."""
    command = timed_subprocess(
        tidewater_command(settings.data_dir, "run", *args), log_file=log_file, pidfile=postmaster_pidfile(settings)
    )
    return command, dagster_run.read(settings, command.pid)


def _figure(seconds: float, rows: int | None, sampler: RssSampler, start: float, end: float) -> dict[str, Any]:
    return {"seconds": seconds, "rows": rows, "peak_rss": sampler.peak(start, end)}


def run_pipeline(settings: Settings, scale: float, seed: int, log_file: Path) -> dict[str, Any]:
    """`tidewater run` into a fresh data folder. Returns the stages (per stage: seconds, rows for the loads, peak
    RSS in bytes), what Dagster and the command took around the steps, and the run's steps as Dagster recorded
    them."""
    command, run = run_lifecycle(settings, ["--scale", str(scale), "--seed", str(seed)], log_file)
    sampler, sources = command.sampler, meltano_sources()
    raw_rows = run.metadata.get(RECONCILIATION_STEP, {}).get("raw_rows")
    if not isinstance(raw_rows, dict):
        raise TidewaterError(f"Dagster run {run.run_id[:8]}: the {RECONCILIATION_STEP} step recorded no raw_rows")

    stages: dict[str, dict[str, Any]] = {}
    generate = run.step(GENERATE_STEP)
    server_up = run.first_message(GENERATE_STEP, GENERATOR_FIRST_LINE)
    stages[POSTGRES_START] = _figure(server_up - generate.start, None, sampler, generate.start, server_up)
    for stage, key in one_step_stages().items():
        step = run.step(key)
        stages[stage] = _figure(step.seconds, None, sampler, step.start, step.end)
    for stage, (key, first_line, last_line) in part_of_step_stages().items():
        start, end = run.first_message(key, first_line), run.first_message(key, last_line)
        stages[stage] = _figure(end - start, None, sampler, start, end)
    for source in sources:
        stages[load_stage(source)]["rows"] = int(raw_rows.get(source.load_schema, 0))
    stages[ALL_LOADS]["rows"] = sum(stages[load_stage(source)]["rows"] for source in sources)
    stages[TOTAL] = _figure(run.seconds, None, sampler, run.start, run.end)

    # Beyond the steps: the command around the run (interpreter, dbt parse when a model changed, the definitions,
    # PostgreSQL's stop and the summary) and the run's time with no step executing (Dagster launching processes).
    orchestration = {
        "tidewater run command": command.seconds,
        "before the run": run.start - command.started,
        "after the run": command.started + command.seconds - run.end,
        "no step running": run.idle_seconds(),
    }
    return {"stages": stages, "orchestration": orchestration, "dagster": run.summary()}


def dbt_internals(settings: Settings, build_seconds: float) -> dict[str, float]:
    """Where `dbt build` spends its time. Sums of execution_time per kind (with several threads, busy time, not wall
    time); hooks are the on-run-start/end operations (Elementary's end hook uploads the run's results);
    overhead is the build step's wall time less dbt's own elapsed time (dagster-dbt, interpreter start, parse,
    artifacts); parse is a separate `dbt parse --no-partial-parse`, timed, with dbt's perf_info.json."""
    from tidewater.orchestrate import dbt

    document = json.loads(settings.build_results_file.read_text())
    sums: dict[str, float] = {"models": 0.0, "tests": 0.0, "seeds": 0.0, "hooks": 0.0, "elementary hooks": 0.0}
    for result in document["results"]:
        kind, package = result["unique_id"].split(".")[:2]
        seconds = float(result.get("execution_time") or 0.0)
        if kind == "model":
            sums["models"] += seconds
        elif kind in ("test", "unit_test"):
            sums["tests"] += seconds
        elif kind == "seed":
            sums["seeds"] += seconds
        elif kind == "operation":
            sums["hooks"] += seconds
            if package == "elementary":
                sums["elementary hooks"] += seconds
    elapsed = float(document.get("elapsed_time") or 0.0)
    sums["execution (wall)"] = elapsed
    sums["startup+parse+artifacts"] = max(build_seconds - elapsed, 0.0)
    started = time.perf_counter()
    dbt.run(settings, ["parse", "--no-partial-parse"], log_name="dbt-parse-full", quiet=True)
    sums["parse (dbt parse)"] = time.perf_counter() - started
    perf = settings.dbt_target_dir / "perf_info.json"
    if perf.exists():
        sums["parse (load_all)"] = float(json.loads(perf.read_text()).get("load_all_elapsed") or 0.0)
    return sums
