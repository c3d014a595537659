"""The Meltano SDK's standard tap tests on tap-postgres as this plugin runs it (the msgspec batch writer in place),
against the tests' PostgreSQL, with the tables selected and incremental as Meltano selects them."""

from __future__ import annotations

from singer_batch_msgspec.batcher import use_for_jsonl
from singer_sdk.testing import get_tap_test_class
from tap_postgres.tap import TapPostgres

from tests.app_database import selected_catalog, tap_config

use_for_jsonl()  # as the `tap-postgres-msgspec-batches` command does before it runs the tap

TestTapPostgresMsgspecBatches = get_tap_test_class(
    TapPostgres,
    config=tap_config(),
    catalog=selected_catalog(TapPostgres(config=tap_config(), setup_mapper=False).catalog_dict),
)
