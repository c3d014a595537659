"""Stream maps in BATCH mode, and a keyed hash for them (`pseudonym`).

The SDK applies a tap's `stream_maps` to RECORD messages only: in BATCH mode `Stream.get_batches` hands the
batcher the records as the database returned them, while the SCHEMA message already describes the mapped stream. A
map that hashes an email and drops the plain value (`email: __NULL__`) would be announced and then ignored, and the
plain values would reach the batch files and the warehouse. `apply_in_batches` sends every record of a batch through
the stream's map first, as a RECORD would go.

The SDK's expression functions include md5 and sha256, which anyone can compute: a hash of an email without a key is
reversed by hashing guessed emails. `pseudonym(key, value)` is HMAC-SHA256 under a secret key, so without the key no
guess can be checked.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Iterator
from typing import Any

from singer_sdk.batch import Batcher
from singer_sdk.mapper import CustomStreamMap, RemoveRecordTransform
from singer_sdk.streams.core import Stream


def pseudonym(key: str, value: Any) -> str | None:
    """HMAC-SHA256 (hex) of the trimmed, lower-cased text of `value` under `key`; None for a missing or blank value.

    Case and surrounding spaces do not make another person (`' Ada@Example.COM'` is `ada@example.com`), so the same
    value always gives the same pseudonym and joins still work."""
    if not key:
        raise ValueError("pseudonym() needs a key: set stream_map_config.pseudonym_key")
    text = "" if value is None else str(value).strip().lower()
    if not text:
        return None
    return hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()


def _mapped(stream: Stream, records: Iterable[dict]) -> Iterator[dict]:
    maps = [m for m in stream.stream_maps if not isinstance(m, RemoveRecordTransform)]
    if not maps:
        return
    if len(maps) > 1 or maps[0].stream_alias != stream.name:
        # A BATCH message names one stream and its files hold one set of records: an alias or a split stream cannot
        # be told apart in them.
        raise ValueError(
            f"stream {stream.name}: in BATCH mode a stream map may transform a stream, not alias or split it"
        )
    for record in records:
        mapped = maps[0].transform(record)
        if mapped is not None:
            yield mapped


_sdk_functions = CustomStreamMap.functions


def _get_batches(self: Stream, batch_config: Any, context: Any = None) -> Iterator[tuple[Any, list[str]]]:
    """The SDK's Stream.get_batches, with the records mapped on their way to the batcher."""
    batcher = Batcher(tap_name=self.tap_name, stream_name=self.name, batch_config=batch_config)
    records = _mapped(self, self._sync_records(context, write_messages=False))
    for manifest in batcher.get_batches(records=records):
        yield batch_config.encoding, manifest


def _functions(self: CustomStreamMap) -> dict[str, Any]:
    return {**_sdk_functions.fget(self), "pseudonym": pseudonym}  # type: ignore[attr-defined]


def apply_in_batches() -> None:
    """For this process: batch files hold mapped records, and map expressions may call `pseudonym(key, value)`."""
    Stream.get_batches = _get_batches  # type: ignore[method-assign]
    CustomStreamMap.functions = property(_functions)  # type: ignore[method-assign,assignment]
