"""The `target-duckdb-explicit-csv` command: target-duckdb 0.8.0's own `main`, with four changes put in place first.

- its batch CSV files are loaded with their dialect stated (csv_dialect.py);
- its per-record functions take a faster path giving the same rows (fast_path.py);
- Singer BATCH messages (tap-landing-zone, tap-postgres) have their files read by DuckDB (batches.py);
- the warehouse is opened only while the loader writes to it, so the loads of several sources can run side by side
  (shared_warehouse.py).
"""

from __future__ import annotations

from typing import Any

import target_duckdb

from target_duckdb_explicit_csv import batches
from target_duckdb_explicit_csv.csv_dialect import ExplicitCsvConnection, explicit_copy_options
from target_duckdb_explicit_csv.fast_path import use_fast_path
from target_duckdb_explicit_csv.shared_warehouse import SharedWarehouseConnection, wait_seconds_from_environment


def main() -> None:
    use_fast_path()
    original_connect = target_duckdb.duckdb_connect
    library_flush_streams = target_duckdb.flush_streams
    shared: list[SharedWarehouseConnection] = []

    def connect(config: dict[str, Any]) -> ExplicitCsvConnection:
        """The warehouse, opened when a statement needs it (the library opened it at once, until the end); the
        library's connect, called then, checks the configuration as before."""
        path = str(config.get("path", config.get("filepath")))
        connection = SharedWarehouseConnection(
            lambda: original_connect(config), wait_seconds=wait_seconds_from_environment(), label=path
        )
        shared.append(connection)
        options = explicit_copy_options(config.get("delimiter", ","), config.get("quotechar", '"'))
        return ExplicitCsvConnection(connection, options)

    def flush_streams(*args: Any, **kwargs: Any) -> Any:
        """The library's flush of RECORD messages, then the warehouse is let go until the next one."""
        flushed_state = library_flush_streams(*args, **kwargs)
        for connection in shared:
            connection.release()
        return flushed_state

    target_duckdb.duckdb_connect = connect
    target_duckdb.flush_streams = flush_streams
    target_duckdb.persist_lines = batches.persist_lines
    target_duckdb.main()
    for connection in shared:
        if connection.waited >= 1:
            target_duckdb.LOGGER.info(
                "Waited %.1f s in all for other loaders to let go of the warehouse (%d turns)",
                connection.waited,
                connection.turns,
            )


if __name__ == "__main__":
    main()
