"""The Streamlit dashboards a retailer's team opens every morning (`make dashboards`): KPIs, sales, funnel, customer
cohorts and data health, as code. Each page is a file in views/, every query it runs is in queries.py (with the
models it reads), and the pages read only the serving copy (serve/published.py), never the warehouse.

The app finds the data folder the way every Tidewater command does (`Settings.load()`: TIDEWATER_DATA_DIR, then the
user's config file), so start it with `command()` in an environment holding `Settings.env()`."""

from __future__ import annotations

import sys
from pathlib import Path

from tidewater.orchestrate.settings import Settings

APP = Path(__file__).resolve().parent / "app.py"


def command(settings: Settings, port: int | None = None) -> list[str]:
    """The argv that serves the dashboards on 127.0.0.1 (run it with `settings.env()` in its environment).

    Every option is on the command line, not in a config.toml, because Streamlit reads .streamlit/ from the current
    directory, and the dashboards must behave the same wherever they are started from: offline (no usage statistics,
    nothing fetched at view time), local only, and no file watcher (the pages are code, not a notebook)."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port if port is not None else settings.dashboards_port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
        "--theme.base",
        "light",
    ]
