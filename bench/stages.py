"""One repeat of the pipeline, as a user runs it (`tidewater run`), with its figures per stage.

Wall times come from the pipeline's own timings (DATA/logs/run-timings.json); peak memory from sampling the RSS of
the `tidewater run` process tree and the PostgreSQL server (memory.py), cut by each step's start and end; dbt's
internals from the build's run_results.json and from a separate, timed `dbt parse` without partial parsing.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tidewater.bench.memory import RssSampler
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings, venv_tool

# Stage key -> how the pipeline's step name starts. Extract+load per source comes from the "el <extractor>" entries.
STEPS: dict[str, str] = {
    "postgres start": "starting PostgreSQL",
    "generate": "generating the sources",
    "extract+load": "extract and load with Meltano",
    "source snapshot": "source snapshot for reconciliation",
    "dbt build": "dbt build",
    "dbt source freshness": "dbt source freshness",
    "docs": "dbt docs generate",
    "report": "Elementary report",
}
EL_SOURCES: dict[str, str] = {"tap-postgres": "app", "tap-landing-zone": "events", "tap-spreadsheets": "marketing"}


def timed_subprocess(
    command: list[str], *, log_file: Path, env: dict[str, str] | None = None, pidfile: Path | None = None
) -> tuple[float, RssSampler]:
    """Run a command with its output in `log_file`, sampling its tree's RSS; fail with the log's tail."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
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
    return seconds, sampler


def tidewater_command(data_dir: Path, *args: str) -> list[str]:
    return [venv_tool("tidewater"), "--data-dir", str(data_dir), *args]


def run_pipeline(paths: Settings, scale: float, seed: int, log_file: Path) -> dict[str, dict[str, Any]]:
    """`tidewater run` into a fresh data folder; per stage: seconds, rows (extract+load) and peak RSS (bytes)."""
    pidfile = paths.postgres_dir / "pgdata" / "postmaster.pid"
    command = tidewater_command(paths.data_dir, "run", "--scale", str(scale), "--seed", str(seed))
    _, sampler = timed_subprocess(command, log_file=log_file, pidfile=pidfile)
    timings = json.loads(paths.run_timings_file.read_text())
    steps = timings["steps"]
    stages: dict[str, dict[str, Any]] = {}
    for step in steps:
        name = step["name"]
        if name.startswith("el "):
            key = f"extract+load {EL_SOURCES.get(name[3:], name[3:])}"
        else:
            key = next((k for k, prefix in STEPS.items() if name.startswith(prefix)), "")
            if not key:
                continue
        started = step.get("started")
        stages[key] = {
            "seconds": step["seconds"],
            "rows": step.get("rows"),
            "peak_rss": sampler.peak(started, started + step["seconds"]) if started else None,
        }
    missing = [key for key in [*STEPS, *(f"extract+load {s}" for s in EL_SOURCES.values())] if key not in stages]
    if missing:
        raise TidewaterError(
            f"the pipeline's timings have no step for: {', '.join(missing)} ({paths.run_timings_file})"
        )
    stages["extract+load"]["rows"] = sum(stages[f"extract+load {s}"]["rows"] or 0 for s in EL_SOURCES.values())
    # The run's wall time: some stages run side by side (the sources' loads; the docs beside the report), so their
    # seconds add up to more than the run took.
    stages["pipeline total"] = {"seconds": timings["wall_seconds"], "rows": None, "peak_rss": sampler.peak()}
    return stages


def read_env_file(paths: Settings) -> dict[str, str]:
    """The variables the pipeline wrote for this data folder (paths, PostgreSQL), for dbt run by hand."""
    pairs = (line.split("=", 1) for line in paths.env_file.read_text().splitlines() if "=" in line)
    return {key: value for key, value in pairs}


def dbt_internals(paths: Settings, build_seconds: float, log_file: Path) -> dict[str, float]:
    """Where `dbt build` spends its time. Sums of execution_time per kind (with 2 threads, busy time, not wall
    time); hooks are the on-run-start/end operations (Elementary's end hook uploads the run's results);
    overhead is the build's wall time less dbt's own elapsed time (interpreter start, parse, artifacts);
    parse is a separate `dbt parse --no-partial-parse`, timed, with dbt's perf_info.json."""
    document = json.loads(paths.build_results_file.read_text())
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
    env = read_env_file(paths)
    seconds, _ = timed_subprocess([venv_tool("dbt"), "parse", "--no-partial-parse"], log_file=log_file, env=env)
    sums["parse (dbt parse)"] = seconds
    perf = Path(env.get("DBT_TARGET_PATH", paths.dbt_target_dir)) / "perf_info.json"
    if perf.exists():
        sums["parse (load_all)"] = float(json.loads(perf.read_text()).get("load_all_elapsed") or 0.0)
    return sums
