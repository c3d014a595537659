"""Run the loader's command, as Meltano runs it, on Singer messages the test writes; read what it loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

# The command Meltano runs, from the environment the tests run in (the loader's own venv).
LOADER = Path(sys.executable).parent / "target-duckdb-explicit-csv"
# The columns that say when a row was extracted and loaded: they differ between any two loads.
LOAD_TIMES = ("_sdc_extracted_at", "_sdc_batched_at")

# A keyed stream, and a BATCH message of its rows written as JSON lines.
THINGS_SCHEMA = {
    "type": "SCHEMA",
    "stream": "things",
    "key_properties": ["thing_id"],
    "schema": {"properties": {"thing_id": {"type": ["integer"]}, "name": {"type": ["null", "string"]}}},
}


def jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(row) + "\n" for row in rows)


def batch_message(path: Path, stream: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """A BATCH message whose one file (at path) holds the rows."""
    path.write_text(jsonl(rows))
    return {"type": "BATCH", "stream": stream, "encoding": {"format": "jsonl"}, "manifest": [path.as_uri()]}


def things_batch(tmp_path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return batch_message(tmp_path / "things.jsonl", "things", rows)


def loader_command(tmp_path: Path, name: str = "wh", **config: Any) -> list[str]:
    """The loader, into tmp_path/<name>.duckdb, schema raw; config adds to or replaces those settings."""
    config_file = tmp_path / f"{name}-loader.json"
    settings = {"filepath": str(tmp_path / f"{name}.duckdb"), "default_target_schema": "raw", **config}
    config_file.write_text(json.dumps(settings))
    return [str(LOADER), "--config", str(config_file)]


def load_messages(
    tmp_path: Path, messages: list[dict[str, Any]], name: str = "wh", **config: Any
) -> subprocess.CompletedProcess[str]:
    """Pipe the messages into the loader and wait for it (warehouse tmp_path/<name>.duckdb)."""
    return subprocess.run(
        loader_command(tmp_path, name, **config),
        input=jsonl(messages),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def start_loader(tmp_path: Path, messages: list[dict[str, Any]], wait_seconds: float) -> subprocess.Popen[str]:
    """The loader, started on the messages, waiting up to wait_seconds for a warehouse another process holds."""
    singer = tmp_path / "messages.jsonl"
    singer.write_text(jsonl(messages))
    with singer.open() as stdin:
        return subprocess.Popen(
            loader_command(tmp_path),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TIDEWATER_WAREHOUSE_WAIT_SECONDS": str(wait_seconds)},
        )


def loaded_rows(wh: Path, table: str, schema: str = "raw") -> list[tuple]:
    """Every row of the table, without the load times, in order."""
    with duckdb.connect(str(wh), read_only=True) as connection:
        described = connection.execute(f"describe {schema}.{table}").fetchall()
        listed = ", ".join(f'"{row[0]}"' for row in described if row[0] not in LOAD_TIMES)
        return connection.execute(f"select {listed} from {schema}.{table} order by all").fetchall()


def last_state(result: subprocess.CompletedProcess[str]) -> Any:
    """The last state the loader emitted (on stdout, one JSON document a line)."""
    return json.loads(result.stdout.strip().splitlines()[-1])
