"""Loaders take turns on the one warehouse file (moved from tests/python/test_loader.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb

from tests.loading import THINGS_SCHEMA, start_loader, things_batch


def test_loaders_wait_their_turn_on_the_warehouse_and_give_up_with_the_reason(tmp_path: Path) -> None:
    """`tidewater run` loads the sources side by side into one DuckDB file, which one process at a time may write:
    a loader that finds it held waits, then loads everything once it is free; held too long, it stops and says so."""
    batch = things_batch(tmp_path, [{"thing_id": 1, "name": "a"}, {"thing_id": 2, "name": "b"}])
    state = {"type": "STATE", "value": {"bookmarks": {"things": {"replication_key_value": 2}}}}
    wh = tmp_path / "wh.duckdb"

    holder = duckdb.connect(str(wh))  # another process's load, or a user's open session
    loader = start_loader(tmp_path, [THINGS_SCHEMA, batch, state], wait_seconds=120)
    try:
        time.sleep(3)
        assert loader.poll() is None, "the loader did not wait for the warehouse"
    finally:
        holder.close()
    out, err = loader.communicate(timeout=120)
    assert loader.returncode == 0, err[-3000:]
    assert json.loads(out.strip().splitlines()[-1]) == state["value"]
    with duckdb.connect(str(wh), read_only=True) as connection:
        assert connection.execute("select thing_id, name from raw.things order by 1").fetchall() == [(1, "a"), (2, "b")]

    record = {"type": "RECORD", "stream": "things", "record": {"thing_id": 3, "name": "c"}}
    holder = duckdb.connect(str(wh))
    try:
        out, err = start_loader(tmp_path, [THINGS_SCHEMA, record, state], wait_seconds=1).communicate(timeout=120)
    finally:
        holder.close()
    assert "stayed locked by another process" in err and "TIDEWATER_WAREHOUSE_WAIT_SECONDS" in err, err[-3000:]
    assert not out.strip(), "a loader that loaded nothing emitted state"
    with duckdb.connect(str(wh), read_only=True) as connection:
        assert connection.execute("select count(*) from raw.things").fetchone() == (2,)


def test_a_damaged_warehouse_stops_the_loader_at_once_with_duckdbs_reason(tmp_path: Path) -> None:
    """Only a lock held by another process is worth waiting for. A damaged file's error ("... in block at location")
    also says "lock", but waiting would not mend it: the loader stops at once with DuckDB's reason."""
    wh = tmp_path / "wh.duckdb"
    with duckdb.connect(str(wh)) as connection:
        connection.execute("create table filler as select range as i from range(100000)")
    damaged = bytearray(wh.read_bytes())
    damaged[8192 : 8192 + 65536] = b"A" * 65536  # the first data block: its checksum no longer matches
    wh.write_bytes(bytes(damaged))
    batch = things_batch(tmp_path, [{"thing_id": 1, "name": "a"}])
    state = {"type": "STATE", "value": {"bookmarks": {"things": {"replication_key_value": 1}}}}
    out, err = start_loader(tmp_path, [THINGS_SCHEMA, batch, state], wait_seconds=600).communicate(timeout=300)
    assert "Corrupt database file" in err and "in block at location" in err, err[-3000:]
    assert "stayed locked" not in err
    assert not out.strip(), "a loader that loaded nothing emitted state"
