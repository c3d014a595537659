"""The app database's server as a Dagster resource: the embedded PostgreSQL is started when a step needs it (the
generator, the app's extract+load, the reconciliation snapshot) and left running for the steps after it; whoever
started the run stops it at the end (`tidewater run`, `make ui`)."""

from __future__ import annotations

from dagster import ConfigurableResource

from tidewater.generate.postgres import Connection, PostgresServer
from tidewater.orchestrate.meltano import write_env_file
from tidewater.orchestrate.settings import Settings


class AppDatabase(ConfigurableResource):
    """The PostgreSQL holding the app database of the data folder's sources."""

    def connection(self) -> Connection:
        settings = Settings.load()
        connection = PostgresServer(settings.postgres_dir).start()
        write_env_file(settings, connection)
        return connection
