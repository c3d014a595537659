"""What Dagster recorded of one `tidewater run`: the run's start and end, each step's start and end (and when the
executor launched its process), the steps' log lines and the metadata of what they materialized.

Read from the data folder's own instance (DAGSTER_HOME = DATA/dagster) once the command has ended, so the bench
adds no process to the run it measures and reads the same record `make ui` shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.runner import PID_TAG
from tidewater.orchestrate.settings import Settings


@dataclass(frozen=True)
class Step:
    key: str
    status: str
    start: float  # epoch seconds, the step's STEP_START
    end: float  # its STEP_SUCCESS (or failure)
    launched: float | None  # when the executor began starting its process (STEP_WORKER_STARTING)

    @property
    def seconds(self) -> float:
        return self.end - self.start


@dataclass
class RunRecord:
    run_id: str
    status: str
    start: float  # epoch seconds: the run's start and end as Dagster recorded them
    end: float
    steps: dict[str, Step] = field(default_factory=dict)
    messages: list[tuple[float, str, str]] = field(default_factory=list)  # (epoch s, step key, message)
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # step key -> what its materializations carry

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def step(self, key: str) -> Step:
        if key not in self.steps:
            raise TidewaterError(
                f"Dagster run {self.run_id[:8]} has no step {key!r} (its steps: {', '.join(sorted(self.steps))})"
            )
        return self.steps[key]

    def first_message(self, step_key: str, starts_with: str) -> float:
        """When the step first logged a line starting with `starts_with`."""
        for timestamp, key, message in self.messages:
            if key == step_key and message.startswith(starts_with):
                return timestamp
        raise TidewaterError(f"Dagster run {self.run_id[:8]}: step {step_key} logged no line {starts_with!r}")

    def idle_seconds(self) -> float:
        """Seconds of the run during which no step was executing: Dagster starting the run, between its steps
        (resources, recording each step's events) and recording its end."""
        busy = 0.0
        reached = self.start
        for step in sorted(self.steps.values(), key=lambda s: s.start):
            start, end = max(step.start, reached), min(step.end, self.end)
            if end > start:
                busy += end - start
                reached = end
        return max(self.seconds - busy, 0.0)

    def summary(self) -> dict[str, Any]:
        """For bench.json: each step's offset from the run's start, its seconds and its process launch time."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "seconds": self.seconds,
            "steps": {
                key: {
                    "status": step.status,
                    "started_after": step.start - self.start,
                    "seconds": step.seconds,
                    "launch_seconds": step.start - step.launched if step.launched is not None else None,
                }
                for key, step in sorted(self.steps.items(), key=lambda item: item[1].start)
            },
        }


def _plain(value: Any) -> Any:
    """A metadata entry's value as plain Python (Dagster wraps each: JsonMetadataValue, IntMetadataValue, ...)."""
    return getattr(value, "value", value)


def read(settings: Settings, pid: int) -> RunRecord:
    """The newest run that the `tidewater run` of process `pid` made in the data folder's instance."""
    from dagster import DagsterEventType, DagsterInstance, RunsFilter

    home = settings.dagster_home
    if not (home / "dagster.yaml").exists():
        raise TidewaterError(f"no Dagster instance in {home}: did `tidewater run` start?")
    with DagsterInstance.from_config(str(home)) as instance:
        # The bench started that process, so its pid finds its run exactly, whatever else the instance holds.
        runs = instance.get_runs(filters=RunsFilter(tags={PID_TAG: str(pid)}), limit=1)
        if not runs:
            raise TidewaterError(f"no Dagster run in {home} tagged {PID_TAG}={pid} (the `tidewater run` the bench ran)")
        run = runs[0]
        stats = instance.get_run_stats(run.run_id)
        if stats.start_time is None or stats.end_time is None:
            raise TidewaterError(f"Dagster run {run.run_id[:8]} has no start or end ({run.status.value})")
        record = RunRecord(run.run_id, run.status.value, stats.start_time, stats.end_time)
        launched: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                if entry.step_key and entry.user_message:
                    record.messages.append((entry.timestamp, entry.step_key, entry.user_message))
            elif event.event_type == DagsterEventType.STEP_WORKER_STARTING and entry.step_key:
                launched.setdefault(entry.step_key, entry.timestamp)
        for stats_of_step in instance.get_run_step_stats(run.run_id):
            if stats_of_step.start_time is None or stats_of_step.end_time is None:
                continue  # skipped, or never started
            key = stats_of_step.step_key
            status = stats_of_step.status.value if stats_of_step.status else "UNKNOWN"
            record.steps[key] = Step(key, status, stats_of_step.start_time, stats_of_step.end_time, launched.get(key))
            metadata: dict[str, Any] = {}
            for materialization in stats_of_step.materialization_events:
                if materialization.asset_materialization is not None:
                    for name, value in materialization.asset_materialization.metadata.items():
                        metadata.setdefault(name, _plain(value))
            record.metadata[key] = metadata
    return record
