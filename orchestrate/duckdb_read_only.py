"""A dbt-duckdb plugin (profiles.yml): the warehouse opened read-only when TIDEWATER_WAREHOUSE_READ_ONLY is 1.

DuckDB lets several processes read one database file, or one process write it. `dbt docs generate` only reads the
warehouse: opened read-only, it runs beside Elementary's report (also read-only) instead of before it. The profile's
own `config_options` could say the same, but dbt parses the whole project again whenever the profile's connection
settings change; this switch is read when the connection opens, so the build's partial parse still serves.
"""

from __future__ import annotations

import os
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from tidewater.orchestrate.warehouse import READ_ONLY_VARIABLE


class Plugin(BasePlugin):
    def update_connection_config(self, creds: Any, config: dict[str, Any]) -> None:
        if os.environ.get(READ_ONLY_VARIABLE) == "1":
            config["access_mode"] = "READ_ONLY"
