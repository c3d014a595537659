"""The `tap-postgres-msgspec-batches` command, as Meltano runs it with batch_config, against the plain `tap-postgres`
command with the same settings (the SDK's own batch files): the same records of every table, the same messages
around them, the same final state.

(Not against RECORD messages: the SDK conforms a RECORD's values to the schema and a batch's not, so a `timestamp
without time zone` gains `+00:00` in RECORD messages only, with either batcher; the app database has none.)"""

from __future__ import annotations

import hmac
import json
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from tap_postgres.tap import TapPostgres

from tests.app_database import REPLICATION_KEYS, selected_catalog, tap_config
from tests.batch_files import as_instants, read_batch_file

BIN = Path(sys.executable).parent


def _run(tmp_path: Path, command: str, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The command's messages, in order (numbers as Decimal)."""
    config_file, catalog_file = tmp_path / f"{command}.json", tmp_path / "catalog.json"
    config_file.write_text(json.dumps(config))
    if not catalog_file.exists():
        discovered = TapPostgres(config=config, setup_mapper=False).catalog_dict
        catalog_file.write_text(json.dumps(selected_catalog(discovered)))
    result = subprocess.run(
        [str(BIN / command), "--config", str(config_file), "--catalog", str(catalog_file)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line, parse_float=Decimal) for line in result.stdout.splitlines()]


def _last_state(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return [m for m in messages if m["type"] == "STATE"][-1]["value"]


def _batched_records(messages: list[dict[str, Any]], suffix: str) -> dict[str, list[dict[str, Any]]]:
    """Per stream, the records of its batch files (each of at most 7 records, named ...<suffix>)."""
    records: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for message in messages:
        assert message["type"] != "RECORD"
        if message["type"] == "BATCH":
            for url in message["manifest"]:
                assert url.endswith(suffix), url
                rows = read_batch_file(url)
                assert 0 < len(rows) <= 7
                records[message["stream"]].extend(rows)
    return records


def _kinds(messages: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(m["type"], m.get("stream")) for m in messages]


def test_batch_files_hold_the_records_and_state_the_sdks_batch_files_hold(tmp_path: Path) -> None:
    batch_config = {
        "encoding": {"format": "jsonl", "compression": "none"},
        "storage": {"root": (tmp_path / "batches").as_uri()},
        "batch_size": 7,
    }
    config = {**tap_config(), "batch_config": batch_config}
    by_sdk = _run(tmp_path, "tap-postgres", config)
    by_msgspec = _run(tmp_path, "tap-postgres-msgspec-batches", config)

    expected = _batched_records(by_sdk, ".json.gz")  # the SDK gzips whatever the config says
    written = _batched_records(by_msgspec, ".jsonl")
    assert sorted(written) == sorted(f"public-{table}" for table in REPLICATION_KEYS)
    for stream, records in expected.items():
        assert as_instants(written[stream]) == as_instants(records), stream
    assert _kinds(by_msgspec) == _kinds(by_sdk)
    assert _last_state(by_msgspec) == _last_state(by_sdk)


def test_batch_files_hold_records_as_the_stream_maps_made_them(tmp_path: Path) -> None:
    """A map that replaces a value by its keyed hash must hold in the batch files, where the SDK alone ignores it."""
    key = "a-test-key-not-a-secret"
    config = {
        **tap_config(),
        "batch_config": {
            "encoding": {"format": "jsonl", "compression": "none"},
            "storage": {"root": (tmp_path / "batches").as_uri()},
            "batch_size": 7,
        },
        "stream_maps": {
            "public-products": {
                "product_name_hash": "pseudonym(config['pseudonym_key'], product_name)",
                "product_name": "__NULL__",
            }
        },
        "stream_map_config": {"pseudonym_key": key},
    }
    by_sdk = _batched_records(_run(tmp_path, "tap-postgres", config), ".json.gz")
    messages = _run(tmp_path, "tap-postgres-msgspec-batches", config)
    written = _batched_records(messages, ".jsonl")

    # The SDK announces the mapped schema but writes the plain values: the gap the wrapper closes.
    assert any(record.get("product_name") for record in by_sdk["public-products"])
    [schema] = [m["schema"] for m in messages if m["type"] == "SCHEMA" and m["stream"] == "public-products"]
    assert "product_name" not in schema["properties"] and "product_name_hash" in schema["properties"]

    plain = {record["product_id"]: record["product_name"] for record in by_sdk["public-products"]}
    for record in written["public-products"]:
        assert "product_name" not in record
        name = plain[record["product_id"]]
        expected = None if name is None else hmac.new(key.encode(), name.strip().lower().encode(), "sha256").hexdigest()
        assert record["product_name_hash"] == expected
    assert len(written["public-products"]) == len(plain) == 20
    # Other streams are untouched.
    assert as_instants(written["public-orders"]) == as_instants(by_sdk["public-orders"])
