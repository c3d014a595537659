"""The lake's asset: after the build (which removes erased customers from raw), every table dbt reads as a source
is copied to the lake, beside the other steps that only read the warehouse; retention, which writes it, waits."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult, multi_asset

from tidewater.lake import export
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings


def lake_key(table: str) -> AssetKey:
    return AssetKey(["lake", *table.split(".")])


def lake_asset(manifest: dict[str, Any], after: Sequence[AssetKey]) -> AssetsDefinition:
    tables = export.source_tables(manifest)

    @multi_asset(
        name="lake",
        specs=[
            AssetSpec(
                lake_key(table),
                # The warehouse table it copies, and the build's last assets (the lake holds raw after erasure).
                deps=[AssetKey(table.split(".")), *after],
                group_name="lake",
                kinds={"parquet"},
                description=f"`{table}` as Parquet, one file per load day (data/lake/{table.replace('.', '/')}).",
            )
            for table in tables
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
    )
    def _lake(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        settings = Settings.load()
        results = export.export(settings.warehouse, settings.lake_dir, tables)
        written, removed = sum(r.days_written for r in results), sum(r.days_removed for r in results)
        context.log.info(
            f"lake: {len(results)} tables, {sum(r.rows for r in results):,} rows; {written} day files written, "
            f"{removed} removed ({settings.lake_dir})"
        )
        for result in results:
            yield MaterializeResult(
                asset_key=lake_key(result.table),
                metadata={"rows": result.rows, "days": result.days, "days_written": result.days_written},
            )

    return _lake
