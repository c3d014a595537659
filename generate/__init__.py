"""Deterministic generator of the Saltbox Home sources: the app database, the web-event landing zone and the
marketing spend spreadsheet (see docs / the source contract). Same seed and scale: byte-identical output."""

from .app_db import AppData, app_database_is_current, build_app_data, load_app_database
from .config import GenerationConfig
from .events import write_events
from .run import Summary, generate
from .spreadsheet import write_marketing_spend

__all__ = [
    "AppData",
    "GenerationConfig",
    "Summary",
    "app_database_is_current",
    "build_app_data",
    "generate",
    "load_app_database",
    "write_events",
    "write_marketing_spend",
]
