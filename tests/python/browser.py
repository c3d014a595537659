"""A real browser for the tests: Debian's chromium, headless, with no network of its own."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        raise RuntimeError("chromium is not installed: `make test` installs it (apt-get install chromium)")
    return path


def render(url: str, screenshot: Path, *, wait_ms: int = 15000) -> str:
    """Open the page, let its scripts run, save a screenshot and return the rendered DOM."""
    with tempfile.TemporaryDirectory() as profile:
        common = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={wait_ms}"]
        subprocess.run(
            [*common, "--window-size=1400,900", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=120,
            check=True,
        )
        dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    return dom.stdout
