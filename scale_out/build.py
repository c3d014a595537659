"""The same dbt project built on another engine, from the lake the last run wrote: the lake made the engine's raw
(postgres.py copies it in, spark.py registers its folders as external tables), then `dbt build --target <engine>`,
judged at the same business "now" as the DuckDB build."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from tidewater.generate.postgres import PostgresServer
from tidewater.lake import export as lake
from tidewater.orchestrate import dbt
from tidewater.orchestrate.assets.transform import business_now_env
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import Settings
from tidewater.scale_out import postgres, spark


@dataclass(frozen=True)
class Built:
    loaded: dict[str, int]  # raw rows per table, as the engine sees them
    load_seconds: float
    build_seconds: float
    nodes: int
    log_file: Path


def target_dir(settings: Settings, engine: str) -> Path:
    """dbt's artifacts of an engine's build, apart from the DuckDB build's."""
    return settings.data_dir / f"dbt-target-{engine}"


def build(settings: Settings, engine: str, *, quiet: bool = False) -> Built:
    """Raises TidewaterError naming the failing nodes."""
    if not lake.tables(settings.lake_dir):
        raise TidewaterError(f"no lake in {settings.lake_dir}: run `tidewater run` first (its lake step writes it)")
    with ExitStack() as stack:
        started = time.monotonic()
        if engine == "postgres":
            server = PostgresServer(settings.postgres_dir)
            loaded, engine_env = postgres.load(settings, stack.enter_context(server.running()))
        else:
            loaded, engine_env = spark.register_lake(settings), spark.dbt_env()
        load_seconds = time.monotonic() - started
        log_file = settings.logs_dir / f"dbt-build-{engine}.log"
        env = {**settings.env(), **business_now_env(settings), **engine_env}
        started = time.monotonic()
        invocation, progress = dbt.invoke(
            ["build", "--target", engine], env=env, target_path=target_dir(settings, engine), log_file=log_file,
            quiet=quiet,
        )  # fmt: skip
        if not invocation.is_successful():
            raise dbt.failure(progress.what, log_file, progress)
        return Built(loaded, load_seconds, time.monotonic() - started, progress.done, log_file)
