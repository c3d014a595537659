"""`make ui` (`tidewater ui`): Dagster's webserver and daemon on 127.0.0.1, over the data folder's instance, so
the runs of `make run` are in its history and the schedule and sensors tick. Stopped (Ctrl-C, `kill`, the terminal
closing), it stops Dagster its own way and waits for its webserver, daemon and code servers to end. The app database's
server, which the runs start when they need it, is stopped when the UI stops."""

from __future__ import annotations

import os

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import commands, dbt
from tidewater.orchestrate.runner import instance
from tidewater.orchestrate.settings import Settings, venv_tool


def command(port: int) -> list[str]:
    return [
        venv_tool("dagster"),
        "dev",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--module-name",
        "tidewater.orchestrate.definitions",
    ]


def serve(settings: Settings, port: int) -> None:
    instance(settings)  # the instance's settings (telemetry off, one run at a time)
    os.environ.update(settings.env())
    dbt.manifest(settings)  # parsed again if a model changed
    server = PostgresServer(settings.postgres_dir)
    was_running = server.is_running()
    print(f"==> Dagster UI on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    try:
        commands.foreground(command(port), cwd=settings.project_root)
    finally:
        if not was_running and server.is_running():
            server.stop()
