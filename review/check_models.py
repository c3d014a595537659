"""`tidewater check-models`: dbt parse, then dbt-score with the project's rules (pyproject.toml, [tool.dbt-score]).

Every model needs a description, an owner (`meta.owner`), data tests and a name that says its layer, and only
staging may read source(); every snapshot, seed and source table a description, every column of theirs too, and
every source table a reader and a test. Run by pre-commit when dbt files change; exits non-zero on any finding.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tidewater.orchestrate.errors import TidewaterError
from tidewater.review.slim_ci import tool


def parse(project_dir: Path, target_path: Path) -> Path:
    """`dbt parse` into target_path (partial parsing keeps reruns fast); returns the manifest's path."""
    env = {k: v for k, v in os.environ.items() if k not in ("DBT_TARGET_PATH", "DBT_PROFILES_DIR")}
    result = subprocess.run(
        [
            tool("dbt"),
            "parse",
            "--quiet",
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
            "--target-path",
            str(target_path),
        ],
        cwd=project_dir,
        env={**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise TidewaterError("dbt parse failed:\n" + (result.stdout + result.stderr).strip()[-3000:])
    return target_path / "manifest.json"


def check(project_dir: Path, manifest: Path | None = None) -> int:
    """dbt-score on the manifest (parsed now unless given); its exit code: 0 when every item scores 10."""
    if manifest is None:
        manifest = parse(project_dir, project_dir / "target" / "check-models")
    result = subprocess.run([tool("dbt-score"), "lint", "--manifest", str(manifest)], cwd=project_dir, check=False)
    return result.returncode
