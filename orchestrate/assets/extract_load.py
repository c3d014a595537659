"""Extract+load: one step loads every source Meltano declares (meltano/*.meltano.yml), each by its Meltano pipeline
(`meltano run <extractor> <loader>`, the bookmarks a `meltano run el` by hand uses too), side by side in threads of
the step; their loaders take turns on the one warehouse file. One step for all of them, not one each, because the
run's steps run one after another (definitions.py). Each raw table is an asset of its own.
"""

import shutil
import time
from collections.abc import Iterator
from concurrent.futures import Future, as_completed
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult, multi_asset

from tidewater.orchestrate import meltano
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.assets.sources import ON_APP_DATABASE, SYSTEMS, system_key
from tidewater.orchestrate.commands import side_by_side
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import Source, meltano_sources
from tidewater.privacy import pseudonyms

STARTED_AT = "started_at"
LOADED_IN = "loaded in"  # the line each load ends with (the bench reads each source's time from these)


def raw_tables(manifest: dict[str, Any], schema: str) -> list[str]:
    """The raw tables dbt declares as sources in `schema` (each becomes an asset the staging models depend on)."""
    return sorted(
        source["identifier"] or source["name"] for source in manifest["sources"].values() if source["schema"] == schema
    )


def raw_key(schema: str, table: str) -> AssetKey:
    return AssetKey([schema, table])


def source_keys(source: Source, manifest: dict[str, Any]) -> list[AssetKey]:
    """The raw tables a source's load materializes (the source's name if dbt declares none yet)."""
    return [raw_key(source.load_schema, table) for table in raw_tables(manifest, source.load_schema) or [source.name]]


def _load(settings: Settings, source: Source, env: dict[str, str]) -> tuple[float, float, Path]:
    """One source's pipeline: when it started (epoch s), how long it took, its log."""
    # Batch files a killed load left behind: their state was never emitted, so the tap writes those lines again.
    shutil.rmtree(settings.batches_dir / source.extractor, ignore_errors=True)
    started_at, started = time.time(), time.monotonic()
    log_file = meltano.extract_load(settings, source, env)
    return started_at, time.monotonic() - started, log_file


def extract_load_asset(manifest: dict[str, Any]) -> AssetsDefinition:
    sources = meltano_sources()
    keys = {source.name: source_keys(source, manifest) for source in sources}

    @multi_asset(
        name="extract_load",
        description="Every source, side by side: meltano run <extractor> <loader>, into raw_<source>.",
        specs=[
            AssetSpec(
                key,
                deps=[system_key(source.name)] if source.name in SYSTEMS else [],
                group_name="raw",
                kinds={"meltano", "duckdb"},
                description=f"Raw `{key.path[-1]}` from the {source.label}, as {source.extractor} extracted it.",
            )
            for source in sources
            for key in keys[source.name]
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
        can_subset=True,  # a source's tables load together: selecting one of them loads its source
        required_resource_keys={"app_database"},
    )
    def _extract_load(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        settings = Settings.load()
        selected = [source for source in sources if set(keys[source.name]) & context.selected_asset_keys]
        env: dict[str, dict[str, str]] = {}
        for source in selected:
            env[source.name] = settings.env()
            if source.name in ON_APP_DATABASE:
                database: AppDatabase = context.resources.app_database
                env[source.name].update({**database.connection().env(), **pseudonyms.env(settings)})
        failed: list[str] = []
        with side_by_side(len(selected)) as pool:
            loads: dict[Future[tuple[float, float, Path]], Source] = {}
            for source in selected:
                context.log.info(f"loading the {source.label} (meltano run {source.extractor} {source.loader})")
                loads[pool.submit(_load, settings, source, env[source.name])] = source
            for load in as_completed(loads):
                source = loads[load]
                try:
                    started_at, seconds, log_file = load.result()
                except TidewaterError as error:
                    context.log.error(f"{source.label}: {error}")
                    failed.append(f"{source.label}: {error}")
                    continue
                context.log.info(f"{source.label}: {LOADED_IN} {seconds:.1f} s")
                for key in keys[source.name]:
                    if key in context.selected_asset_keys:
                        yield MaterializeResult(
                            asset_key=key,
                            metadata={
                                "log": str(log_file),
                                "extractor": source.extractor,
                                "loader": source.loader,
                                # The landing-zone sensor loads again any file written after this (automation.py).
                                STARTED_AT: started_at,
                            },
                        )
        if failed:
            raise TidewaterError("\n".join(failed))

    return _extract_load
