"""The tap's messages reach the loader whole, even when the environment asks for unbuffered output and a signal
interrupts a write to a full pipe."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

# A child writes one long state message (many partitions' bookmarks, ~1 MB: a pipe holds 64 KiB), a record and a
# short state; SIGUSR1 does nothing there but interrupt its blocked write().
CHILD = """
import signal
from singer_sdk.singerlib import RecordMessage, StateMessage
from tap_landing_zone.writer import BufferedMsgSpecWriter

signal.signal(signal.SIGUSR1, lambda *_: None)
bookmarks = {f"2026-10-{day:02d}/file-{n:05d}.jsonl": n for day in range(1, 29) for n in range(1000)}
writer = BufferedMsgSpecWriter()
writer.write_message(StateMessage(value={"bookmarks": {"events": {"partitions": bookmarks}}}))
writer.write_message(RecordMessage(stream="events", record={"event_id": "last"}))
writer.write_message(StateMessage(value={}))
signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # all is written: a signal while Python shuts down must not end it
"""


def test_a_long_message_interrupted_by_signals_arrives_whole() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    received = bytearray()
    while chunk := child.stdout.read1(4096):
        received += chunk
        child.send_signal(signal.SIGUSR1)
        time.sleep(0.001)  # the child's write blocks again on a full pipe before the next signal
    assert child.wait(timeout=60) == 0
    lines = bytes(received).splitlines()
    assert len(lines) == 3, [line[:80] for line in lines]
    state, record, _ = (json.loads(line) for line in lines)
    assert len(state["value"]["bookmarks"]["events"]["partitions"]) == 28_000
    assert record["record"] == {"event_id": "last"}
