"""Every setting, read in one place: the environment (TIDEWATER_*), then the user's config file
($XDG_CONFIG_HOME/tidewater/config.toml, outside the repository), then the defaults below.

Where things live follows from the data folder: everything generated goes under it (git-ignored), so one
`rm -rf data` resets. Tools started as subprocesses (Meltano, dbt, Elementary, Dagster) get what they need from
`Settings.env()`; meltano.yml, profiles.yml and dbt_project.yml read those variables.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from pydantic import field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def config_file() -> Path:
    """The user's own settings, never in the repository (the webhook, the dbt package mirror, ...)."""
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "tidewater" / "config.toml"


def venv_tool(name: str) -> str:
    """A command from the project's environment (the one this Python runs in), else from PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


class Settings(BaseSettings):
    """Tidewater's settings. Environment variables are the field names in upper case with the TIDEWATER_ prefix
    (TIDEWATER_DATA_DIR, TIDEWATER_ALERT_WEBHOOK, ...); the config file uses the field names as keys."""

    model_config = SettingsConfigDict(env_prefix="TIDEWATER_", extra="ignore", frozen=True)

    data_dir: Path = PROJECT_ROOT / "data"
    # Slack-formatted JSON alerts (Elementary's and the orchestrator's) go to this URL when set.
    alert_webhook: str | None = None
    # A folder of git copies of dbt packages, for machines where the dbt hub is unreachable (README).
    dbt_package_mirror: Path | None = None
    # `tidewater generate` into another PostgreSQL than the data folder's embedded one.
    pg_url: str | None = None
    # The business "now" dbt judges freshness and anomalies at; by default the end of the last generated day.
    business_now: str | None = None
    # The daily schedule moves the sources one business day on and runs the lifecycle (cron, in `timezone`).
    daily_schedule: str = "0 6 * * *"
    # The marts must have been built by this time of day, else an alert (the freshness deadline).
    marts_deadline: str = "08:00"
    timezone: str = "UTC"
    # The Dagster UI (`make ui`) listens on 127.0.0.1 at this port.
    ui_port: int = 3000
    # The dashboards (`make dashboards`) and the suppliers' API (`make serve`) listen on 127.0.0.1 at these ports.
    dashboards_port: int = 8501
    api_port: int = 8000
    # The suppliers' API tokens (hashes only); default: api-tokens.json in the data folder's serving/.
    api_tokens_file: Path | None = None
    # The secret key of the keyed hash that pseudonymises personal values before the loader (privacy/pseudonyms.py);
    # default: pseudonym.key beside the config file, created on first use. Never in the repository or a data folder.
    pseudonym_key_file: Path | None = None
    # How long raw events stay in the warehouse and in the archive (privacy/retention.yml by default).
    retention_policy_file: Path | None = None
    # Reverse ETL: the audiences' membership changes are also POSTed (JSON) to this URL when set (serve/reverse_etl/).
    crm_webhook_url: str | None = None

    @field_validator(
        "data_dir", "dbt_package_mirror", "api_tokens_file", "pseudonym_key_file", "retention_policy_file", mode="after"
    )
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("marts_deadline")
    @classmethod
    def _hour_and_minute(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"marts_deadline must be HH:MM, got {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Arguments, then the environment, then the user's config file (looked up now: tests move XDG_CONFIG_HOME).
        return init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file())

    @classmethod
    def load(cls, data_dir: Path | None = None, **overrides: Any) -> Settings:
        """The settings, with the data folder given on the command line (if any) winning over everything."""
        from pydantic import ValidationError

        from tidewater.orchestrate.errors import TidewaterError

        try:
            return cls(**({"data_dir": data_dir} if data_dir else {}), **overrides)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise TidewaterError(f"invalid settings (environment or {config_file()}): {problems}") from None

    # -- where things live -----------------------------------------------------------------------------------
    @property
    def project_root(self) -> Path:
        return PROJECT_ROOT

    @property
    def is_default(self) -> bool:
        """The project's own data folder (not a test's or a bench's)."""
        return self.data_dir == (PROJECT_ROOT / "data").resolve()

    @property
    def generation_file(self) -> Path:
        """The seed and scale the folder's sources were generated with (its warehouse was loaded from them)."""
        return self.data_dir / "run-parameters.json"

    def recorded_generation(self) -> dict[str, Any]:
        """{"seed": ..., "scale": ..., "generator": ...} of the folder's sources, or {} before the first generation."""
        return json.loads(self.generation_file.read_text()) if self.generation_file.exists() else {}

    @staticmethod
    def generation_record(seed: int, scale: float) -> dict[str, Any]:
        """What a folder records of its sources: the seed, the scale and the generator's version (another version
        makes other rows from the same seed, so it is another generation too)."""
        from tidewater.generate.run import GENERATOR_VERSION

        return {"seed": seed, "scale": scale, "generator": GENERATOR_VERSION}

    def record_generation(self, seed: int, scale: float) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.generation_file.write_text(json.dumps(self.generation_record(seed, scale)) + "\n")

    @property
    def postgres_dir(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def batches_dir(self) -> Path:
        """Batch files the taps hand to the loader (their batch_config in meltano/); the loader deletes them."""
        return self.data_dir / "batches"

    @property
    def warehouse(self) -> Path:
        return self.data_dir / "warehouse" / "tidewater.duckdb"

    @property
    def meltano_state_dir(self) -> Path:
        return self.data_dir / "meltano-state"

    @property
    def meltano_system_dir(self) -> Path:
        """Meltano's system folder for this data folder's runs (MELTANO_SYS_DIR_ROOT): each plugin's resolved config
        and catalog. The plugins stay installed in the project's .meltano/ (orchestrate/meltano.py links them), and
        so does Meltano's database of runs (`make install` creates it: the three loads of a new data folder, starting
        together, would race to create its tables), so two data folders run side by side."""
        return self.data_dir / "meltano-system"

    @property
    def dagster_home(self) -> Path:
        """Dagster's instance: run history, event log, schedules' and sensors' state."""
        return self.data_dir / "dagster"

    @property
    def env_file(self) -> Path:
        """The variables Meltano and dbt need for this data folder (`meltano --env-file` reads it)."""
        return self.data_dir / "tidewater.env"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's usual target/ for the project's own data folder; a private one for any other (tests)."""
        return PROJECT_ROOT / "target" if self.is_default else self.data_dir / "dbt-target"

    @property
    def dbt_log_dir(self) -> Path:
        return PROJECT_ROOT / "logs" if self.is_default else self.logs_dir

    @property
    def build_results_file(self) -> Path:
        """The last `dbt build`'s run_results.json, kept apart from what later dbt commands write."""
        return self.logs_dir / "dbt-build-run_results.json"

    @property
    def docs_file(self) -> Path:
        return self.dbt_target_dir / "static_index.html"

    @property
    def report_file(self) -> Path:
        """Elementary's report: one self-contained HTML file."""
        return self.data_dir / "elementary" / "elementary_report.html"

    @property
    def serving_dir(self) -> Path:
        """The read-only copies the dashboards and the API read (serve/published.py), never the warehouse itself."""
        return self.data_dir / "serving"

    @property
    def api_token_store(self) -> Path:
        return self.api_tokens_file or self.serving_dir / "api-tokens.json"

    @property
    def pseudonym_key_path(self) -> Path:
        return self.pseudonym_key_file or config_file().parent / "pseudonym.key"

    @property
    def retention_policy(self) -> Path:
        return self.retention_policy_file or PROJECT_ROOT / "privacy" / "retention.yml"

    @property
    def archive_dir(self) -> Path:
        """Raw data past its hot period, as Parquet partitioned by day (privacy/retention.py)."""
        return self.data_dir / "archive"

    @property
    def lake_dir(self) -> Path:
        """Every table dbt reads as a source, as Parquet by load day, for other engines (lake/export.py)."""
        return self.data_dir / "lake"

    @property
    def ml_dir(self) -> Path:
        """Each trained model's file and metrics, one folder per model version (serve/ml/)."""
        return self.data_dir / "ml"

    @property
    def marts_deadline_cron(self) -> str:
        hour, minute = self.marts_deadline.split(":")
        return f"{int(minute)} {int(hour)} * * *"

    def env(self) -> dict[str, str]:
        """Variables for Meltano, dbt and Dagster: meltano.yml, profiles.yml and dbt_project.yml read these."""
        return {
            "TIDEWATER_DATA_DIR": str(self.data_dir),
            "TIDEWATER_WAREHOUSE": str(self.warehouse),
            "MELTANO_STATE_BACKEND_URI": self.meltano_state_dir.as_uri(),
            "MELTANO_SYS_DIR_ROOT": str(self.meltano_system_dir),
            "MELTANO_DATABASE_URI": f"sqlite:///{PROJECT_ROOT / '.meltano' / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",  # plain text in the logs and in error messages
            "DO_NOT_TRACK": "1",
            "DBT_TARGET_PATH": str(self.dbt_target_dir),
            "DBT_LOG_PATH": str(self.dbt_log_dir),
            "DBT_PROFILES_DIR": str(PROJECT_ROOT),
            "DAGSTER_HOME": str(self.dagster_home),
            **({"TIDEWATER_BUSINESS_NOW": self.business_now} if self.business_now else {}),
            **({"TIDEWATER_API_TOKENS_FILE": str(self.api_tokens_file)} if self.api_tokens_file else {}),
            **({"TIDEWATER_CRM_WEBHOOK_URL": self.crm_webhook_url} if self.crm_webhook_url else {}),
            **{
                f"TIDEWATER_{name.upper()}": str(value)
                for name, value in (
                    ("pseudonym_key_file", self.pseudonym_key_file),
                    ("retention_policy_file", self.retention_policy_file),
                )
                if value
            },
        }
