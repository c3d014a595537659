"""What people read about the data after each build: the dbt docs (one HTML file), Elementary's report and, when a
webhook is configured, Elementary's alerts. (Source freshness is a test of every source inside the build:
tests/dbt/generic/is_fresh.sql.)

The docs and the report read the one warehouse file side by side, both read-only; Elementary's alerts write what
they sent, so they come last.
"""

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from tidewater.orchestrate import dbt, elementary, warehouse
from tidewater.orchestrate.commands import side_by_side
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings

GROUP = "observability"
DOCS = AssetKey(["observability", "dbt_docs"])
REPORT = AssetKey(["observability", "elementary_report"])
ALERTS = AssetKey(["observability", "elementary_alerts"])
# The words of the lines the docs and the report each start and end with (the bench reads their times from these).
STARTED, MADE_IN = "started", "made in"


def last_built(dbt_build: Any) -> list[AssetKey]:
    """The build's last assets (none of its other assets reads them): what follows the build waits for these, and
    its lineage stays readable (not an edge from every model)."""
    upstream = {parent for key in dbt_build.keys for parent in dbt_build.asset_deps[key]}
    return sorted(set(dbt_build.keys) - upstream)


def observability_assets(dbt_build: Any, alerts_after: list[AssetKey]) -> list[Any]:
    """The docs and the report after the build; the alerts after them and after `alerts_after` (the serving copy):
    the alerts write to the warehouse, which every other step after the build only reads."""

    @multi_asset(
        name="docs_and_report",
        specs=[
            AssetSpec(
                DOCS,
                deps=last_built(dbt_build),
                group_name=GROUP,
                kinds={"dbt", "html"},
                description="dbt docs generate --static: models, tests, lineage and freshness in one HTML file.",
            ),
            AssetSpec(
                REPORT,
                deps=last_built(dbt_build),
                group_name=GROUP,
                kinds={"elementary", "html"},
                description="Elementary's report: tests, anomalies, schema changes and lineage in one HTML file.",
            ),
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
        can_subset=True,
    )
    def docs_and_report(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        """The report in a thread beside the docs: both only read the warehouse. One step for both because the run's
        steps run one after another (definitions.py)."""
        settings = Settings.load()
        progress = sys.stdout  # dbt's lines go to its log while the docs are made: the report's progress does not
        failed: list[str] = []  # one failing lets the other finish: both errors are said

        def make_report() -> tuple[Path, float]:
            started = time.monotonic()
            return elementary.report(settings, progress), time.monotonic() - started

        with side_by_side(1) as pool:
            wanted = context.selected_asset_keys
            report = None
            if REPORT in wanted:
                context.log.info(f"Elementary's report: {STARTED} (edr report)")
                report = pool.submit(make_report)
            if DOCS in wanted:
                context.log.info(f"dbt docs: {STARTED} (dbt docs generate --static)")
                started = time.monotonic()
                try:
                    dbt.run(
                        settings,
                        ["docs", "generate", "--static"],
                        log_name="dbt-docs",
                        extra_env={warehouse.READ_ONLY_VARIABLE: "1"},
                        quiet=True,
                    )
                except TidewaterError as error:
                    failed.append(str(error))
                else:
                    context.log.info(f"dbt docs: {MADE_IN} {time.monotonic() - started:.1f} s")
                    yield MaterializeResult(
                        asset_key=DOCS, metadata={"file": MetadataValue.path(str(settings.docs_file))}
                    )
            if report is not None:
                try:
                    path, seconds = report.result()
                except TidewaterError as error:
                    failed.append(str(error))
                else:
                    context.log.info(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
                    context.log.info(f"Elementary's report: {MADE_IN} {seconds:.1f} s")
                    yield MaterializeResult(asset_key=REPORT, metadata={"file": MetadataValue.path(str(path))})
        if failed:
            raise TidewaterError("\n".join(failed))

    @multi_asset(
        name="elementary_alerts",
        specs=[
            AssetSpec(
                ALERTS,
                deps=[DOCS, REPORT, *alerts_after],
                group_name=GROUP,
                kinds={"elementary"},
                skippable=True,
                description="Elementary's alerts (edr monitor) to the webhook, when one is configured.",
            )
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
    )
    def elementary_alerts(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        settings = Settings.load()
        if not settings.alert_webhook:
            context.log.info("no alert webhook configured (TIDEWATER_ALERT_WEBHOOK): Elementary's alerts skipped")
            return
        elementary.monitor(settings, settings.alert_webhook)
        yield MaterializeResult(asset_key=ALERTS)

    return [docs_and_report, elementary_alerts]
