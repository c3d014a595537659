"""Elementary's CLI (`edr`): the observability report and alerts, offline and without telemetry.

`edr` lives in its own environment (.venv-edr, see requirements-edr.txt): it needs networkx<3, which MetricFlow in
the project's environment does not allow. Both environments pin the same dbt-core, dbt-duckdb and duckdb.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import TextIO

import yaml

from tidewater.orchestrate import warehouse
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
    # edr asks each of its queries as a `dbt run-operation` of its own dbt project (about fifteen a report). That
    # project's parse goes to the data folder (by default it would land in the installed package, where every data
    # folder would overwrite another's), and without the JSON artifacts: edr reads the answers from dbt's log, so
    # writing the manifest again for each query is work no one reads (docs/benchmark.md, eighth pass, has the cost).
    env["DBT_TARGET_PATH"] = str(settings.data_dir / "edr" / "dbt-target")
    env["DBT_WRITE_JSON"] = "false"
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


def report(settings: Settings, progress: TextIO | None = None) -> Path:
    """`edr report`: one self-contained HTML file; the warehouse opened read-only. Its progress lines go to
    `progress` (else stdout)."""
    run_logged(
        report_command(settings),
        env=env(settings, read_only=True),
        log_file=settings.logs_dir / "edr-report.log",
        label="edr report",
        progress=progress,
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


# Elementary's own tables (run and test results, artifacts, anomaly metrics) are created once, then filled by its
# on-run-end hooks: Elementary asks for them to be built after install and after an upgrade, not on every run. Its
# copy of the project's metadata (models, tests, columns: the "artifacts") is uploaded when the project changed, not
# compared on every run (dbt_project.yml: disable_dbt_artifacts_autoupload).
MODELS = "package:elementary"
ARTIFACT_MODELS = "elementary.edr.dbt_artifacts"


def installed_version(settings: Settings) -> str:
    project = settings.project_root / "dbt_packages" / "elementary" / "dbt_project.yml"
    if not project.exists():
        raise TidewaterError("Elementary's dbt package is not installed: run `make install` (tidewater deps)")
    return str(yaml.safe_load(project.read_text())["version"])


def built_version(settings: Settings) -> str | None:
    """The version of the package that built the warehouse's Elementary tables (its `metadata` model); None if they
    were never built."""
    if not settings.warehouse.exists():
        return None
    with warehouse.connect(settings.warehouse) as connection:
        found = connection.execute(
            "select 1 from information_schema.tables where table_schema = 'elementary' and table_name = 'metadata'"
        ).fetchone()
        if not found:
            return None
        row = connection.execute("select dbt_pkg_version from elementary.metadata").fetchone()
    return str(row[0]) if row else None


def _uploaded_project(settings: Settings) -> Path:
    return settings.data_dir / "elementary" / "uploaded-project.sha256"


def models_to_build(settings: Settings, fingerprint: str) -> str | None:
    """What of Elementary's own models a build must run first: all of them when the warehouse has none or another
    version's, its artifacts when the project changed since they were uploaded (`fingerprint`), else nothing."""
    if built_version(settings) != installed_version(settings):
        return MODELS
    uploaded = _uploaded_project(settings)
    if not uploaded.exists() or uploaded.read_text() != fingerprint:
        return ARTIFACT_MODELS
    return None


def record_upload(settings: Settings, fingerprint: str) -> None:
    _uploaded_project(settings).parent.mkdir(parents=True, exist_ok=True)
    _uploaded_project(settings).write_text(fingerprint)
