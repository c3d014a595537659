"""The runs a user makes on a data folder a full run just built, each `tidewater run` again on it: one that finds
nothing new (`--days 0`: what any run costs whatever the data), an incremental day (`--days 1` advances the sources
one business day and runs incrementally) and a full refresh (`--full-refresh` rebuilds every incremental mart).
Each is timed as the whole run is (its Dagster run's start to end), so they compare with it. Detected from
`tidewater run`'s options: a lifecycle without them gets "not available" in the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tidewater.bench.stages import run_lifecycle
from tidewater.orchestrate.settings import Settings

OPTIONS = ("--days", "--full-refresh")
# In this order: nothing new first, while the folder is exactly what the full run left (the incremental day then
# moves the sources on, and the full refresh rebuilds what that day changed).
RUNS: tuple[tuple[str, list[str]], ...] = (
    ("nothing new", ["--days", "0"]),
    ("incremental day", ["--days", "1"]),
    ("full refresh", ["--full-refresh"]),
)


def available() -> bool:
    from tidewater.orchestrate.cli import run

    options = {option for parameter in run.params for option in parameter.opts}
    return all(option in options for option in OPTIONS)


def run_incremental(settings: Settings, scale: float, seed: int, log_dir: Path) -> dict[str, Any]:
    """Each of RUNS in turn: its run's seconds and peak RSS, and the command's own seconds."""
    figures: dict[str, Any] = {}
    base = ["--scale", str(scale), "--seed", str(seed), "--no-docs"]
    for key, extra in RUNS:
        command, run = run_lifecycle(settings, [*base, *extra], log_dir / f"{key.replace(' ', '-')}.log")
        figures[key] = {
            "seconds": run.seconds,
            "peak_rss": command.sampler.peak(run.start, run.end),
            "command_seconds": command.seconds,
            "run_id": run.run_id,
        }
    return figures
