"""Dagster runs the lifecycle unattended: the asset graph from the sources to the docs, the marts' deadline, an alert
for any failed step, and one run at a time on the warehouse. The daily schedule runs the advanced days in
test_incremental; the landing-zone sensor loads the bad input in test_bad_input.

Schedules and sensors are evaluated as the daemon evaluates them (Dagster's own evaluation contexts, on the data
folder's instance) and the runs they ask for are executed as the daemon would launch them, in a subprocess with the
data folder's settings, so each test holds its own Dagster instance and nothing is left running.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import (
    build_results,
    copy_data_folder,
    execute,
    in_dagster,
    landing_zone_tick,
    rows,
    run,
    tidewater_cli,
    webhook,
)

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources

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
    assert any(p.startswith("marts/") for p in parents["observability/dbt_docs"])
    # Every source Meltano declares loads as an asset of its own; the reconciliation snapshot follows the loads.
    assert {"raw_app/customers", "raw_events/events", "raw_marketing/marketing_spend"} <= set(graph["keys"])
    assert set(parents["audit/source_keys"]) >= {"raw_app/orders", "raw_events/events"}
    assert {"sources", "raw", "reference", "staging", "intermediate", "marts", "metrics", "snapshots"} <= set(
        graph["groups"]
    )
    # Elementary's own tables are its storage, built when needed by the build step, not assets of the lifecycle.
    assert not [key for key in graph["keys"] if key.startswith("elementary/")]
    # dbt's tests are asset checks, the marts have freshness checks.
    assert "marts/fct_orders:unique_fct_orders_order_id" in graph["checks"]
    assert "marts/fct_orders:freshness_check" in graph["checks"]
    assert {"lifecycle", "load_and_build", "marts_deadline"} <= set(graph["jobs"])
    assert graph["schedules"] == ["daily"]
    assert {"landing_zone", "marts_deadline", "marts_deadline_alerts"} <= set(graph["sensors"])


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
    (request,) = landing_zone_tick(drill_folder)["requests"]
    with webhook() as receiver:
        launched = execute(
            drill_folder, "load_and_build", request["tags"], extra_env={"TIDEWATER_ALERT_WEBHOOK": receiver.url}
        )
    assert not launched["success"]
    (alert,) = receiver.received
    text = receiver.text()
    assert "Tidewater: extract_load failed" in text
    (marketing,) = [source for source in meltano_sources() if source.name == "marketing"]
    assert f"{marketing.label}: meltano run {marketing.extractor} {marketing.loader} failed" in text
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
