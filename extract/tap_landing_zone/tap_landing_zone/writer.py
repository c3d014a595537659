"""Singer messages out, fast: msgspec's JSON encoder, and one flush per state message instead of one per record."""

from __future__ import annotations

import atexit
import functools
import io
import sys
from typing import BinaryIO

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import RecordMessage
from singer_sdk.singerlib.encoding.simple import Message


def _stdout() -> BinaryIO:
    """Standard output as a buffered binary stream.

    Under PYTHONUNBUFFERED (set on many machines and images) `sys.stdout.buffer` is the raw file, whose `write()` may
    write only part of a message when a signal interrupts it while the pipe is full (a pipe holds 64 KiB; a state
    message of many partitions is longer), and the rest of the message is lost: the loader then fails on a broken
    line. A BufferedWriter writes all of it, and buffers the records whatever the environment says. Anything else
    (the buffered default, or the SDK's tests capturing the output) is used as it is."""
    stream = sys.stdout.buffer
    return _buffered(stream.fileno()) if isinstance(stream, io.RawIOBase) else stream


@functools.cache
def _buffered(fileno: int) -> io.BufferedWriter:
    stream = open(fileno, "wb", closefd=False)  # noqa: SIM115 - open for the whole process
    atexit.register(stream.flush)
    return stream


class BufferedMsgSpecWriter(MsgSpecWriter):
    """Records go through stdout's buffer; every other message (schema, state, ...) flushes it.

    A STATE message is only written after the records it covers, and it flushes them with it: a run killed mid-way
    loses only records whose bookmark was never emitted, which the next run reads again. The SDK's own writers flush
    after every record (a system call per line, 1M at scale 1).
    """

    def write_message(self, message: Message) -> None:
        out = _stdout()
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            out.flush()
