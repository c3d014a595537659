"""Elementary's CLI (`edr`): the observability report and alerts, offline and without telemetry.

`edr` lives in its own environment (.venv-edr, see requirements-edr.txt): it needs networkx<3, which MetricFlow in
the project's environment does not allow. Both environments pin the same dbt-core, dbt-duckdb and duckdb.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tidewater.orchestrate.commands import run_logged
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

EDR_VENV = PROJECT_ROOT / ".venv-edr"


def edr() -> Path:
    path = EDR_VENV / "bin" / "edr"
    if not path.exists():
        raise TidewaterError(f"Elementary's CLI is not installed in {EDR_VENV}: run `make install`")
    return path


def edr_project_dir() -> Path:
    """The internal dbt project the CLI runs its queries with."""
    python = EDR_VENV / "bin" / "python"
    if not python.exists():
        return EDR_VENV / "missing"
    found = subprocess.run(
        [str(python), "-c", "import elementary, pathlib; print(pathlib.Path(elementary.__file__).parent)"],
        capture_output=True,
        text=True,
        check=False,
    )
    return Path(found.stdout.strip()) / "monitor" / "dbt_project"


def _config_dir(settings: Settings) -> Path:
    """edr's own settings for this project: telemetry off, and never `dbt deps` (packages come from us)."""
    directory = settings.data_dir / "edr"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yml").write_text("anonymous_usage_tracking: false\nrun_dbt_deps_if_needed: false\n")
    return directory


def _edr_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, **settings.env()}
    env.pop("DBT_TARGET_PATH", None)  # edr keeps its own target
    env["PATH"] = f"{EDR_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _common_args(settings: Settings) -> list[str]:
    return [
        "--project-dir",
        str(settings.project_root),
        "--profiles-dir",
        str(settings.project_root),
        "--config-dir",
        str(_config_dir(settings)),
        "--target-path",
        str(settings.data_dir / "edr" / "target"),
    ]


def report_command(settings: Settings) -> list[str]:
    settings.report_file.parent.mkdir(parents=True, exist_ok=True)
    return [
        str(edr()),
        "report",
        *_common_args(settings),
        "--file-path",
        str(settings.report_file),
        "--open-browser",
        "false",
        "--project-name",
        "tidewater",
    ]


def monitor_command(settings: Settings, webhook: str) -> list[str]:
    # edr posts Slack-formatted JSON to the webhook URL; any receiver of Slack incoming webhooks understands it.
    return [str(edr()), "monitor", *_common_args(settings), "--slack-webhook", webhook, "--group-by", "alert"]


# profiles.yml's `elementary` profile opens the warehouse with this DuckDB access mode.
ACCESS_MODE_VARIABLE = "TIDEWATER_ELEMENTARY_ACCESS_MODE"


def env(settings: Settings, *, read_only: bool = False) -> dict[str, str]:
    """edr's environment; `read_only` for the report, which only reads and can then run beside other readers."""
    return {**_edr_env(settings), ACCESS_MODE_VARIABLE: "READ_ONLY" if read_only else "AUTOMATIC"}


def report(settings: Settings) -> Path:
    """`edr report`: one self-contained HTML file; the warehouse opened read-only."""
    run_logged(
        report_command(settings),
        env=env(settings, read_only=True),
        log_file=settings.logs_dir / "edr-report.log",
        label="edr report",
    )
    return settings.report_file


def monitor(settings: Settings, webhook: str) -> None:
    """`edr monitor`: Elementary's alerts to the webhook (it records what it sent, so it writes the warehouse)."""
    run_logged(
        monitor_command(settings, webhook),
        env=env(settings),
        log_file=settings.logs_dir / "edr-monitor.log",
        label="edr monitor",
    )
