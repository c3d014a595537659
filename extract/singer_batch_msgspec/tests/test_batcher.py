"""MsgspecJSONLinesBatcher writes the values the SDK's own jsonl batcher writes, in files of batch_size records,
plain or gzipped; `use_for_jsonl` puts it in the SDK's place for jsonl only."""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from singer_batch_msgspec.batcher import MsgspecJSONLinesBatcher, use_for_jsonl
from singer_sdk.batch import Batcher
from singer_sdk.contrib.batch_encoder_jsonl import JSONLinesBatcher
from singer_sdk.helpers._batch import BatchConfig

from tests.batch_files import as_instants, read_batch_file

# Every type tap-postgres hands over for the app database's columns (and a few more), with the edge values.
RECORDS: list[dict[str, Any]] = [
    {
        "id": 1,
        "big": 10**15,
        "text": 'say "hi", \\ ok\nü 例え',
        "empty": "",
        "null": None,
        "money": Decimal("1234567.89"),
        "digits": Decimal("1234567.000001234567"),
        "exponent": Decimal("1E+2"),
        "ratio": 0.1,
        "not_a_number": math.nan,
        "flag": True,
        "utc": datetime(2026, 1, 1, 10, 30, 0, 123456, tzinfo=UTC),
        "offset": datetime(2026, 1, 1, 10, 30, tzinfo=timezone(timedelta(hours=1))),
        "naive": datetime(2026, 1, 2, 8, 0, 0, 456),
        "day": date(2026, 1, 2),
        "clock": time(1, 2, 3),
        "uuid": uuid.UUID("8b9e2332-99c7-41ea-b1c5-39c10982a61c"),
        "nested": {"a": [1, Decimal("2.50"), None]},
    },
    {"id": 2, "text": None, "money": Decimal("0.00"), "flag": False, "utc": datetime(2026, 1, 3, tzinfo=UTC)},
    {"id": 3, "text": "three", "money": Decimal("-5.10")},
]


def _batch_config(tmp_path: Path, compression: str | None = "none", batch_size: int = 2) -> BatchConfig:
    return BatchConfig.from_dict(
        {
            "encoding": {"format": "jsonl", "compression": compression},
            "storage": {"root": (tmp_path / "batches").as_uri()},
            "batch_size": batch_size,
        }
    )


def _written(batcher: Any, records: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """The batcher's files (urls) and the records read back from them, in order."""
    urls = [url for manifest in batcher.get_batches(iter(records)) for url in manifest]
    return urls, [record for url in urls for record in read_batch_file(url)]


@pytest.mark.parametrize("compression", ["none", None, "gzip"])
def test_the_values_are_the_sdks_in_files_of_batch_size_records(tmp_path: Path, compression: str | None) -> None:
    config = _batch_config(tmp_path, compression)
    urls, written = _written(MsgspecJSONLinesBatcher("tap-postgres", "public-things", config), RECORDS)
    _, by_sdk = _written(JSONLinesBatcher("tap-postgres", "public-things", config), RECORDS)
    assert as_instants(written) == as_instants(by_sdk)
    assert [len(read_batch_file(url)) for url in urls] == [2, 1]
    assert all(url.endswith(".jsonl.gz" if compression == "gzip" else ".jsonl") for url in urls), urls
    assert all("/tap-postgres--public-things-" in url for url in urls)


@pytest.mark.xfail(
    strict=True,
    reason="msgspec writes Decimal('NaN') as NaN (not JSON) where the SDK writes null, and an interval as ISO 8601 "
    "(P1D) where the SDK writes str() ('1 day, 0:00:00'); the app database has neither (a numeric NaN, an interval "
    "column). Kept as found: this plugin's shape changed, not its behaviour.",
)
@pytest.mark.parametrize("value", [Decimal("NaN"), timedelta(days=1)], ids=["numeric-nan", "interval"])
def test_values_the_app_database_does_not_hold_are_written_as_the_sdk_writes_them(tmp_path: Path, value: Any) -> None:
    config = _batch_config(tmp_path)
    _, written = _written(MsgspecJSONLinesBatcher("tap-postgres", "public-things", config), [{"value": value}])
    _, by_sdk = _written(JSONLinesBatcher("tap-postgres", "public-things", config), [{"value": value}])
    assert written == by_sdk


def test_a_compression_other_than_none_or_gzip_stops_with_the_reason(tmp_path: Path) -> None:
    batcher = MsgspecJSONLinesBatcher("tap-postgres", "public-things", _batch_config(tmp_path, "bz2"))
    with pytest.raises(ValueError, match="jsonl batch files are plain or gzip, not bz2"):
        next(iter(batcher.get_batches(iter(RECORDS))))


def test_use_for_jsonl_replaces_the_sdks_jsonl_batcher_only() -> None:
    use_for_jsonl()
    assert Batcher.get_batcher("jsonl") is MsgspecJSONLinesBatcher
    with pytest.raises(ValueError, match="Unsupported batcher: csv"):
        Batcher.get_batcher("csv")
