"""Where things live. Everything generated goes under one data folder (git-ignored), so one `rm -rf data` resets."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def venv_tool(name: str) -> str:
    """A command from the project's environment (the one this Python runs in), else from PATH."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass(frozen=True)
class Paths:
    project_root: Path
    data_dir: Path

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> Paths:
        """The data folder is `data/` in the project unless TIDEWATER_DATA_DIR (or the argument) says otherwise."""
        chosen = data_dir or Path(os.environ.get("TIDEWATER_DATA_DIR") or PROJECT_ROOT / "data")
        return cls(project_root=PROJECT_ROOT, data_dir=chosen.resolve())

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
    def env_file(self) -> Path:
        """The variables Meltano and dbt need for this data folder (`meltano --env-file` reads it)."""
        return self.data_dir / "tidewater.env"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def dbt_target_dir(self) -> Path:
        """dbt's usual target/ for the project's own data folder; a private one for any other (tests)."""
        return self.project_root / "target" if self.is_default else self.data_dir / "dbt-target"

    @property
    def build_results_file(self) -> Path:
        """The last `dbt build`'s run_results.json, kept apart from what later dbt commands write."""
        return self.logs_dir / "dbt-build-run_results.json"

    @property
    def run_timings_file(self) -> Path:
        """Seconds per step of the last `tidewater run`, machine-readable (for `tidewater bench`)."""
        return self.logs_dir / "run-timings.json"

    @property
    def docs_file(self) -> Path:
        return self.dbt_target_dir / "static_index.html"

    @property
    def is_default(self) -> bool:
        return self.data_dir == (self.project_root / "data").resolve()

    def env(self) -> dict[str, str]:
        """Variables for Meltano and dbt: meltano.yml and profiles.yml read these."""
        return {
            "TIDEWATER_DATA_DIR": str(self.data_dir),
            "TIDEWATER_WAREHOUSE": str(self.warehouse),
            "MELTANO_STATE_BACKEND_URI": self.meltano_state_dir.as_uri(),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",  # plain text in the logs and in error messages
            "DO_NOT_TRACK": "1",
            "DBT_TARGET_PATH": str(self.dbt_target_dir),
            "DBT_LOG_PATH": str(self.logs_dir if not self.is_default else self.project_root / "logs"),
            "DBT_PROFILES_DIR": str(self.project_root),
        }
