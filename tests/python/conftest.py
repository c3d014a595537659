"""Shared fixtures: a real PostgreSQL and one real end-to-end run of the pipeline at scale 0.01."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.paths import PROJECT_ROOT, Paths

TEST_SCALE = 0.01
TEST_SEED = 42
BIN = Path(sys.executable).parent


def tidewater_cli(
    *args: str, data_dir: Path, extra_env: dict[str, str] | None = None, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    """Run the `tidewater` command as a user would, with its own data folder."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **(extra_env or {})}
    return subprocess.run(
        [str(BIN / "tidewater"), "--data-dir", str(data_dir), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def meltano_run_alone(
    data_dir: Path, extractor: str, extra_env: str = ""
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`meltano run EXTRACTOR target-duckdb` on a data folder of its own (landing files under it), into a warehouse
    of its own. Returns the result and the warehouse's path."""
    wh = data_dir / "warehouse" / "tidewater.duckdb"
    wh.parent.mkdir(parents=True, exist_ok=True)
    env_file = data_dir / "tidewater.env"
    env_file.write_text(
        f"TIDEWATER_DATA_DIR={data_dir}\nTIDEWATER_WAREHOUSE={wh}\n"
        f"MELTANO_STATE_BACKEND_URI={(data_dir / 'state').as_uri()}\n{extra_env}"
    )
    # --force, as the pipeline does: a run killed by an earlier test (the kill drill) leaves its job marked running
    # in Meltano's project database, and would block this one for minutes.
    result = subprocess.run(
        [str(BIN / "meltano"), "--env-file", str(env_file), "run", "--force", extractor, "target-duckdb"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result, wh


@pytest.fixture
def app_db_conninfo(tmp_path: Path) -> Iterator[str]:
    """A real, empty PostgreSQL app database on 127.0.0.1, stopped after the test."""
    server = PostgresServer(tmp_path / "postgres")
    connection = server.start()
    try:
        yield connection.conninfo
    finally:
        server.stop()


@dataclass
class PipelineRun:
    paths: Paths
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str] | None = None


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory: pytest.TempPathFactory) -> PipelineRun:
    """`tidewater run --scale 0.01` end to end, into a private data folder."""
    data_dir = tmp_path_factory.mktemp("pipeline") / "data"
    result = tidewater_cli("run", "--scale", str(TEST_SCALE), "--seed", str(TEST_SEED), data_dir=data_dir)
    if result.returncode != 0:
        pytest.fail(f"the pipeline failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return PipelineRun(paths=Paths.from_env(data_dir), first=result)


@pytest.fixture
def source_db(pipeline_run: PipelineRun) -> Iterator[str]:
    """The pipeline's own app database, started again to compare the marts with their source."""
    server = PostgresServer(pipeline_run.paths.postgres_dir)
    connection = server.start()
    try:
        yield connection.conninfo
    finally:
        server.stop()
