"""The one standard SDK test this tap fails, on purpose, marked so (strict: it fails the suite once it passes)."""

from __future__ import annotations

import pytest

KNOWN_FAILURES = {
    "test_tap_stream_record_schema_matches_transformed_catalog[events]": (
        "as RECORD messages, each events record also carries its state partition's key (source_file, added by the "
        "SDK) because the stream skips the SDK's type conformance (a third of the tap's time), which would drop it; "
        "target-duckdb ignores the field, and Meltano runs this tap with BATCH files, which do not carry it. "
        "Renaming the partition key to _source_file would reset every stored bookmark."
    ),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        reason = KNOWN_FAILURES.get(item.name)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
