"""`tidewater run` (`make run`): the `lifecycle` job for the next business days, in this process's Dagster instance
(the data folder's, so `make ui` shows the run), without a daemon; then what a person wants to know."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from dagster import AssetKey, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter, execute_job

from tidewater.generate.advance import SCHEMA_CHANGE_DAY, recorded_days_advanced
from tidewater.generate.config import GenerationConfig
from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import dbt, warehouse
from tidewater.orchestrate.commands import GRACE_SECONDS
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import partition_key
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources
from tidewater.serve.reverse_etl.assets import CRM, WEBHOOK

LAUNCHED_BY = "tidewater/launched_by"
PID_TAG = "tidewater/pid"  # the process that ran it (the bench finds its runs by it)
CLI = "tidewater run"
IN_PROGRESS = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
# The docs and Elementary's report (and its alerts) are left out by --no-docs; the alerts without a webhook; the
# reverse ETL sync (the CRM and the webhook, one step) by --no-sync.
DOCUMENTS = [AssetKey(["observability", name]) for name in ("dbt_docs", "elementary_report", "elementary_alerts")]
ALERTS = AssetKey(["observability", "elementary_alerts"])
SYNC = [CRM, WEBHOOK]

INSTANCE_YAML = """\
# Dagster's instance for this data folder (written by tidewater; see orchestrate/runner.py).
telemetry:
  enabled: false
nux:
  enabled: false
# One run at a time: every run writes the one warehouse file. Runs the schedule and sensors start wait in the queue.
run_coordinator:
  module: dagster.core.run_coordinator
  class: QueuedRunCoordinator
  config:
    max_concurrent_runs: 1
run_monitoring:
  enabled: true
# Dagster's own lines on the console from INFO up (the per-step "executing in subprocess" notes are DEBUG).
python_logs:
  python_log_level: INFO
"""


def instance(settings: Settings) -> DagsterInstance:
    """The data folder's Dagster instance (run history, event log, schedules' state)."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists() or config.read_text() != INSTANCE_YAML:
        config.write_text(INSTANCE_YAML)
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    return DagsterInstance.get()


@dataclass
class RunSummary:
    run_id: str
    days: tuple[str, str]
    rows_per_layer: list[tuple[str, int, int]] = field(default_factory=list)
    tests: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _refuse_or_clear_runs_in_progress(dagster: DagsterInstance, settings: Settings) -> None:
    """With the run lock held, a run of `tidewater run` still marked in progress was killed: mark it failed. A run
    the schedule or a sensor started is genuinely going: stop, as for any other run holding the warehouse."""
    for run in dagster.get_runs(filters=RunsFilter(statuses=IN_PROGRESS)):
        if run.tags.get(LAUNCHED_BY) == CLI:
            dagster.report_run_failed(run, "the process running it ended without finishing it (killed?)")
        else:
            raise TidewaterError(
                f"warehouse is locked by another run: {settings.warehouse} (held by Dagster run {run.run_id[:8]} of "
                f"{run.job_name}, see `make ui`)"
            )


def run(
    settings: Settings,
    *,
    seed: int | None,
    scale: float | None,
    docs: bool = True,
    sync: bool = True,
    anomaly: str | None = None,
    days: int = 0,
    full_refresh: bool = False,
    schema_change_day: int = SCHEMA_CHANGE_DAY,
) -> RunSummary:
    """The lifecycle for the next `days` business days (0: the current one again), holding the warehouse's run
    lock throughout. PostgreSQL is stopped at the end if this run started it."""
    if days < 0:
        raise TidewaterError(f"--days must be 0 or more, got {days}")
    try:  # bad generation settings fail before anything starts
        GenerationConfig(
            seed=seed if seed is not None else 0, scale=scale if scale is not None else 1.0, anomaly=anomaly
        )
    except ValueError as exc:
        raise TidewaterError(f"invalid generation settings: {exc}") from exc
    with warehouse.run_lock(settings.warehouse, CLI):
        dagster = instance(settings)
        _refuse_or_clear_runs_in_progress(dagster, settings)
        warehouse.ensure_writable(settings.warehouse)
        os.environ.update(settings.env())  # the steps' processes, Meltano and dbt read these
        dbt.manifest(settings)  # parsed again if a model changed
        server = PostgresServer(settings.postgres_dir)
        was_running = server.is_running()
        try:
            return _execute(settings, dagster, seed, scale, docs, sync, anomaly, days, full_refresh, schema_change_day)
        except BaseException:  # a failure, Ctrl-C or SIGTERM (cli.py)
            _stop_what_this_run_started()
            raise
        finally:
            if not was_running and server.is_running():
                server.stop()
                print("==> PostgreSQL stopped", flush=True)


def _stop_what_this_run_started() -> None:
    """A stopped run (Ctrl-C, SIGTERM) stops every process it started that is still alive: a step's Meltano or dbt
    left running would go on writing the warehouse without the run's lock."""
    import psutil

    def multiprocessing_helper(process: psutil.Process) -> bool:
        # multiprocessing's resource tracker ends with this process; stopped first, it prints tracebacks.
        with contextlib.suppress(psutil.Error):
            return "resource_tracker" in " ".join(process.cmdline())
        return True

    children = [child for child in psutil.Process().children(recursive=True) if not multiprocessing_helper(child)]
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _, alive = psutil.wait_procs(children, timeout=GRACE_SECONDS)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def _execute(
    settings: Settings,
    dagster: DagsterInstance,
    seed: int | None,
    scale: float | None,
    docs: bool,
    sync: bool,
    anomaly: str | None,
    days: int,
    full_refresh: bool,
    schema_change_day: int,
) -> RunSummary:
    from tidewater.orchestrate import definitions

    current = recorded_days_advanced(settings.landing_dir)
    first, last = partition_key(current + (1 if days else 0)), partition_key(current + days)
    tags = {
        "dagster/asset_partition_range_start": first,
        "dagster/asset_partition_range_end": last,
        LAUNCHED_BY: CLI,
        PID_TAG: str(os.getpid()),
    }
    run_config = {
        "loggers": {"console": {}},
        "ops": {
            "generate_sources": {
                "config": {"seed": seed, "scale": scale, "anomaly": anomaly, "schema_change_day": schema_change_day}
            },
            "dbt_build": {"config": {"full_refresh": full_refresh}},
        },
    }
    left_out = ([] if docs else DOCUMENTS) + ([] if settings.alert_webhook else [ALERTS]) + ([] if sync else SYNC)
    selection = [key for asset in definitions.assets for key in asset.keys if key not in left_out]
    print(f"==> business day{'s' if first != last else ''} {first}{f' to {last}' if first != last else ''}", flush=True)
    result = execute_job(
        definitions.reconstructable("lifecycle"),
        instance=dagster,
        run_config=run_config,
        tags=tags,
        asset_selection=selection,
        raise_on_error=False,
    )
    run_record = dagster.get_run_by_id(result.run_id)
    if not result.success:
        raise TidewaterError(_failures(result.all_events, result.run_id))
    return _summary(settings, run_record, (first, last))


def _failures(events: list[Any], run_id: str) -> str:
    """Each failed step with its error's first lines (they name the log), then where the run is."""
    lines = []
    for event in events:
        if event.is_step_failure:
            error = event.event_specific_data.error
            cause = error.cause if error is not None and error.cause is not None else error
            message = (cause.message if cause is not None else "").strip()
            message = message.removeprefix("tidewater.orchestrate.errors.TidewaterError: ")
            message = message.removeprefix("dagster._core.definitions.events.Failure: ")
            lines.append(f"{event.step_key} failed: " + "\n      ".join(message.splitlines()[:12]))
    where = f"Dagster run {run_id[:8]} (`make ui` shows it)"
    return "\n    ".join(lines) + f"\n    {where}" if lines else f"the run did not start: {where}"


def _summary(settings: Settings, run: DagsterRun | None, days: tuple[str, str]) -> RunSummary:
    summary = RunSummary(run_id=run.run_id if run else "", days=days)
    stats = None
    if run is not None:
        stats = DagsterInstance.get().get_run_stats(run.run_id)
        if stats.start_time and stats.end_time:
            summary.seconds = stats.end_time - stats.start_time
    summary.rows_per_layer = warehouse.rows_per_layer(warehouse.table_counts(settings.warehouse), layers(settings))
    if settings.build_results_file.exists():
        for result in json.loads(settings.build_results_file.read_text())["results"]:
            kind, status = result["unique_id"].split(".")[0], result["status"]
            if kind in ("test", "unit_test"):
                summary.tests[status] = summary.tests.get(status, 0) + 1
                if status in ("warn", "fail", "error"):
                    summary.warnings.append(f"{status}: {result['unique_id'].split('.')[2]} ({result.get('message')})")
    return summary


def layers(settings: Settings) -> list[tuple[str, list[str]]]:
    """The warehouse's layers in the order data flows: raw (one schema per source Meltano loads), then the project's
    dbt schemas: seeds, the models' layers in the order of models/' folders in dbt_project.yml, snapshots."""
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text())
    project = manifest["metadata"]["project_name"]
    folders = list(manifest_folders(settings))
    ranked: dict[str, tuple[int, int, str]] = {}
    for node in manifest["nodes"].values():
        kind = node["resource_type"]
        if node["package_name"] != project or kind not in ("seed", "model", "snapshot"):
            continue
        schema = node["schema"]
        if kind == "seed":
            rank = (0, 0, f"{schema} (seeds)")
        elif kind == "snapshot":
            rank = (2, 0, f"{schema} (history)")
        else:
            folder = node["fqn"][1]
            rank = (1, folders.index(folder) if folder in folders else len(folders), schema)
        ranked[schema] = min(ranked.get(schema, rank), rank)
    raw = [("raw", [source.load_schema for source in meltano_sources()])]
    return raw + [(label, [schema]) for schema, (_, _, label) in sorted(ranked.items(), key=lambda item: item[1])]


def manifest_folders(settings: Settings) -> list[str]:
    """models/' first-level folders in the order dbt_project.yml configures them (staging, intermediate, ...)."""
    import yaml

    project = yaml.safe_load((settings.project_root / "dbt_project.yml").read_text())
    return [key for key in (project.get("models", {}).get(project["name"], {}) or {}) if not key.startswith("+")]


def print_summary(settings: Settings, summary: RunSummary) -> None:
    print()
    print("Tidewater run complete")
    print(
        f"  business days: {summary.days[0]}" + (f" to {summary.days[1]}" if summary.days[1] != summary.days[0] else "")
    )
    print(f"  warehouse: {settings.warehouse}")
    if settings.docs_file.exists():
        print(f"  docs:      {settings.docs_file}")
    if settings.report_file.exists():
        print(f"  report:    {settings.report_file} (Elementary)")
    print(f"  runs:      `make ui` then http://127.0.0.1:{settings.ui_port}/runs/{summary.run_id} (Dagster)")
    if (settings.serving_dir / "current").exists():
        print(f"  dashboards: `make dashboards` then http://127.0.0.1:{settings.dashboards_port} (Streamlit)")
        print(
            f"  suppliers' API: `make serve` then http://127.0.0.1:{settings.api_port}/v1/sales/daily with a token "
            "(`tidewater api-token issue SUPPLIER_ID`)"
        )
    print("  rows per layer:")
    for layer, relations, rows in summary.rows_per_layer:
        print(f"    {layer:<20} {relations:>3} relations {rows:>12,} rows")
    if summary.tests:
        print("  dbt tests: " + ", ".join(f"{count} {status}" for status, count in sorted(summary.tests.items())))
    for line in summary.warnings:
        print(f"    {line}")
    print(f"  total time: {summary.seconds:.0f} s")
