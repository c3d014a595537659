"""Dagster runs the lifecycle unattended: the asset graph from the sources to the docs, the daily schedule, the
landing-zone sensor, the marts' deadline, an alert for any failed step, and one run at a time on the warehouse.

Schedules and sensors are evaluated as the daemon evaluates them (Dagster's own evaluation contexts, on the data
folder's instance) and the runs they ask for are executed as the daemon would launch them, in a subprocess with the
data folder's settings, so each test holds its own Dagster instance and nothing is left running.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import (
    BIN,
    assert_reconciled,
    build_results,
    copy_data_folder,
    rows,
    run,
    scalar,
    tidewater_cli,
    webhook,
)

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings


def in_dagster(settings: Settings, code: str, extra_env: dict[str, str] | None = None, timeout: float = 900) -> Any:
    """Run `code` in a fresh Python with the data folder's settings and Dagster instance, the definitions loaded
    as `d` and the instance as `instance`; it prints its answer as JSON on its last line."""
    script = "\n".join(
        [
            "import json",
            "from tidewater.orchestrate.runner import instance as _instance",
            "from tidewater.orchestrate.settings import Settings",
            "settings = Settings.load()",
            "instance = _instance(settings)",
            "from tidewater.orchestrate import definitions as d",
            textwrap.dedent(code),
        ]
    )
    env = {**settings.env(), **(extra_env or {})}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    PostgresServer(settings.postgres_dir).stop()  # a run this started may have left the app database up
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


EXECUTE = """
from dagster import execute_job
result = execute_job(d.reconstructable(JOB), instance=instance, tags=TAGS, raise_on_error=False)
print(json.dumps({"success": result.success, "run_id": result.run_id}))
"""


def execute(settings: Settings, job: str, tags: dict[str, str], extra_env: dict[str, str] | None = None) -> dict:
    """The run a schedule or sensor asked for, executed as the daemon's run launcher would."""
    code = EXECUTE.replace("JOB", repr(job)).replace("TAGS", repr(tags))
    return in_dagster(settings, code, extra_env)


# -- the asset graph ------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_asset_graph_runs_from_the_sources_to_the_docs(built: Built) -> None:
    graph = in_dagster(
        built.settings,
        """
        graph = d.defs.resolve_asset_graph()
        keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
        parents = {
            key.to_user_string(): sorted(parent.to_user_string() for parent in graph.get(key).parent_keys)
            for key in graph.get_all_asset_keys()
        }
        checks = sorted(check.to_user_string() for check in graph.asset_check_keys)
        print(json.dumps({
            "keys": sorted(keys), "parents": parents, "checks": checks,
            "groups": sorted({graph.get(key).group_name for key in graph.get_all_asset_keys()}),
            "jobs": sorted(job.name for job in d.defs.jobs),
            "schedules": sorted(s.name for s in d.defs.schedules),
            "sensors": sorted(s.name for s in d.defs.sensors),
        }))
        """,
    )
    parents = graph["parents"]
    # One path through the lifecycle, edge by edge.
    assert "sources/app" in parents["raw_app/orders"]
    assert "raw_app/orders" in parents["staging/stg_app__orders"]
    assert any(p.startswith(("staging/", "intermediate/")) for p in parents["marts/fct_orders"])
    assert any(p.startswith(("marts/", "intermediate/")) for p in parents["metrics/metrics_daily"])
    assert "observability/source_freshness" in parents["observability/dbt_docs"]
    # Every source Meltano declares loads as an asset of its own; the reconciliation snapshot follows the loads.
    assert {"raw_app/customers", "raw_events/events", "raw_marketing/marketing_spend"} <= set(graph["keys"])
    assert set(parents["audit/source_keys"]) >= {"raw_app/orders", "raw_events/events"}
    assert {"sources", "raw", "reference", "staging", "intermediate", "marts", "metrics", "snapshots"} <= set(
        graph["groups"]
    )
    # dbt's tests are asset checks, the marts have freshness checks.
    assert "marts/fct_orders:unique_fct_orders_order_id" in graph["checks"]
    assert "marts/fct_orders:freshness_check" in graph["checks"]
    assert {"lifecycle", "load_and_build", "marts_deadline"} <= set(graph["jobs"])
    assert graph["schedules"] == ["daily"]
    assert {"landing_zone", "marts_deadline", "marts_deadline_alerts"} <= set(graph["sensors"])


# -- the daily schedule ---------------------------------------------------------------------------------------


@pytest.mark.drill
def test_the_daily_schedule_moves_the_sources_one_business_day_on(drill_folder: Settings) -> None:
    requests = in_dagster(
        drill_folder,
        """
        from dagster import build_schedule_context
        with build_schedule_context(instance=instance, repository_def=d.defs.get_repository_def()) as context:
            result = d.defs.get_schedule_def("daily").evaluate_tick(context)
        print(json.dumps([{"partition": r.partition_key, "tags": dict(r.tags)} for r in result.run_requests]))
        """,
    )
    assert [request["partition"] for request in requests] == ["2026-11-01"]
    launched = execute(drill_folder, "lifecycle", requests[0]["tags"])
    assert launched["success"]
    # Day 1 arrived and was built, at the folder's own scale (the schedule passes no settings of its own).
    assert json.loads((drill_folder.data_dir / "run-parameters.json").read_text())["scale"] == 0.01
    assert scalar(drill_folder, "select max(cast(ordered_at as date)) from marts.fct_orders") == date(2026, 11, 1)
    assert_reconciled(drill_folder)


# -- the landing-zone sensor ----------------------------------------------------------------------------------

SENSOR = """
from dagster import build_sensor_context
context = build_sensor_context(instance=instance, definitions=d.defs)
result = d.defs.get_sensor_def("landing_zone").evaluate_tick(context)
print(json.dumps({
    "requests": [{"partition": r.partition_key, "job": r.job_name, "tags": dict(r.tags)} for r in result.run_requests],
    "skip": result.skip_message,
}))
"""


@pytest.mark.drill
def test_files_landing_in_the_landing_zone_start_a_load_and_build(drill_folder: Settings) -> None:
    settings = drill_folder
    quiet = in_dagster(settings, SENSOR)
    assert quiet["requests"] == [] and "no file landed" in quiet["skip"]

    late = settings.landing_dir / "events" / "2026-10-30" / "arrived-by-hand.jsonl"
    late.write_text(
        "".join(
            json.dumps(
                {
                    "event_id": f"evt_sensor_{i}",
                    "event_type": "page_view",
                    "occurred_at": "2026-10-30T10:0{i}:00Z",
                    "anonymous_id": "anon_sensor",
                    "page_url": "/",
                }
            )
            + "\n"
            for i in range(3)
        )
    )
    woken = in_dagster(settings, SENSOR)
    (request,) = woken["requests"]
    assert request["partition"] == "2026-10-31"  # the sources' current business day: time does not move
    launched = execute(settings, "load_and_build", request["tags"])
    assert launched["success"]
    assert scalar(settings, "select count(*) from raw_events.events where event_id like 'evt_sensor_%'") == 3
    assert_reconciled(settings)
    assert in_dagster(settings, SENSOR)["requests"] == [], "the loaded file woke the sensor again"


# -- the marts' deadline ----------------------------------------------------------------------------------------

DEADLINE = """
from dagster import build_sensor_context
if CURSOR is None:  # the first tick after the deadline: Dagster's freshness sensor has the checks evaluated
    d.job("marts_deadline").execute_in_process(instance=instance, raise_on_error=False)
context = build_sensor_context(instance=instance, definitions=d.defs, cursor=CURSOR)
result = d.defs.get_sensor_def("marts_deadline_alerts").evaluate_tick(context)
print(json.dumps({"skip": result.skip_message, "cursor": result.cursor}))
"""


def deadline(settings: Settings, env: dict[str, str], cursor: str | None = None) -> dict[str, Any]:
    """Dagster's freshness checks on the marts, then our sensor that alerts on their failures (with the cursor the
    daemon would keep between ticks)."""
    return in_dagster(settings, DEADLINE.replace("CURSOR", repr(cursor)), env)


@pytest.mark.drill
def test_marts_not_built_by_the_deadline_raise_one_alert(built: Built, tmp_path: Path) -> None:
    fresh = copy_data_folder(built.settings.data_dir, tmp_path / "built")
    never = copy_data_folder(built.settings.data_dir, tmp_path / "never")
    shutil.rmtree(never.dagster_home)  # an instance that never built the marts
    with webhook() as receiver:
        env = {"TIDEWATER_ALERT_WEBHOOK": receiver.url}
        overdue = deadline(never, env)
        assert "alerted" in overdue["skip"]
        assert len(receiver.received) == 1
        text = receiver.text()
        assert "marts not fresh by 08:00 UTC" in text and "marts/fct_orders: " in text and "never built" in text
        again = deadline(never, env, overdue["cursor"])  # the next tick: the same failures, already alerted
        on_time = deadline(fresh, env)
    assert "already alerted" in again["skip"]
    assert "every mart fresh" in on_time["skip"]
    assert len(receiver.received) == 1, "a fresh mart or an alerted failure alerted again"


# -- alerts on failure ------------------------------------------------------------------------------------------


@pytest.mark.drill
def test_a_failed_load_sends_one_alert_naming_the_step_the_error_and_the_log(drill_folder: Settings) -> None:
    """Someone saves the spreadsheet with a stray thousands separator in one amount (one value too many in a row):
    the landing-zone sensor asks for a load, whose marketing step fails, and the alert says where and why."""
    spreadsheet = drill_folder.landing_dir / "marketing" / "marketing_spend.csv"
    lines = spreadsheet.read_text().splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.count(",") == 5 and ".50," in line)
    lines[row] = lines[row].replace(".50,", ",5,", 1)  # 12.50 -> 12,5 : the amount splits in two
    spreadsheet.write_text("".join(lines))
    (request,) = in_dagster(drill_folder, SENSOR)["requests"]
    with webhook() as receiver:
        launched = execute(
            drill_folder, "load_and_build", request["tags"], extra_env={"TIDEWATER_ALERT_WEBHOOK": receiver.url}
        )
    assert not launched["success"]
    (alert,) = receiver.received
    text = receiver.text()
    assert "Tidewater: extract_load_marketing failed" in text
    assert "ShiftedColumnError" in text and f"line {row + 1}" in text
    assert str(drill_folder.logs_dir / "el-tap-spreadsheets.log") in text
    assert f"runs/{launched['run_id']}" in text, alert


@pytest.mark.drill
def test_a_failing_error_test_sends_one_alert_naming_the_build_and_the_test(drill_folder: Settings) -> None:
    """A customer lost between the source and raw (removed from raw after its load): the reconciliation test, an
    error-level test, fails the build, and the alert names it."""
    (lost,) = rows(drill_folder, "select max(customer_id) from raw_app.customers")[0]
    with warehouse.connect(drill_folder.warehouse, read_only=False) as connection:
        connection.execute("delete from raw_app.customers where customer_id = ?", [lost])
    with webhook() as receiver:
        result = run(drill_folder, extra_env={"TIDEWATER_ALERT_WEBHOOK": receiver.url})
    assert result.returncode == 2
    assert build_results(drill_folder)["assert_source_keys_reach_raw_and_marts"]["status"] == "fail"
    assert len(receiver.received) == 1, receiver.received
    text = receiver.text()
    assert "Tidewater: dbt_build failed" in text
    assert "assert_source_keys_reach_raw_and_marts" in text and "dbt-build.log" in text


# -- one run at a time ----------------------------------------------------------------------------------------


@pytest.mark.drill
def test_a_run_the_schedule_started_keeps_tidewater_run_off_the_warehouse(drill_folder: Settings) -> None:
    in_dagster(
        drill_folder,
        """
        from dagster import DagsterRunStatus
        job = d.job("lifecycle")
        run = instance.create_run_for_job(job, tags={"dagster/schedule_name": "daily"}, status=DagsterRunStatus.STARTED)
        print(json.dumps(run.run_id))
        """,
    )
    result = tidewater_cli("run", "--scale", "0.01", "--no-docs", data_dir=drill_folder.data_dir)
    assert result.returncode == 2
    assert "warehouse is locked by another run" in result.stderr and "Dagster run" in result.stderr
