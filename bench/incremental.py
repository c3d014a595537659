"""An incremental day against a full refresh, when the pipeline has them (`tidewater run --days N` advances the
sources N days and runs incrementally; `--full-refresh` rebuilds). Detected from `tidewater run --help` at run
time: a pipeline without them gets "not available" in the report."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tidewater.bench.stages import tidewater_command, timed_subprocess
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

OPTIONS = ("--days", "--full-refresh")


def available() -> bool:
    result = subprocess.run(
        tidewater_command(Path("."), "run", "--help"), capture_output=True, text=True, cwd=PROJECT_ROOT, check=False
    )
    return result.returncode == 0 and all(option in result.stdout for option in OPTIONS)


def run_incremental(paths: Settings, scale: float, seed: int, log_dir: Path) -> dict[str, Any]:
    """On a data folder a full run just built: one incremental day, then a full refresh, each timed whole."""
    pidfile = paths.postgres_dir / "pgdata" / "postmaster.pid"
    figures: dict[str, Any] = {}
    base = ["run", "--scale", str(scale), "--seed", str(seed), "--no-docs"]
    for key, extra in (("incremental day", ["--days", "1"]), ("full refresh", ["--full-refresh"])):
        command = tidewater_command(paths.data_dir, *base, *extra)
        seconds, sampler = timed_subprocess(command, log_file=log_dir / f"{key.replace(' ', '-')}.log", pidfile=pidfile)
        figures[key] = {"seconds": seconds, "peak_rss": sampler.peak()}
    return figures
