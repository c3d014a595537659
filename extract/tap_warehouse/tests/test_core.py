"""The Meltano SDK's standard tap tests (discovery, CLI, each stream's records against its schema, keys) on a small
warehouse."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class
from tap_warehouse.tap import TapWarehouse

from tests.warehouse import write_warehouse

# The SDK builds the test class, and the tap's config with it, when this module is imported: the warehouse is
# written now, and removed when the test process ends.
FOLDER = Path(tempfile.mkdtemp(prefix="tap-warehouse-tests-"))
atexit.register(shutil.rmtree, FOLDER, True)
WAREHOUSE = write_warehouse(FOLDER / "warehouse.duckdb")

TestTapWarehouse = get_tap_test_class(TapWarehouse, config={"warehouse": str(WAREHOUSE), "destination": "crm"})
