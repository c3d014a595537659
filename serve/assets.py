"""The serving outputs, as Dagster assets: after each build, one step makes a new serving copy (serve/published.py),
writes the saved queries' exports into it, gives it the suppliers' tenant-scoped macros, checks every dashboard
query on it, and only then promotes it. A failing query fails the run, not a viewer's morning.

One step, not four: the four outputs are one file, made and promoted together; each is still an asset of its own in
the graph, with the models it reads upstream.
"""

from collections.abc import Iterator
from functools import partial
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetSpec, MaterializeResult, MetadataValue, multi_asset

from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings

GROUP = "serving"
COPY = AssetKey(["serving", "serving_copy"])
EXPORTS = AssetKey(["serving", "saved_query_exports"])
DASHBOARDS = AssetKey(["serving", "dashboards"])
SUPPLIER_API = AssetKey(["serving", "supplier_api"])
SERVING_KEYS = [COPY, EXPORTS, DASHBOARDS, SUPPLIER_API]


def serving_assets(upstream: list[AssetKey]) -> list[Any]:
    """The serving step, after `upstream` (the build's last assets)."""

    @multi_asset(
        name="serving",
        specs=[
            AssetSpec(
                COPY,
                deps=upstream,
                group_name=GROUP,
                kinds={"duckdb"},
                description="The read-only copy of the marts and metric marts the dashboards and the API read "
                "(data/serving/current), promoted atomically after the checks below pass.",
            ),
            AssetSpec(
                EXPORTS,
                deps=[COPY],
                group_name=GROUP,
                kinds={"metricflow"},
                description="Each MetricFlow saved query's export, as a table in the copy's `exports` schema.",
            ),
            AssetSpec(
                SUPPLIER_API,
                deps=[COPY],
                group_name=GROUP,
                kinds={"fastapi"},
                description="The suppliers' API's tenant-scoped macros (schema `serving`): every query it runs is "
                "bound to the token's supplier.",
            ),
            AssetSpec(
                DASHBOARDS,
                deps=[EXPORTS],
                group_name=GROUP,
                kinds={"streamlit"},
                description="Every dashboard page's queries, run on the copy before it is promoted.",
            ),
        ],
        partitions_def=business_days,
        backfill_policy=one_run,
    )
    def serving(context: AssetExecutionContext) -> Iterator[MaterializeResult]:
        from tidewater.serve import exports, published
        from tidewater.serve.api import tenant_scope
        from tidewater.serve.dashboards import queries

        settings = Settings.load()
        publication = published.publish(
            settings,
            {
                "exports": partial(exports.write_exports, settings),
                "supplier_api": tenant_scope.create,
                "dashboards": queries.check,
            },
        )
        context.log.info(f"serving copy {publication.database} promoted in {publication.seconds:.1f} s")
        yield MaterializeResult(
            asset_key=COPY,
            metadata={
                "path": MetadataValue.path(str(publication.database)),
                "tables": MetadataValue.json(publication.tables),
            },
        )
        for key, step in ((EXPORTS, "exports"), (SUPPLIER_API, "supplier_api"), (DASHBOARDS, "dashboards")):
            yield MaterializeResult(asset_key=key, metadata={"result": MetadataValue.json(publication.steps[step])})

    return [serving]
