"""One PostgreSQL for the session, started before the tests are collected: the SDK's standard test class discovers
the tap's streams (from the database) when its module is imported."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests import app_database
from tests.postgres import EmbeddedPostgres

SERVER = pytest.StashKey[EmbeddedPostgres]()


def pytest_configure(config: pytest.Config) -> None:
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix="singer-batch-msgspec-tests-")))
    config.stash[SERVER] = server
    try:
        app_database.create(server.start())
    except BaseException:
        server.stop()
        raise


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(SERVER, None)
    if server is not None:
        server.stop()
