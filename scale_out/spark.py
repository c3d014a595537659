"""Spark as the distributed engine, in local mode: the lake's folders registered as external tables in a Hive
metastore under the data folder (spark/), then dbt-spark's `spark` target (profiles.yml, `method: session`) builds
there. Nothing is copied: Spark reads the lake's Parquet in place, each load day a partition.

The metastore is Derby, embedded: one process at a time. So the tables are registered by a Spark of their own, in a
process of their own (spark_tables.py), which ends before dbt starts its own, with the same parameters (profiles.yml's
`server_side_parameters`, read here: the one place they are written).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import jinja2
import yaml

from tidewater.orchestrate.commands import run_logged
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

TARGET = "spark"


def parameters(settings: Settings) -> dict[str, str]:
    """The Spark parameters of profiles.yml's `spark` target, rendered for this data folder."""
    profile = yaml.safe_load((PROJECT_ROOT / "profiles.yml").read_text())
    raw: dict[str, Any] = profile["tidewater"]["outputs"][TARGET]["server_side_parameters"]
    env = {**os.environ, **settings.env()}

    def env_var(name: str, default: str | None = None) -> str:
        value = env.get(name, default)
        if value is None:
            raise TidewaterError(f"profiles.yml's spark target reads {name}, which is not set")
        return value

    render = jinja2.Environment(undefined=jinja2.StrictUndefined)
    return {key: render.from_string(str(value)).render(env_var=env_var) for key, value in raw.items()}


def dbt_env() -> dict[str, str]:
    """Spark binds to the loopback address rather than guessing the machine's (and warning about it)."""
    return {"SPARK_LOCAL_IP": "127.0.0.1"}


def spark_dir(settings: Settings) -> Path:
    return settings.data_dir / "spark"


def register_lake(settings: Settings) -> dict[str, int]:
    """Every lake table as an external table of the same schema and name: rows per table as Spark counts them."""
    if not shutil.which("java"):
        raise TidewaterError("Spark needs Java 17 on PATH (`java`): e.g. `apt-get install openjdk-17-jre-headless`")
    (spark_dir(settings) / "tmp").mkdir(parents=True, exist_ok=True)
    counts_file = spark_dir(settings) / "lake-tables.json"
    counts_file.unlink(missing_ok=True)
    request = {"parameters": parameters(settings), "lake": str(settings.lake_dir), "out": str(counts_file)}
    run_logged(
        [sys.executable, "-m", "tidewater.scale_out.spark_tables", json.dumps(request)],
        env={**os.environ, **settings.env(), **dbt_env()},
        log_file=settings.logs_dir / "spark-tables.log",
        label="the lake's tables in Spark",
    )
    return {table: int(rows) for table, rows in json.loads(counts_file.read_text()).items()}
