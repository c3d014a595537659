"""Read batch files back, and compare their values with the SDK's, allowing the one difference of form."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse


def read_batch_file(url: str) -> list[dict[str, Any]]:
    """The records of one JSON-lines batch file, plain or gzipped; numbers as Decimal, so no digit is lost."""
    path = Path(urlparse(url).path)
    body = path.read_bytes()
    if path.name.endswith(".gz"):
        body = gzip.decompress(body)
    return [json.loads(line, parse_float=Decimal) for line in body.decode().splitlines()]


def _instant(value: Any) -> Any:
    """A time with a UTC offset as the instant it names: msgspec writes `Z` where isoformat writes `+00:00`."""
    if isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def as_instants(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: _instant(value) for key, value in record.items()} for record in records]
