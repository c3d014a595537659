"""JSON-lines batch files (`batch_config.encoding.format: jsonl`) written by msgspec, for any Meltano SDK tap.

The SDK chooses a batch encoder by format name, and its config schema allows only its own names (jsonl, parquet):
so `use_for_jsonl` puts this encoder in the place of the SDK's jsonl encoder, for this process. The SDK's encoder
serializes each record with simplejson and gzips it at level 9, one record at a time: at scale 1 that was 12 of the
28 s tap-postgres spent on the app database (profiled). This one encodes a whole batch in one msgspec call and writes
it plain (`compression: none`) or gzipped at level 1 (`gzip`).

The values are the ones the SDK writes, in JSON: numbers (Decimal as a number), text, booleans, null for NaN, dates
and times in ISO 8601. One difference of form: msgspec writes a UTC offset as `Z` where Python's isoformat writes
`+00:00`; both are the same instant to a loader (DuckDB reads either into the same TIMESTAMP).
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import msgspec
from singer_sdk.batch import BaseBatcher, Batcher, lazy_chunked_generator

FORMAT = "jsonl"


def _as_text(value: Any) -> str:
    """Types msgspec does not know are written as the SDK writes them: their text."""
    return str(value)


class MsgspecJSONLinesBatcher(BaseBatcher):
    """One JSON-lines file per `batch_size` records."""

    def get_batches(self, records: Iterator[dict]) -> Iterator[list[str]]:
        compression = self.batch_config.encoding.compression
        if compression not in (None, "none", "gzip"):
            raise ValueError(f"{FORMAT} batch files are plain or gzip, not {compression}")
        encoder = msgspec.json.Encoder(enc_hook=_as_text, decimal_format="number")
        storage = self.batch_config.storage
        sync_id = f"{storage.prefix or ''}{self.tap_name}--{self.stream_name}-{uuid4()}"
        for part, chunk in enumerate(lazy_chunked_generator(records, self.batch_config.batch_size), start=1):
            body = encoder.encode_lines(list(chunk))
            if compression == "gzip":
                filename = f"{sync_id}-{part}.jsonl.gz"
                body = gzip.compress(body, compresslevel=1)
            else:
                filename = f"{sync_id}-{part}.jsonl"
            with storage.open(filename, "wb") as handle:
                handle.write(body)
            yield [storage.get_url(filename)]


_sdk_get_batcher = Batcher.get_batcher.__func__  # type: ignore[attr-defined]


def _get_batcher(cls: type[Batcher], name: str) -> type[BaseBatcher]:
    return MsgspecJSONLinesBatcher if name == FORMAT else _sdk_get_batcher(cls, name)


def use_for_jsonl() -> None:
    """Every jsonl batch file of this process is written by MsgspecJSONLinesBatcher; other formats as the SDK does."""
    Batcher.get_batcher = classmethod(_get_batcher)  # type: ignore[method-assign,assignment]
