"""Shared fixtures. One real run of the whole lifecycle at scale 0.01 (`built`) serves every test that only reads
what a run leaves; a drill that changes a data folder gets a copy of it of its own (`drill_folder`), so no test
depends on another's order. Markers (pyproject.toml): `e2e` reads a built pipeline, `drill` breaks or moves a copy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock
from helpers import TEST_SCALE, TEST_SEED, copy_data_folder, tidewater_cli

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.settings import Settings

# `make test`'s workers take whole modules in this order (then the rest, as collected): the longest first, so that
# the workers end together; the bench's smoke needs no built pipeline, so the second worker runs it while the first
# builds the shared one.
LONGEST_FIRST = (
    "test_incremental.py",
    "test_bench.py",
    "test_interruptions.py",
    "test_observability.py",
    "test_scale_out.py",
    "test_orchestration.py",
    "test_reverse_etl.py",
    "test_review.py",
    "test_erasure.py",
    "test_bad_input.py",
    "test_source_drift.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


@dataclass(frozen=True)
class Built:
    """A data folder after `tidewater run --scale 0.01` with the docs and the report: read it, never change it."""

    settings: Settings
    stdout: str


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Built:
    """Under pytest-xdist (`make test` runs three workers) the workers share one: the first to need it builds it while
    the others wait on the lock, then all read it."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the folder every worker's own temporary folder is in
    data_dir = root / "built" / "data"
    outcome = root / "built" / "run.json"
    with FileLock(root / "built.lock"):
        if not outcome.exists():
            result = tidewater_cli("run", "--scale", str(TEST_SCALE), "--seed", str(TEST_SEED), data_dir=data_dir)
            recorded = {"returncode": result.returncode, "stdout": result.stdout, "stderr": result.stderr}
            outcome.write_text(json.dumps(recorded))
    recorded = json.loads(outcome.read_text())
    if recorded["returncode"] != 0:
        pytest.fail(f"the pipeline failed:\n{recorded['stdout'][-4000:]}\n{recorded['stderr'][-4000:]}")
    return Built(settings=Settings.load(data_dir), stdout=recorded["stdout"])


@pytest.fixture
def drill_folder(built: Built, tmp_path: Path) -> Settings:
    """A copy of the built data folder for one test to change."""
    return copy_data_folder(built.settings.data_dir, tmp_path / "data")


@pytest.fixture
def app_db_conninfo(tmp_path: Path) -> Iterator[str]:
    """A real, empty PostgreSQL app database on 127.0.0.1, stopped after the test."""
    server = PostgresServer(tmp_path / "postgres")
    connection = server.start()
    try:
        yield connection.conninfo
    finally:
        server.stop()


@pytest.fixture(scope="session")
def source_db(built: Built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built pipeline's app database (on a copy of the folder), up to compare the marts with their source."""
    copy = copy_data_folder(built.settings.data_dir, tmp_path_factory.mktemp("source-db") / "data")
    server = PostgresServer(copy.postgres_dir)
    connection = server.start()
    try:
        yield connection.conninfo
    finally:
        server.stop()
