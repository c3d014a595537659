"""The reverse ETL as Dagster assets: after the build (and the other steps that read the warehouse), one step sends
the audiences' changes to the CRM database and, when configured, the webhook (sync.py).

One step, two assets: the destinations are synced one after the other by the same step (it writes the warehouse
between them, which DuckDB allows only alone); the webhook's asset is materialized only when it was synced.
"""

from collections.abc import Iterator, Sequence

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, AssetSpec, MaterializeResult, multi_asset

from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings

GROUP = "reverse_etl"
CRM = AssetKey(["reverse_etl", "crm"])
WEBHOOK = AssetKey(["reverse_etl", "webhook"])
KEYS = {"crm": CRM, "webhook": WEBHOOK}


def reverse_etl_assets(after: Sequence[AssetKey]) -> list[AssetsDefinition]:
    """The sync step, after `after` (the build's last assets and the steps that read the warehouse)."""

    @multi_asset(
        name="reverse_etl",
        specs=[
            AssetSpec(
                CRM,
                deps=list(after),
                group_name=GROUP,
                kinds={"meltano", "postgres"},
                description="The audiences' syncable members (crm.list_memberships) and their non-personal "
                "attributes (crm.contacts) in the CRM database, changes only. Figures: reverse_etl.sync_log.",
            ),
            AssetSpec(
                WEBHOOK,
                deps=[CRM],
                group_name=GROUP,
                kinds={"meltano"},
                skippable=True,
                description="The same changes POSTed as JSON to TIDEWATER_CRM_WEBHOOK_URL, when set.",
            ),
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
        can_subset=False,
    )
    def reverse_etl(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        from tidewater.serve.reverse_etl.sync import destinations, sync

        settings = Settings.load()
        results = sync(settings, log=context.log.info)
        for destination in destinations(settings):
            mine = [result for result in results if result.destination == destination.name]
            yield MaterializeResult(
                asset_key=KEYS[destination.name],
                metadata={
                    "audiences": len(mine),
                    **{
                        figure: sum(getattr(result, figure) for result in mine)
                        for figure in ("rows_sent", "rows_updated", "rows_removed", "rows_rejected", "rows_blocked")
                    },
                },
            )

    return [reverse_etl]
