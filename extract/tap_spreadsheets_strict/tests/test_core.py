"""The Meltano SDK's standard tap tests on a small spreadsheet, through the strict tap."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class
from tap_spreadsheets_strict.tap import TapSpreadsheetsStrict

from tests.spreadsheet import tap_config, write_spreadsheet

# The SDK builds the test class when this module is imported, and the tap reads the file's header then (its schema
# comes from the file): the file is written now, and removed when the test process ends.
FOLDER = Path(tempfile.mkdtemp(prefix="tap-spreadsheets-strict-tests-"))
atexit.register(shutil.rmtree, FOLDER, True)
SPREADSHEET = write_spreadsheet(FOLDER / "marketing_spend.csv")

TestTapSpreadsheetsStrict = get_tap_test_class(TapSpreadsheetsStrict, config=tap_config(SPREADSHEET))
