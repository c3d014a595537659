"""Observability: Elementary's tables fill on every build, its report and the docs render in a real browser (and
the docs are still made when the report fails beside them), its alerts reach a webhook, the sources' freshness warns
and fails by its thresholds inside the build, and each injected anomaly is flagged while a normal day raises nothing
(a new column, Elementary's schema change, is flagged on the day the app adds one: test_incremental's advanced
days)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser import render
from conftest import Built
from dagster import DagsterEventType, DagsterInstance
from helpers import dbt_cli, materialize, ok, tidewater_cli, webhook

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings

ANOMALY_SCALE = 0.1  # about 40 orders and 300 events a day: enough for the anomaly tests to mean something


def _build_results(settings: Settings) -> dict[str, str]:
    results = json.loads(settings.build_results_file.read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results}


def _elementary_tests(settings: Settings) -> dict[str, str]:
    return {
        uid: status for uid, status in _build_results(settings).items() if uid.startswith("test.tidewater.elementary_")
    }


def _run(data_dir: Path, *extra: str) -> Settings:
    ok(tidewater_cli("run", "--scale", str(ANOMALY_SCALE), "--no-docs", "--no-sync", *extra, data_dir=data_dir))
    return Settings.load(data_dir)


# -- Elementary on every build ------------------------------------------------------------------------------


@pytest.mark.e2e
def test_elementary_tables_fill_on_every_build(built: Built) -> None:
    with warehouse.connect(built.settings.warehouse) as connection:
        counts = {
            table: connection.execute(f"select count(*) from elementary.{table}").fetchone()[0]
            for table in (
                "dbt_run_results",
                "elementary_test_results",
                "dbt_models",
                "dbt_tests",
                "schema_columns_snapshot",
                "dbt_invocations",
            )
        }
    assert all(rows > 0 for rows in counts.values()), counts


@pytest.mark.e2e
def test_elementary_tables_are_built_once_and_hold_the_projects_metadata(built: Built) -> None:
    """Elementary's own models ran before the first build, not in it (they are not rebuilt on every run), and its
    copy of the project's metadata has every model of the project."""
    results = json.loads(built.settings.build_results_file.read_text())["results"]
    assert not [r["unique_id"] for r in results if r["unique_id"].startswith("model.elementary.")]
    assert "dbt run --select package:elementary" in (built.settings.logs_dir / "dbt-elementary-models.log").read_text()
    manifest = json.loads((built.settings.dbt_target_dir / "manifest.json").read_text())
    models = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["package_name"] == "tidewater"
    }
    with warehouse.connect(built.settings.warehouse) as connection:
        uploaded = {
            r[0]
            for r in connection.execute(
                "select name from elementary.dbt_models where package_name = 'tidewater'"
            ).fetchall()
        }
    assert uploaded == models


@pytest.mark.e2e
def test_every_raw_table_has_a_schema_changes_test(built: Built) -> None:
    tests = _elementary_tests(built.settings)
    for table in (
        "app_customers",
        "app_products",
        "app_orders",
        "app_order_items",
        "app_payments",
        "events_events",
        "marketing_marketing_spend",
    ):
        assert any(f"schema_changes_{table}" in uid for uid in tests), table


# -- the report and the docs, in a real browser ---------------------------------------------------------


@pytest.mark.e2e
def test_elementary_report_is_one_file_that_renders(built: Built, tmp_path: Path) -> None:
    report = built.settings.report_file
    assert report.exists() and report.stat().st_size > 100_000
    assert '<script src="http' not in report.read_text(errors="replace"), "the report must not load scripts"
    dom = render(report.as_uri(), tmp_path / "elementary.png")
    assert (tmp_path / "elementary.png").stat().st_size > 10_000
    assert "Test results breakdown" in dom and "Tests" in dom
    assert "Schema changes" in dom


@pytest.mark.e2e
def test_dbt_docs_render_with_models_and_tests(built: Built, tmp_path: Path) -> None:
    url = built.settings.docs_file.as_uri() + "#!/model/model.tidewater.fct_orders"
    dom = render(url, tmp_path / "docs.png")
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    assert "fct_orders" in dom and "order_revenue" in dom
    assert "One row per order" in dom  # the model's description, not an error page


@pytest.mark.drill
def test_a_failing_report_lets_the_docs_finish_and_fails_the_step_naming_it(drill_folder: Settings) -> None:
    """The docs and the report run side by side in one step: the report failing (a folder where its file goes)
    leaves the docs to finish, and the step fails with the report's own error and its log."""
    settings = drill_folder
    settings.report_file.unlink()
    settings.report_file.mkdir()
    docs_before = settings.docs_file.stat().st_mtime
    result = materialize(settings, "group:observability", "--partition", "2026-10-31")  # the built folder's day
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "dbt docs: made in" in output, output[-3000:]
    assert settings.docs_file.stat().st_mtime > docs_before
    assert f"edr report failed (exit 1); log: {settings.logs_dir / 'edr-report.log'}" in output, output[-3000:]
    assert f"IsADirectoryError: [Errno 21] Is a directory: '{settings.report_file}'" in output
    # Nothing after it runs on a half-made step: the alerts' step never started.
    dagster = DagsterInstance.from_config(str(settings.dagster_home))
    (last,) = dagster.get_runs(limit=1)
    started = {event.step_key for event in dagster.all_logs(last.run_id, of_type=DagsterEventType.STEP_START)}
    assert "docs_and_report" in started and "elementary_alerts" not in started, started


# -- source freshness, inside the build ---------------------------------------------------------------------


@pytest.mark.drill
def test_source_freshness_warns_past_warn_after_and_fails_past_error_after(drill_folder: Settings) -> None:
    """The events loaded two days ago (warn_after 24 h), the landing files eight days ago (error_after 7 days): the
    build's freshness tests, run here by plain `dbt test` as a user would, say so; every other source is fresh."""
    with warehouse.connect(drill_folder.warehouse, read_only=False) as connection:
        connection.execute("update raw_events.events set _sdc_batched_at = _sdc_batched_at - interval 2 day")
        connection.execute("update raw_events.landing_files set _sdc_batched_at = _sdc_batched_at - interval 8 day")
    result = dbt_cli(drill_folder, "test", "--select", "test_name:is_fresh", timeout=300)
    assert result.returncode == 1, result.stdout[-3000:]  # an error-level test failed
    results = json.loads((drill_folder.dbt_target_dir / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[2]: r["status"] for r in results if r["unique_id"].startswith("test.")}
    assert statuses.pop("source_is_fresh_events_events_") == "warn"
    assert statuses.pop("source_is_fresh_events_landing_files_") == "fail"
    assert len(statuses) == 6 and set(statuses.values()) == {"pass"}, statuses


# -- alerts ---------------------------------------------------------------------------------------------


@pytest.mark.drill
def test_elementary_alerts_reach_the_webhook_with_the_warning_tests(drill_folder: Settings) -> None:
    with webhook() as receiver:
        result = tidewater_cli(
            "alerts", data_dir=drill_folder.data_dir, extra_env={"TIDEWATER_ALERT_WEBHOOK": receiver.url}, timeout=600
        )
    ok(result)
    assert receiver.received, "no alert arrived"
    assert "warn_malformed_event_lines" in receiver.text()
    assert "warn_orders_without_customer" in receiver.text()


# -- anomalies: flagged when injected, silent on a normal day --------------------------------------------


@pytest.fixture(scope="module")
def normal_run(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return _run(tmp_path_factory.mktemp("normal") / "data")


@pytest.mark.drill
def test_a_normal_day_raises_no_anomaly(normal_run: Settings) -> None:
    tests = _elementary_tests(normal_run)
    assert len(tests) >= 13
    flagged = {uid: status for uid, status in tests.items() if status != "pass"}
    assert not flagged


@pytest.fixture(scope="module")
def anomalous_run(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Half the orders of the last day never happened, and bot traffic is ten times the usual that day: two
    anomalies in different sources, in one run (the generator keeps each to what it touches: test_generator)."""
    return _run(tmp_path_factory.mktemp("anomalous") / "data", "--anomaly", "half_orders_day", "--anomaly", "bot_spike")


def _flagged(settings: Settings) -> set[str]:
    return {uid for uid, status in _elementary_tests(settings).items() if status != "pass"}


@pytest.mark.drill
def test_a_day_with_half_the_orders_is_flagged(anomalous_run: Settings) -> None:
    assert any("volume_anomalies_app_orders" in uid for uid in _flagged(anomalous_run)), _flagged(anomalous_run)


@pytest.mark.drill
def test_a_spike_in_bot_traffic_is_flagged(anomalous_run: Settings) -> None:
    assert any("dimension_anomalies_stg_events__events" in uid for uid in _flagged(anomalous_run))


@pytest.mark.drill
def test_only_the_tests_on_what_the_anomalies_touched_are_flagged(anomalous_run: Settings) -> None:
    """The orders and the events changed; the spreadsheet's spend did not, nor any schema."""
    flagged = _flagged(anomalous_run)
    assert flagged and all("orders" in uid or "events" in uid for uid in flagged), flagged
    assert not any("marketing" in uid or "schema_changes" in uid for uid in flagged), flagged
