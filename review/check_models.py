"""`tidewater check-models`: dbt parse, then dbt-score with the project's rules (pyproject.toml, [tool.dbt-score]).

Every model needs a description, an owner (`meta.owner`), data tests and a name that says its layer, and only
staging may read source(); every snapshot, seed and source table a description, every column of theirs too, and
every source table a reader and a test. Run by pre-commit when dbt files change; exits non-zero on any finding.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tidewater.orchestrate import dbt
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import venv_tool


def parse(project_dir: Path, target_path: Path) -> Path:
    """`dbt parse` into target_path (partial parsing keeps reruns fast); returns the manifest's path."""
    log_file = target_path / "dbt-parse.log"
    invocation, progress = dbt.invoke(
        ["parse"], env={}, target_path=target_path, log_file=log_file, project_dir=project_dir, quiet=True
    )
    if not invocation.is_successful():
        raise TidewaterError("dbt parse failed:\n" + "\n".join(progress.errors[-10:]) + f"\n(log: {log_file})")
    return target_path / "manifest.json"


def check(project_dir: Path, manifest: Path | None = None) -> int:
    """dbt-score on the manifest (parsed now unless given); its exit code: 0 when every item scores 10."""
    if manifest is None:
        manifest = parse(project_dir, project_dir / "target" / "check-models")
    result = subprocess.run([venv_tool("dbt-score"), "lint", "--manifest", str(manifest)], cwd=project_dir, check=False)
    return result.returncode
