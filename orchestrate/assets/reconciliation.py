"""The reconciliation snapshot: right after the loads, what the sources held (every app key, the money totals, each
landing file's line count) goes into the warehouse's `audit` schema; dbt's reconciliation tests compare raw and the
marts with it on every build (tests/dbt/reconciliation)."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult, multi_asset

from tidewater.orchestrate import audit, warehouse
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.assets.extract_load import raw_tables
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources


def reconciliation_asset(manifest: dict[str, Any], raw_keys: Sequence[AssetKey]) -> AssetsDefinition:
    tables = raw_tables(manifest, audit.SCHEMA)

    @multi_asset(
        name="reconciliation_snapshot",
        description="What the sources held right after the loads, for dbt's reconciliation tests.",
        specs=[
            AssetSpec(AssetKey([audit.SCHEMA, table]), deps=list(raw_keys), group_name="raw", kinds={"duckdb"})
            for table in tables
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
    )
    def _snapshot(context: AssetExecutionContext, app_database: AppDatabase) -> Iterator[MaterializeResult]:
        settings = Settings.load()
        connection = app_database.connection()
        counts, problems = audit.snapshot_sources(
            connection.conninfo, settings.landing_dir / "events", settings.warehouse
        )
        context.log.info("source snapshot: " + ", ".join(f"{entity} {n:,}" for entity, n in counts.items()))
        for problem in problems:
            context.log.warning(f"no source total for {problem}")
        # Rows each source's raw schema holds after its load (the bench reads them).
        schemas = tuple(source.load_schema for source in meltano_sources())
        loaded = warehouse.table_counts(settings.warehouse, schemas)
        raw_rows = {
            schema: sum(n for table, n in loaded.get(schema, {}).items() if table not in audit.METADATA_TABLES)
            for schema in schemas
        }
        for table in tables:
            yield MaterializeResult(
                asset_key=AssetKey([audit.SCHEMA, table]),
                metadata={"source_rows": counts, "raw_rows": raw_rows},
            )

    return _snapshot
