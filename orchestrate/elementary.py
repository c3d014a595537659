"""Elementary's CLI (`edr`): the observability report and alerts, offline and without telemetry.

`edr` lives in its own environment (.venv-edr, see requirements-edr.txt): it needs networkx<3, which MetricFlow in
the project's environment does not allow. Both environments pin the same dbt-core, dbt-duckdb and duckdb.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

from tidewater.orchestrate.dbt_packages import config_file
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.paths import PROJECT_ROOT, Paths

EDR_VENV = PROJECT_ROOT / ".venv-edr"
WEBHOOK_ENV = "TIDEWATER_ALERT_WEBHOOK"


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


def alert_webhook() -> str | None:
    """Where alerts go: TIDEWATER_ALERT_WEBHOOK, or `alert_webhook = "..."` in the user's tidewater config."""
    if os.environ.get(WEBHOOK_ENV):
        return os.environ[WEBHOOK_ENV]
    path = config_file()
    if path.exists():
        value = tomllib.loads(path.read_text()).get("alert_webhook")
        return str(value) if value else None
    return None


def _config_dir(paths: Paths) -> Path:
    """edr's own settings for this project: telemetry off, and never `dbt deps` (packages come from us)."""
    directory = paths.data_dir / "edr"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yml").write_text("anonymous_usage_tracking: false\nrun_dbt_deps_if_needed: false\n")
    return directory


def _edr_env(paths: Paths) -> dict[str, str]:
    env = {**os.environ, **paths.env()}
    env.pop("DBT_TARGET_PATH", None)  # edr keeps its own target
    env["PATH"] = f"{EDR_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _common_args(paths: Paths) -> list[str]:
    return [
        "--project-dir",
        str(paths.project_root),
        "--profiles-dir",
        str(paths.project_root),
        "--config-dir",
        str(_config_dir(paths)),
        "--target-path",
        str(paths.data_dir / "edr" / "target"),
    ]


def report_file(paths: Paths) -> Path:
    return paths.data_dir / "elementary" / "elementary_report.html"


def report_command(paths: Paths) -> list[str]:
    report_file(paths).parent.mkdir(parents=True, exist_ok=True)
    return [
        str(edr()),
        "report",
        *_common_args(paths),
        "--file-path",
        str(report_file(paths)),
        "--open-browser",
        "false",
        "--project-name",
        "tidewater",
    ]


def monitor_command(paths: Paths, webhook: str) -> list[str]:
    # edr posts Slack-formatted JSON to the webhook URL; any receiver of Slack incoming webhooks understands it.
    return [str(edr()), "monitor", *_common_args(paths), "--slack-webhook", webhook, "--group-by", "alert"]


# profiles.yml's `elementary` profile opens the warehouse with this DuckDB access mode.
ACCESS_MODE_VARIABLE = "TIDEWATER_ELEMENTARY_ACCESS_MODE"


def env(paths: Paths, *, read_only: bool = False) -> dict[str, str]:
    """edr's environment; `read_only` for the report, which only reads and can then run beside other readers."""
    return {**_edr_env(paths), ACCESS_MODE_VARIABLE: "READ_ONLY" if read_only else "AUTOMATIC"}
