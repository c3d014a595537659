"""An incremental day against a full refresh, on the data folder a full run just built: `tidewater run --days 1`
advances the sources one business day and runs incrementally; `--full-refresh` rebuilds every incremental mart.
Each is timed as the whole run is (its Dagster run's start to end), so the three compare. Detected from `tidewater
run`'s options: a lifecycle without them gets "not available" in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tidewater.bench.stages import run_lifecycle
from tidewater.orchestrate.settings import Settings

OPTIONS = ("--days", "--full-refresh")


def available() -> bool:
    from tidewater.orchestrate.cli import run

    options = {option for parameter in run.params for option in parameter.opts}
    return all(option in options for option in OPTIONS)


def run_incremental(settings: Settings, scale: float, seed: int, log_dir: Path) -> dict[str, Any]:
    """One incremental day, then a full refresh: each run's seconds and peak RSS, and the command's own seconds."""
    figures: dict[str, Any] = {}
    base = ["--scale", str(scale), "--seed", str(seed), "--no-docs"]
    for key, extra in (("incremental day", ["--days", "1"]), ("full refresh", ["--full-refresh"])):
        command, run = run_lifecycle(settings, [*base, *extra], log_dir / f"{key.replace(' ', '-')}.log")
        figures[key] = {
            "seconds": run.seconds,
            "peak_rss": command.sampler.peak(run.start, run.end),
            "command_seconds": command.seconds,
            "run_id": run.run_id,
        }
    return figures
