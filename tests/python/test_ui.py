"""`make ui`: the Dagster UI on 127.0.0.1, opened in a real browser (headless Chromium) over a built pipeline's
instance: the lineage from the sources to the docs and the report, the run history, the checks, the schedule and
the sensors; and that `kill` of `tidewater ui` ends every process Dagster started."""

from __future__ import annotations

import contextlib
import html
import re
import signal
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from subprocess import Popen

import psutil
import pytest
from browser import render
from conftest import Built
from helpers import BIN, copy_data_folder, served

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ui_process(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Popen[bytes]]]:
    """`tidewater ui` on a copy of the built folder, its URL and process; stopped after the tests (the last test
    stops it itself)."""
    folder = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("ui") / "data")
    with served(
        lambda port: [str(BIN / "tidewater"), "--data-dir", str(folder.data_dir), "ui", "--port", str(port)],
        "/server_info",
        folder.data_dir / "ui.log",
        timeout=180,
    ) as server:
        yield server


@pytest.fixture(scope="module")
def ui(ui_process: tuple[str, Popen[bytes]]) -> str:
    return ui_process[0]


def _text(url: str, tmp_path: Path, name: str) -> str:
    """The page's visible text once its scripts ran (a screenshot beside it for a person to look at)."""
    dom = render(url, tmp_path / f"{name}.png", wait_ms=20000)
    text = re.sub(r"<script.*?</script>|<style.*?</style>", " ", dom, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)))


def test_the_lineage_shows_the_lifecycle_from_the_sources_to_the_docs(ui: str, tmp_path: Path) -> None:
    lineage = _text(f"{ui}/asset-groups", tmp_path, "lineage")
    for group in ("sources", "raw", "staging", "intermediate", "marts", "metrics", "observability"):
        assert group in lineage, (group, lineage[:2000])
    location = "tidewater.orchestrate.definitions"
    # The group's list, not its lineage: the canvas draws only what fits the window, and the alerts' many upstream
    # assets (the marts, retention, the reverse ETL sync) push the docs out of it.
    observability = _text(f"{ui}/locations/{location}/asset-groups/observability/list", tmp_path, "observability")
    assert "dbt_docs" in observability and "elementary_report" in observability, observability[:2000]


def test_the_run_history_shows_the_run_that_built_the_warehouse(ui: str, built: Built, tmp_path: Path) -> None:
    runs = _text(f"{ui}/runs", tmp_path, "runs")
    assert "lifecycle" in runs and "Success" in runs, runs[:2000]
    assert "tidewater run" in runs  # the run's tag: launched by `make run`


def test_a_mart_shows_its_dbt_tests_and_freshness_as_checks(ui: str, tmp_path: Path) -> None:
    checks = _text(f"{ui}/assets/marts/fct_orders?view=checks", tmp_path, "checks")
    assert "unique_fct_orders_order_id" in checks and "freshness_check" in checks, checks[:2000]
    assert "Succeeded" in checks


def test_the_schedule_and_the_sensors_are_listed(ui: str, tmp_path: Path) -> None:
    automation = _text(f"{ui}/automation", tmp_path, "automation")
    for name in ("daily", "landing_zone", "marts_deadline", "marts_deadline_alerts"):
        assert name in automation, (name, automation[:2000])


def test_kill_stops_the_ui_with_every_process_dagster_started_and_frees_the_port(
    ui_process: tuple[str, Popen[bytes]],
) -> None:
    # Last in the module: it stops the module's UI. `kill PID` (a process manager's stop) reaches `tidewater ui`
    # alone. Orphaned, Dagster's webserver and daemon would go on serving the port and ticking the schedule.
    url, process = ui_process
    started = psutil.Process(process.pid).children(recursive=True)
    webserver = [p.cmdline() for p in started if "dagster_webserver" in p.cmdline()]
    assert webserver, [p.cmdline() for p in started]
    workspace = Path(webserver[0][webserver[0].index("--workspace") + 1])
    assert workspace.exists()  # dagster dev's temporary workspace, removed by its own shutdown
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=60) == 130  # stopped as Ctrl-C stops it
        _, alive = psutil.wait_procs(started, timeout=30)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        for leftover in started:  # whatever the stop missed: ours, ended by PID
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
    assert not workspace.exists()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{url}/server_info", timeout=5)
