"""The Meltano SDK's standard tap tests (discovery, CLI, each stream's records against its schema, keys, the final
state) on a small landing zone with a malformed line."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from singer_sdk.testing import get_tap_test_class
from tap_landing_zone.tap import TapLandingZone

from tests.landing_zone import write_landing_zone

# The SDK builds the test class, and the tap's config with it, when this module is imported: the landing zone is
# written now, and removed when the test process ends (also after a run that only collects or deselects).
LANDING_DIR = Path(tempfile.mkdtemp(prefix="tap-landing-zone-tests-"))
atexit.register(shutil.rmtree, LANDING_DIR, True)
write_landing_zone(LANDING_DIR)

TestTapLandingZone = get_tap_test_class(TapLandingZone, config={"landing_dir": str(LANDING_DIR)})
