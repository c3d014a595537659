"""Transform: every dbt seed, model and snapshot is an asset (dagster-dbt), named `<schema>/<name>` as in the
warehouse; dbt's tests are their asset checks. One `dbt build` materializes them, incremental marts included.

Elementary's own models are not among them: its tables are built before the first build and after an upgrade of the
package (Elementary's advice), its copy of the project's metadata uploaded when the project changed; then its hooks
fill them. Rebuilding them and comparing the metadata on every run cost seconds for nothing."""

import json
import shutil
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, Config, Failure, MetadataValue
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, dbt_assets

from tidewater.generate import advance as time_moves
from tidewater.generate.config import GenerationConfig
from tidewater.orchestrate import dbt, elementary, warehouse
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings
from tidewater.privacy import erasure, pseudonyms


class WarehouseNames(DagsterDbtTranslator):
    """Assets named and grouped as the warehouse names them: `marts/fct_orders`, sources `raw_app/orders`."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        name = dbt_resource_props.get("identifier") or dbt_resource_props.get("alias") or dbt_resource_props["name"]
        return AssetKey([dbt_resource_props["schema"], name])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props["schema"]

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> AssetSpec:
        """An asset also waits for the sources its checks read: the reconciliation tests, checks on the marts, read
        the audit snapshot, which must be taken before the build (one writer at a time on the warehouse)."""
        spec = super().get_asset_spec(manifest, unique_id, project)
        if unique_id.startswith("source."):
            return spec
        name = manifest["nodes"][unique_id]["name"] if unique_id in manifest["nodes"] else None
        checked_sources = {
            parent
            for node in manifest["nodes"].values()
            if node["resource_type"] == "test"
            and (node.get("config", {}).get("meta", {}).get("dagster", {}).get("ref", {}).get("name") == name)
            for parent in node["depends_on"]["nodes"]
            if parent.startswith("source.")
        }
        extra = [
            super(WarehouseNames, self).get_asset_spec(manifest, parent, project).key for parent in checked_sources
        ]
        return spec.merge_attributes(deps=[key for key in extra if key not in {dep.asset_key for dep in spec.deps}])


TRANSLATOR = WarehouseNames(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def business_now_env(settings: Settings) -> dict[str, str]:
    """The business "now" freshness and anomaly tests are judged at: the end of the last generated day (midnight
    after it), unless TIDEWATER_BUSINESS_NOW says otherwise."""
    if settings.business_now:
        return {}
    days = time_moves.recorded_days_advanced(settings.landing_dir)
    now = time_moves.business_now(GenerationConfig(seed=0, scale=1.0), days)
    return {"TIDEWATER_BUSINESS_NOW": now.strftime("%Y-%m-%dT%H:%M:%S")}


def keep_build_results(settings: Settings) -> dict[str, int]:
    """Keep the build's run_results.json (later dbt commands overwrite it) and count results by kind and status."""
    results_file = settings.dbt_target_dir / "run_results.json"
    counts: dict[str, int] = {}
    if results_file.exists():
        settings.build_results_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(results_file, settings.build_results_file)
        for result in json.loads(results_file.read_text())["results"]:
            key = f"{result['unique_id'].split('.')[0]} {result['status']}"
            counts[key] = counts.get(key, 0) + 1
    return counts


class BuildConfig(Config):
    """`full_refresh`: rebuild the incremental marts from raw (dbt build --full-refresh)."""

    full_refresh: bool = False


def transform_assets(manifest_path: Path) -> Any:
    @dbt_assets(
        manifest=manifest_path,
        project=None,
        name="dbt_build",
        exclude=elementary.MODELS,
        dagster_dbt_translator=TRANSLATOR,
        partitions_def=business_days,
        backfill_policy=one_run,
    )
    def dbt_build(context: AssetExecutionContext, config: BuildConfig) -> Iterator[Any]:
        settings = Settings.load()
        # Before dbt reads raw, with the loads done (they take turns on the warehouse, this would not wait): a
        # customer who asked to be forgotten leaves raw, the snapshot and Elementary's samples (privacy/erasure.py).
        with warehouse.connect(settings.warehouse, read_only=False) as con:
            pseudonyms.check_raw(con)
            erased = erasure.apply(con)
            dropped = warehouse.drop_leftover_dbt_tables(con)
        if dropped:
            left = ", ".join(dropped)
            context.log.info(f"dropped the staging tables an earlier build left (plain `dbt build` or killed): {left}")
        if any(erased.values()):
            context.log.info("erasure requests applied: " + ", ".join(f"{k} -{v}" for k, v in erased.items() if v))
        extra = business_now_env(settings)
        if extra:
            context.log.info(f"business time {extra['TIDEWATER_BUSINESS_NOW']}: freshness and anomalies judged at it")
        fingerprint = dbt.project_fingerprint()
        models = elementary.models_to_build(settings, fingerprint)
        if models:
            context.log.info(f"Elementary's tables new, upgraded or the project changed: dbt run --select {models}")
            dbt.run(settings, ["run", "--select", models], log_name="dbt-elementary-models", extra_env=extra)
            elementary.record_upload(settings, fingerprint)
        # Unit tests check the models' logic on inputs of their own, never the day's data: dbt advises running them
        # in development and CI only. `make test`, slim CI and the scale-out builds run them; the daily build does not.
        args = ["build", "--exclude-resource-type", "unit_test", *(["--full-refresh"] if config.full_refresh else [])]
        log_file = settings.logs_dir / "dbt-build.log"
        progress = dbt.Progress(f"dbt {' '.join(args)}", sys.stdout)
        with dbt.environment({**settings.env(), **extra}):
            invocation = dbt.resource(target_path=settings.dbt_target_dir).cli(
                args, context=context, target_path=settings.dbt_target_dir, raise_on_error=False
            )
            yield from dbt.stream(invocation, log_file, progress)
        with warehouse.connect(settings.warehouse, read_only=False) as con:
            warehouse.drop_leftover_dbt_tables(con)
        counts = keep_build_results(settings)
        context.log.info("dbt build: " + ", ".join(f"{n} {key}" for key, n in sorted(counts.items())))
        if not invocation.is_successful():
            raise Failure(
                description=str(dbt.failure(f"dbt {' '.join(args)}", log_file, progress)),
                metadata={"log": MetadataValue.path(str(log_file))},
            )

    return dbt_build
