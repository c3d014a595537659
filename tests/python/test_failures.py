"""What a user sees when something is wrong: one clear line, no traceback, and nothing half-done."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import duckdb
from helpers import BIN, TEST_SCALE, meltano_run_alone, tidewater_cli

from tidewater.generate.config import GenerationConfig
from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.assets.sources import reset_if_parameters_changed
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_missing_warehouse_is_one_clear_line(tmp_path: Path) -> None:
    line = _one_error_line(tidewater_cli("summary", data_dir=tmp_path / "nothing-here"))
    assert "warehouse not found" in line and "tidewater.duckdb" in line


def test_locked_warehouse_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "data" / "warehouse" / "tidewater.duckdb"
    path.parent.mkdir(parents=True)
    holder = duckdb.connect(str(path))  # another writer, holding the file
    try:
        result = tidewater_cli("run", "--scale", str(TEST_SCALE), data_dir=tmp_path / "data")
    finally:
        holder.close()
    line = _one_error_line(result)
    assert "warehouse is locked by another run" in line and str(path) in line


def test_postgres_that_fails_to_start_is_one_clear_line(tmp_path: Path) -> None:
    server = PostgresServer(tmp_path / "data" / "postgres")
    server.start()
    server.stop()
    with (server.pgdata / "postgresql.conf").open("a") as conf:
        conf.write("\nshared_buffers = 'a lot'\n")
    line = _one_error_line(tidewater_cli("pg", "start", data_dir=tmp_path / "data"))
    assert "PostgreSQL failed to start" in line and "shared_buffers" in line


def test_loader_keeps_the_first_row_of_every_batch(tmp_path: Path) -> None:
    """target-duckdb 0.8.0 with duckdb >= 1.3 silently drops the first row of each batch: with batches of 7 rows,
    35 lines must give 35 rows, not 30."""
    day = tmp_path / "landing" / "events" / "2026-01-01"
    day.mkdir(parents=True)
    day.joinpath("events.jsonl").write_text(
        "".join(json.dumps({"event_id": f"evt_{i:03d}", "event_type": "page_view"}) + "\n" for i in range(35))
    )
    result, wh = meltano_run_alone(tmp_path, "tap-landing-zone", "TARGET_DUCKDB_BATCH_SIZE_ROWS=7\n")
    assert result.returncode == 0, result.stderr[-3000:]
    with warehouse.connect(wh) as connection:
        ((rows, first),) = connection.execute(
            "select count(*), count(*) filter (where event_id = 'evt_000') from raw_events.events"
        ).fetchall()
    assert (rows, first) == (35, 1)


def test_plain_dbt_build_on_an_empty_warehouse_says_what_to_do(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TIDEWATER_WAREHOUSE": str(tmp_path / "empty.duckdb"),
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    result = subprocess.run(
        [str(BIN / "dbt"), "build", "--select", "stg_app__orders"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode != 0
    assert "has no raw data for raw_app.customers" in result.stdout
    assert "Load the sources first" in result.stdout


def test_damaged_warehouse_is_named_as_damaged_not_as_locked(tmp_path: Path) -> None:
    """DuckDB's error for a damaged file says "in block at location": an error read by substring called it locked."""
    path = tmp_path / "data" / "warehouse" / "tidewater.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table filler as select range as i from range(100000)")
    damaged = bytearray(path.read_bytes())
    damaged[8192 : 8192 + 65536] = b"A" * 65536  # the first data block: its checksum no longer matches
    path.write_bytes(bytes(damaged))
    line = _one_error_line(tidewater_cli("summary", data_dir=tmp_path / "data"))
    assert f"cannot open the warehouse {path}: IO Error: Corrupt database file" in line, line
    assert "locked" not in line


def test_the_run_lock_survives_a_change_of_scale_and_a_second_run_is_refused(tmp_path: Path) -> None:
    """A run at another scale clears the folder's sources and warehouse: not its lock, which the run holds."""
    settings = Settings.load(tmp_path / "data")
    settings.record_generation(42, 1.0)
    settings.warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(settings.warehouse)):
        pass
    with warehouse.run_lock(settings.warehouse, "the first run"):
        reset_if_parameters_changed(settings, GenerationConfig(seed=42, scale=TEST_SCALE), logging.getLogger())
        assert not settings.warehouse.exists() and settings.recorded_generation()["scale"] == TEST_SCALE
        line = _one_error_line(tidewater_cli("run", data_dir=settings.data_dir))
    assert "warehouse is locked by another run" in line and "the first run" in line, line


def test_generating_another_scale_over_a_loaded_folder_is_refused_naming_both(tmp_path: Path) -> None:
    """The README's step by step at another scale would load part of each generation (the loads are incremental)."""
    settings = Settings.load(tmp_path / "data")
    settings.record_generation(42, 1.0)
    settings.warehouse.parent.mkdir(parents=True)
    settings.warehouse.touch()
    line = _one_error_line(tidewater_cli("generate", "--scale", "0.1", "--skip-db", data_dir=settings.data_dir))
    assert "holds sources of seed 42 scale 1.0" in line and "seed 42 scale 0.1" in line, line
    assert "`tidewater run --seed 42 --scale 0.1` starts the folder over" in line
    assert not settings.landing_dir.exists()


def test_meltano_run_with_postgres_stopped_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    """After `make run` (which stops the PostgreSQL it started), `meltano run` typed by hand: the tap's 150-line
    traceback through SQLAlchemy becomes one line naming the command that starts PostgreSQL."""
    server = PostgresServer(tmp_path / "data" / "postgres")
    connection = server.start()
    server.stop()
    result, _ = meltano_run_alone(tmp_path / "data", "tap-postgres", "".join(
        f"{key}={value}\n" for key, value in connection.env().items()
    ))  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "tap-postgres cannot reach the app database: connection to server at" in output, output[-3000:]
    assert "`tidewater pg start` starts it" in output
    assert "Traceback" not in output
