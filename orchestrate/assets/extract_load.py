"""Extract+load: one asset per source Meltano declares (meltano/*.meltano.yml), each running its Meltano pipeline
(`meltano run <extractor> <loader>`, the bookmarks a `meltano run el` by hand uses too). The sources load side by
side (Dagster's executor runs them at once); their loaders take turns on the one warehouse file."""

import shutil
import time
from collections.abc import Iterator
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult, multi_asset

from tidewater.orchestrate import meltano
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.assets.sources import ON_APP_DATABASE, SYSTEMS, system_key
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import Source, meltano_sources
from tidewater.privacy import pseudonyms

STARTED_AT = "started_at"


def raw_tables(manifest: dict[str, Any], schema: str) -> list[str]:
    """The raw tables dbt declares as sources in `schema` (each becomes an asset the staging models depend on)."""
    return sorted(
        source["identifier"] or source["name"] for source in manifest["sources"].values() if source["schema"] == schema
    )


def raw_key(schema: str, table: str) -> AssetKey:
    return AssetKey([schema, table])


def extract_load_asset(source: Source, manifest: dict[str, Any]) -> AssetsDefinition:
    tables = raw_tables(manifest, source.load_schema) or [source.name]
    deps = [system_key(source.name)] if source.name in SYSTEMS else []

    @multi_asset(
        name=f"extract_load_{source.name}",
        description=f"{source.label}: meltano run {source.extractor} {source.loader}, into {source.load_schema}.",
        specs=[
            AssetSpec(
                raw_key(source.load_schema, table),
                deps=deps,
                group_name="raw",
                kinds={"meltano", "duckdb"},
                description=f"Raw `{table}` from the {source.label}, as {source.extractor} extracted it.",
            )
            for table in tables
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
        required_resource_keys={"app_database"} if source.name in ON_APP_DATABASE else set(),
    )
    def _extract_load(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        settings = Settings.load()
        env = settings.env()
        if source.name in ON_APP_DATABASE:
            database: AppDatabase = context.resources.app_database
            env.update({**database.connection().env(), **pseudonyms.env(settings)})
        # Batch files a killed load left behind: their state was never emitted, so the tap writes those lines again.
        shutil.rmtree(settings.batches_dir / source.extractor, ignore_errors=True)
        context.log.info(f"loading the {source.label} (meltano run {source.extractor} {source.loader})")
        started_at, started = time.time(), time.monotonic()
        log_file = meltano.extract_load(settings, source, env)
        seconds = time.monotonic() - started
        context.log.info(f"{source.label}: loaded in {seconds:.1f} s")
        for table in tables:
            yield MaterializeResult(
                asset_key=raw_key(source.load_schema, table),
                metadata={
                    "log": str(log_file),
                    "extractor": source.extractor,
                    "loader": source.loader,
                    # The landing-zone sensor loads again any file written after this (automation.py).
                    STARTED_AT: started_at,
                },
            )

    return _extract_load


def extract_load_assets(manifest: dict[str, Any]) -> list[AssetsDefinition]:
    return [extract_load_asset(source, manifest) for source in meltano_sources()]
