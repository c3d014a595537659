"""The lifecycle as Dagster sees it: every asset, job, schedule, sensor and check. `make ui` serves these; `make run`
(`tidewater run`) runs the `lifecycle` job in-process, without a daemon.

    sources/*  ->  raw_*/* (Meltano)  ->  audit/* (reconciliation snapshot)  ->  dbt: reference, staging,
    intermediate, marts, snapshots, metrics, the ML features, model and scores, the audiences (tests, the sources'
    freshness too, as checks)  ->  serving/* (the copy the dashboards and the API read, serve/assets.py),
    ml/feature_store (Feast), lake/* (every source table as Parquet, lake/), observability/* (docs, report),
    retention/*  ->  reverse_etl/* (the audiences into the CRM and a webhook)  ->  Elementary's alerts
"""

from __future__ import annotations

import json
from typing import Any

from dagster import (
    AssetSelection,
    Definitions,
    JobDefinition,
    build_reconstructable_job,
    define_asset_job,
    in_process_executor,
)

from tidewater.lake.assets import lake_asset
from tidewater.orchestrate import automation, dbt
from tidewater.orchestrate.alerts import alert_on_failure
from tidewater.orchestrate.app_database import AppDatabase
from tidewater.orchestrate.assets.extract_load import extract_load_asset, source_keys
from tidewater.orchestrate.assets.observability import last_built, observability_assets
from tidewater.orchestrate.assets.reconciliation import reconciliation_asset
from tidewater.orchestrate.assets.retention import RAW_EVENTS, retention_asset
from tidewater.orchestrate.assets.sources import ON_APP_DATABASE, generate_sources
from tidewater.orchestrate.assets.transform import transform_assets
from tidewater.orchestrate.console import step_lines
from tidewater.orchestrate.partitions import business_days
from tidewater.orchestrate.settings import Settings
from tidewater.orchestrate.sources import meltano_sources
from tidewater.serve.assets import SERVING_KEYS, serving_assets
from tidewater.serve.ml.assets import FEATURE_STORE, feature_store_asset
from tidewater.serve.reverse_etl.assets import CRM, WEBHOOK, reverse_etl_assets

settings = Settings.load()
# dagster-dbt reads dbt's manifest to know the models: parsed again if a model changed since (or missing, as on a new
# checkout), so an edited model shows.
manifest_path = dbt.manifest(settings)
manifest = json.loads(manifest_path.read_text())

dbt_build = transform_assets(manifest_path)
extract_load = extract_load_asset(manifest)
reconciliation = reconciliation_asset(manifest, list(extract_load.keys))
serving = serving_assets(last_built(dbt_build))
feature_store = feature_store_asset(last_built(dbt_build))
lake = lake_asset(manifest, last_built(dbt_build))
# The steps that write the warehouse after the build wait for every step that reads it (DuckDB lets a writer in only
# alone): retention, then the reverse ETL sync (its state and log), then Elementary's alerts.
retention = retention_asset([*last_built(dbt_build), *SERVING_KEYS, FEATURE_STORE, *lake.keys])
reverse_etl = reverse_etl_assets([RAW_EVENTS])
observability = observability_assets(dbt_build, alerts_after=[*SERVING_KEYS, RAW_EVENTS, CRM, WEBHOOK])
assets = [
    generate_sources,
    extract_load,
    reconciliation,
    dbt_build,
    *serving,
    feature_store,
    lake,
    retention,
    *reverse_etl,
    *observability,
]

marts = [key for key in dbt_build.keys if key.path[0] == "marts"]
freshness_checks = automation.marts_freshness(settings, marts)

# The steps run one after another in the run's own process. Dagster's multiprocess executor started a process per step,
# each opening the instance and checking its SQLite files' schema again: a share of every run's CPU worth saving
# (docs/benchmark.md). What runs side by side does so inside a step: the loads (extract_load.py), the docs and the
# report (observability.py).
executor = in_process_executor

lifecycle = define_asset_job(
    "lifecycle",
    selection=AssetSelection.assets(*assets),
    partitions_def=business_days,
    hooks={alert_on_failure},
    description="The whole lifecycle for a business day (or a range): generate, extract+load, reconcile, build "
    "(freshness included), docs, report.",
)
load_and_build = define_asset_job(
    "load_and_build",
    selection=AssetSelection.assets(*assets) - AssetSelection.assets(generate_sources),
    partitions_def=business_days,
    hooks={alert_on_failure},
    description="What landed, loaded and built, without moving the sources on (the landing-zone sensor runs it).",
)

# The sensor watches the file-based sources' loads (one raw table of each tells when it last started).
landing = [min(source_keys(source, manifest)) for source in meltano_sources() if source.name not in ON_APP_DATABASE]

marts_deadline = define_asset_job(
    "marts_deadline",
    selection=AssetSelection.checks(*freshness_checks),
    description="The marts' freshness checks alone (the marts_deadline sensor runs them when they may be overdue).",
)

defs = Definitions(
    assets=assets,
    asset_checks=freshness_checks,
    jobs=[lifecycle, load_and_build, marts_deadline],
    schedules=[automation.daily_schedule(settings, lifecycle)],
    sensors=[
        automation.landing_zone_sensor(load_and_build, landing),
        *automation.deadline_sensors(settings, freshness_checks),
    ],
    resources={"app_database": AppDatabase()},
    loggers={"console": step_lines},
    executor=executor,
)


def job(name: str) -> JobDefinition:
    return defs.resolve_job_def(name)


def reconstructable(name: str) -> Any:  # dagster's ReconstructableJob, not exported
    """A job by module and name, as Dagster's execute_job takes it."""
    return build_reconstructable_job(__name__, "job", reconstructable_args=(name,))
