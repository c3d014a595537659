"""Observability: Elementary's tables fill on every build, its report and the docs render in a real browser,
its alerts reach a webhook, and each injected anomaly is flagged while a normal day raises nothing."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from browser import render
from conftest import PipelineRun, tidewater_cli

from tidewater.orchestrate import elementary, warehouse
from tidewater.orchestrate.paths import Paths

ANOMALY_SCALE = 0.1  # about 40 orders and 300 events a day: enough for the anomaly tests to mean something


def _build_results(paths: Paths) -> dict[str, str]:
    results = json.loads(paths.build_results_file.read_text())["results"]
    return {r["unique_id"]: r["status"] for r in results}


def _elementary_tests(paths: Paths) -> dict[str, str]:
    return {
        uid: status for uid, status in _build_results(paths).items() if uid.startswith("test.tidewater.elementary_")
    }


def _run(data_dir: Path, *extra: str) -> Paths:
    result = tidewater_cli("run", "--scale", str(ANOMALY_SCALE), "--no-docs", *extra, data_dir=data_dir)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return Paths.from_env(data_dir)


# -- Elementary on every build ------------------------------------------------------------------------------


def test_elementary_tables_fill_on_every_build(pipeline_run: PipelineRun) -> None:
    with warehouse.connect(pipeline_run.paths.warehouse) as connection:
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


def test_every_raw_table_has_a_schema_changes_test(pipeline_run: PipelineRun) -> None:
    tests = _elementary_tests(pipeline_run.paths)
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


def test_elementary_report_is_one_file_that_renders(pipeline_run: PipelineRun, tmp_path: Path) -> None:
    report = elementary.report_file(pipeline_run.paths)
    assert report.exists() and report.stat().st_size > 100_000
    assert '<script src="http' not in report.read_text(errors="replace"), "the report must not load scripts"
    dom = render(report.as_uri(), tmp_path / "elementary.png")
    assert (tmp_path / "elementary.png").stat().st_size > 10_000
    assert "Test results breakdown" in dom and "Tests" in dom
    assert "Schema changes" in dom


def test_dbt_docs_render_with_models_and_tests(pipeline_run: PipelineRun, tmp_path: Path) -> None:
    url = pipeline_run.paths.docs_file.as_uri() + "#!/model/model.tidewater.fct_orders"
    dom = render(url, tmp_path / "docs.png")
    assert (tmp_path / "docs.png").stat().st_size > 10_000
    assert "fct_orders" in dom and "order_revenue" in dom
    assert "One row per order" in dom  # the model's description, not an error page


# -- alerts ---------------------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        type(self).received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def test_alerts_reach_the_webhook_with_the_failing_test(pipeline_run: PipelineRun) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        webhook = f"http://127.0.0.1:{server.server_port}/alerts"
        result = tidewater_cli(
            "alerts", data_dir=pipeline_run.paths.data_dir, extra_env={elementary.WEBHOOK_ENV: webhook}, timeout=600
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    bodies = "\n".join(_Receiver.received)
    assert _Receiver.received, "no alert arrived"
    assert "warn_malformed_event_lines" in bodies
    assert "warn_orders_without_customer" in bodies


# -- anomalies: flagged when injected, silent on a normal day --------------------------------------------


@pytest.fixture(scope="module")
def normal_run(tmp_path_factory: pytest.TempPathFactory) -> Paths:
    return _run(tmp_path_factory.mktemp("normal") / "data")


def test_a_normal_day_raises_no_anomaly(normal_run: Paths) -> None:
    tests = _elementary_tests(normal_run)
    assert len(tests) >= 13
    flagged = {uid: status for uid, status in tests.items() if status != "pass"}
    assert not flagged


def test_a_day_with_half_the_orders_is_flagged(tmp_path: Path) -> None:
    paths = _run(tmp_path / "data", "--anomaly", "half_orders_day")
    flagged = {uid for uid, status in _elementary_tests(paths).items() if status != "pass"}
    assert any("volume_anomalies_app_orders" in uid for uid in flagged), flagged


def test_a_spike_in_bot_traffic_is_flagged(tmp_path: Path) -> None:
    paths = _run(tmp_path / "data", "--anomaly", "bot_spike")
    flagged = {uid for uid, status in _elementary_tests(paths).items() if status != "pass"}
    assert any("dimension_anomalies_stg_events__events" in uid for uid in flagged), flagged
    assert not any("app_orders" in uid for uid in flagged), flagged


def test_a_new_column_in_the_app_database_is_flagged(normal_run: Paths) -> None:
    """Runs last in this module: it changes the normal run's sources (a column appears in orders)."""
    _run(normal_run.data_dir, "--anomaly", "new_column")
    flagged = {uid for uid, status in _elementary_tests(normal_run).items() if status != "pass"}
    assert any("schema_changes_app_orders" in uid for uid in flagged), flagged
    assert not any("schema_changes_app_customers" in uid for uid in flagged), flagged
