"""The plugins together, as Meltano installs and runs them: the tap's buffered writer loses nothing on the way to the
loader, and batch files land the rows and state RECORD messages land. Each plugin's own behaviour is tested in its
extract/<plugin>/tests, in its own environment (`make test-plugins`)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from helpers import BIN, TEST_SCALE, TEST_SEED, meltano_env, meltano_run_alone

from tidewater.generate import GenerationConfig, generate
from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import PROJECT_ROOT
from tidewater.privacy import pseudonyms


def test_every_line_of_several_files_lands_once_through_the_buffered_tap(tmp_path: Path) -> None:
    """The tap flushes its output at each state message, not after each record: 3 files of 2,500 lines (one
    malformed, one with a nested field) in batches of 1,000 rows must land as 7,500 rows, each (file, line) once."""
    for day in ("2026-01-01", "2026-01-02", "2026-01-03"):
        folder = tmp_path / "landing" / "events" / day
        folder.mkdir(parents=True)
        lines = [
            json.dumps({"event_id": f"evt_{day}_{i:05d}", "event_type": "page_view", "context": {"i": i}})
            for i in range(2_500)
        ]
        lines[17] = '{"event_id": "cut'
        folder.joinpath(f"arrived-{day}.jsonl").write_text("\n".join(lines) + "\n")
    result, wh = meltano_run_alone(tmp_path, "tap-landing-zone", "TARGET_DUCKDB_BATCH_SIZE_ROWS=1000\n")
    assert result.returncode == 0, result.stderr[-3000:]
    with warehouse.connect(wh) as connection:
        ((rows, keys, malformed, with_extra),) = connection.execute(
            """
            select
                count(*),
                count(distinct (_source_file, _line_number)),
                count(*) filter (where parse_error is not null),
                count(*) filter (where extra_fields = '{"context":{"i":5}}')
            from raw_events.events
            """
        ).fetchall()
    assert (rows, keys, malformed, with_extra) == (7_500, 7_500, 3, 3)


TAP = PROJECT_ROOT / ".meltano" / "extractors" / "tap-landing-zone" / "venv" / "bin" / "tap-landing-zone"
LOADER = PROJECT_ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "target-duckdb-explicit-csv"
# The columns that say when a row was extracted and loaded (and when the tap's run saw a file): they differ between
# any two loads.
LOAD_TIMES = ("_sdc_extracted_at", "_sdc_batched_at", "seen_at")


def _tap_then_loader(
    tmp_path: Path,
    name: str,
    batch_config: dict | None,
    batch_size_rows: int,
    tap: list[str] | None = None,
    tap_config: dict | None = None,
    schema: str = "raw_events",
) -> tuple[Path, str]:
    """A tap (tap-landing-zone unless told) piped into the loader, as Meltano runs them; returns the warehouse and
    the last state the loader emitted."""
    tap_config = {**(tap_config or {"landing_dir": str(tmp_path / "landing")})}
    tap_config.pop("batch_config", None)
    if batch_config:
        tap_config["batch_config"] = batch_config
    wh = tmp_path / f"{name}.duckdb"
    loader_config = {
        "filepath": str(wh),
        "default_target_schema": schema,
        "add_metadata_columns": True,
        "batch_size_rows": batch_size_rows,
        "primary_key_required": False,
    }
    (tmp_path / f"{name}-tap.json").write_text(json.dumps(tap_config))
    (tmp_path / f"{name}-loader.json").write_text(json.dumps(loader_config))
    command = [*(tap or [str(TAP)]), "--config", str(tmp_path / f"{name}-tap.json")]
    tap_process = subprocess.Popen(command, stdout=subprocess.PIPE)
    loaded = subprocess.run(
        [str(LOADER), "--config", str(tmp_path / f"{name}-loader.json")],
        stdin=tap_process.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tap_process.wait(timeout=60) == 0
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    return wh, loaded.stdout.strip().splitlines()[-1]


def _raw_rows(wh: Path, table: str, schema: str = "raw_events") -> list[tuple]:
    with warehouse.connect(wh) as connection:
        described = connection.execute(f"describe {schema}.{table}").fetchall()
        listed = ", ".join(f'"{row[0]}"' for row in described if row[0] not in LOAD_TIMES)
        return connection.execute(f"select {listed} from {schema}.{table} order by all").fetchall()


def test_batch_files_land_the_rows_and_state_that_record_messages_land(tmp_path: Path) -> None:
    """tap-landing-zone's BATCH messages, loaded by DuckDB, against its RECORD messages through target-duckdb's own
    loop: the same rows (text, numbers, empty strings made NULL, nested values, malformed and cut lines, a byte
    order mark, blank lines, quotes and non-ASCII), the same table, the same final state."""
    lines = [
        json.dumps({"event_id": f"evt_{i:04d}", "event_type": "page_view", "referrer": "" if i % 3 else None})
        for i in range(2_345)
    ]
    lines[5] = '{"event_id": "cut'
    lines[6] = json.dumps({"event_id": 'say "hi", \\ ok', "page_url": "https://例え.jp/ü?q=1,2", "customer_id": 17})
    lines[7] = json.dumps({"event_id": "evt_nested", "context": {"i": [1, 2.5, None, True]}, "product_id": 3.0})
    lines[8] = "   "
    lines[9] = json.dumps(["not", "an", "object"])
    day_one = tmp_path / "landing" / "2026-01-01"
    day_one.mkdir(parents=True)
    day_one.joinpath("events.jsonl").write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")
    day_two = tmp_path / "landing" / "2026-01-02"
    day_two.mkdir()
    day_two.joinpath("events.jsonl").write_text('{"event_id": "evt_last"}\n{"event_id": "no end of line')
    batches = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (tmp_path / "batches").as_uri()},
        "batch_size": 1_000,
    }
    by_records, records_state = _tap_then_loader(tmp_path, "records", None, 500)
    by_batches, batches_state = _tap_then_loader(tmp_path, "batches", batches, 500)
    events = _raw_rows(by_batches, "events")
    assert len(events) == 2_345 - 1 + 2  # the blank line carries no event
    assert events == _raw_rows(by_records, "events")
    assert _raw_rows(by_batches, "landing_files") == _raw_rows(by_records, "landing_files")
    assert batches_state == records_state
    assert not list((tmp_path / "batches").iterdir()), "the loader leaves batch files behind"
    with warehouse.connect(by_batches) as connection, warehouse.connect(by_records) as other:
        assert (
            connection.execute("describe raw_events.events").fetchall()
            == other.execute("describe raw_events.events").fetchall()
        )
        ((nulls, empty),) = connection.execute(
            "select count(*) filter (where referrer is null), count(*) filter (where referrer = '') "
            "from raw_events.events"
        ).fetchall()
    assert (nulls, empty) == (len(events), 0)  # as target-duckdb's CSV path: an empty string lands as NULL


def test_app_batch_files_land_the_rows_and_state_that_record_messages_land(tmp_path: Path) -> None:
    """tap-postgres through our msgspec batch writer and DuckDB, against the SDK's RECORD messages through
    target-duckdb's own loop, on a generated app database: every table, row, column type and the final state."""
    server = PostgresServer(tmp_path / "postgres")
    connection = server.start()
    try:
        generate(GenerationConfig(seed=TEST_SEED, scale=TEST_SCALE), tmp_path / "landing", connection.conninfo)
        env_file = tmp_path / "tidewater.env"
        # Any key: both paths pseudonymise with it (the stream maps, in RECORD messages and in batch files).
        key = {pseudonyms.ENV_VAR: "loader-test-key-0123456789abcdef"}
        env = {**connection.env(), "TIDEWATER_DATA_DIR": str(tmp_path), **key}
        env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
        dumped = {}
        for what in ("config", "catalog"):
            result = subprocess.run(
                [str(BIN / "meltano"), "--env-file", str(env_file), "invoke", f"--dump={what}", "tap-postgres"],
                cwd=PROJECT_ROOT,
                env=meltano_env(tmp_path),
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            dumped[what] = json.loads(result.stdout)
        (tmp_path / "catalog.json").write_text(json.dumps(dumped["catalog"]))
        venv_bin = PROJECT_ROOT / ".meltano" / "extractors" / "tap-postgres" / "venv" / "bin"
        catalog = ["--catalog", str(tmp_path / "catalog.json")]
        # RECORD messages from the same command without batch_config: the SDK's own record path, where it applies
        # the stream maps itself (the plain `tap-postgres` command lacks the maps' pseudonym function).
        tap = str(venv_bin / "tap-postgres-msgspec-batches")
        by_records, records_state = _tap_then_loader(
            tmp_path, "records", None, 100_000, [tap, *catalog], dumped["config"], "raw_app"
        )
        batches = {**dumped["config"]["batch_config"], "batch_size": 2_000}
        assert batches["storage"]["root"] == (tmp_path / "batches" / "tap-postgres").as_uri()
        by_batches, batches_state = _tap_then_loader(
            tmp_path,
            "batches",
            batches,
            5_000,
            [tap, *catalog],
            dumped["config"],
            "raw_app",
        )
    finally:
        server.stop()
    for table in ("customers", "products", "orders", "order_items", "payments"):
        rows = _raw_rows(by_batches, table, "raw_app")
        assert rows, table
        assert rows == _raw_rows(by_records, table, "raw_app"), table
    with warehouse.connect(by_batches) as connection, warehouse.connect(by_records) as other:
        columns = "select table_name, column_name, data_type from information_schema.columns order by all"
        assert connection.execute(columns).fetchall() == other.execute(columns).fetchall()
    assert batches_state == records_state
    assert not [p for p in (tmp_path / "batches").rglob("*") if p.is_file()], "the loader leaves batch files behind"
