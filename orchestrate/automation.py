"""What runs unattended (under `make ui`, whose daemon ticks them):

- the daily schedule moves the sources one business day on and runs the whole lifecycle for it;
- the landing-zone sensor starts a load-and-build run when files land that no load has read yet;
- the marts' deadline: freshness checks on every mart (Dagster's own), evaluated by Dagster's freshness sensor, and
  an alert to the webhook when one fails (the marts were not built by the configured time of day).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    SupersessionWarning,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    schedule,
    sensor,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from tidewater.generate.advance import recorded_days_advanced
from tidewater.orchestrate import alerts
from tidewater.orchestrate.assets.extract_load import STARTED_AT
from tidewater.orchestrate.assets.sources import ON_APP_DATABASE, SYSTEMS
from tidewater.orchestrate.partitions import partition_key
from tidewater.orchestrate.settings import Settings

# The landing zone's delivery folders, one per file-based source system (the generator's own records start with "_"
# or ".").
LANDING_FOLDERS = tuple(name for name in SYSTEMS if name not in ON_APP_DATABASE)
# How long before the deadline the marts' last build may be: a day (the daily run's window).
DEADLINE_WINDOW = timedelta(hours=24)


def daily_schedule(settings: Settings, job: Any) -> object:
    @schedule(
        name="daily",
        cron_schedule=settings.daily_schedule,
        execution_timezone=settings.timezone,
        job=job,
        default_status=DefaultScheduleStatus.RUNNING,
        description="Each day: the sources move one business day on, then load, build, docs and report.",
    )
    def daily(context: ScheduleEvaluationContext) -> RunRequest:
        day = recorded_days_advanced(Settings.load().landing_dir) + 1
        return RunRequest(run_key=partition_key(day), partition_key=partition_key(day))

    return daily


def landed_files(settings: Settings) -> dict[str, float]:
    """Every delivered file in the landing zone with its modification time."""
    found: dict[str, float] = {}
    for folder in LANDING_FOLDERS:
        root = settings.landing_dir / folder
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and not path.name.startswith(("_", ".")):
                found[path.relative_to(settings.landing_dir).as_posix()] = path.stat().st_mtime
    return found


def landing_zone_sensor(job: Any, watched: Sequence[AssetKey]) -> object:
    @sensor(
        name="landing_zone",
        job=job,
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Starts a load-and-build run when files land that no load has read yet.",
    )
    def landing_zone(context: SensorEvaluationContext) -> RunRequest | SkipReason:
        settings = Settings.load()
        loads = [context.instance.get_latest_materialization_event(key) for key in watched]
        # A file written after the last load of its kind started may not have been read: load again.
        started = [
            float(event.asset_materialization.metadata[STARTED_AT].value)
            for event in loads
            if event is not None and event.asset_materialization and STARTED_AT in event.asset_materialization.metadata
        ]
        since = min(started) if len(started) == len(watched) else 0.0
        files = landed_files(settings)
        new = sorted(name for name, mtime in files.items() if mtime > since)
        if not new:
            return SkipReason("no file landed since the last load")
        day = partition_key(recorded_days_advanced(settings.landing_dir))
        newest = max(files[name] for name in new)
        context.log.info(f"{len(new)} file(s) landed since the last load, e.g. {new[:3]}")
        return RunRequest(run_key=f"landed-{newest:.6f}", partition_key=day, tags={"tidewater/landed": str(len(new))})

    return landing_zone


def marts_freshness(settings: Settings, marts: Sequence[AssetKey]) -> Sequence[AssetChecksDefinition]:
    """A check per mart: built within the day before the deadline, else failed (Dagster's last-update check).

    Dagster now prefers FreshnessPolicy objects, evaluated by its daemon; alerting on their state is a Dagster+
    feature. These checks run anywhere (in a test too) and a failed one is an event our sensor can alert on."""
    warnings.filterwarnings("ignore", category=SupersessionWarning)
    return build_last_update_freshness_checks(
        assets=list(marts),
        lower_bound_delta=DEADLINE_WINDOW,
        deadline_cron=settings.marts_deadline_cron,
        timezone=settings.timezone,
    )


def deadline_sensors(settings: Settings, checks: Sequence[AssetChecksDefinition]) -> list[object]:
    """Dagster's freshness sensor evaluates the checks when they may have become overdue; ours alerts once for each
    failed evaluation."""
    evaluate = build_sensor_for_freshness_checks(
        freshness_checks=checks, name="marts_deadline", default_status=DefaultSensorStatus.RUNNING
    )
    check_keys = [key for definition in checks for key in definition.check_keys]

    @sensor(
        name="marts_deadline_alerts",
        minimum_interval_seconds=60,
        default_status=DefaultSensorStatus.RUNNING,
        description="Sends an alert when the marts were not built by the deadline (a failed freshness check).",
    )
    def marts_deadline_alerts(context: SensorEvaluationContext) -> SkipReason:
        seen = int(context.cursor or 0)
        records = [context.instance.get_latest_asset_check_evaluation_record(key) for key in check_keys]
        failed = [
            r for r in records if r is not None and r.id > seen and r.status == AssetCheckExecutionRecordStatus.FAILED
        ]
        if not failed:
            return SkipReason("every mart fresh, or its failure already alerted")
        current = Settings.load()
        lines = [
            f"{'/'.join(record.key.asset_key.path)}: {_overdue(record)}"
            for record in sorted(failed, key=lambda r: r.key.asset_key.path)
        ]
        alerts.send(current, f"Tidewater: marts not fresh by {current.marts_deadline} {current.timezone}", lines)
        context.update_cursor(str(max(record.id for record in failed)))
        return SkipReason(f"alerted: {len(failed)} mart(s) not fresh by the deadline")

    return [evaluate, marts_deadline_alerts]


def _overdue(record: object) -> str:
    event = getattr(record, "event", None)
    evaluation = event.dagster_event.event_specific_data if event and event.dagster_event else None
    metadata = getattr(evaluation, "metadata", {}) or {}
    last = metadata.get("dagster/last_updated_timestamp")
    overdue = metadata.get("dagster/overdue_seconds")
    parts = [f"overdue by {int(overdue.value) // 60} min" if overdue is not None else "overdue"]
    parts.append(f"last built {last.value}" if last is not None else "never built")
    return ", ".join(parts)
