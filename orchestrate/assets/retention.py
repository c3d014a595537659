"""Retention: after the build, raw events older than the policy's hot_days move from the warehouse to the archive
(Parquet under the data folder), and archived days older than delete_after_days are deleted (privacy/retention.py,
privacy/retention.yml).

After the build, never before: a row leaves raw only once the build has read it (staging keeps reading it from the
archive after). After the steps that read the warehouse too (the serving copy, the docs, the report), since this one
writes it and DuckDB lets a writer in only alone; Elementary's alerts, which write as well, wait for this one.
"""

from collections.abc import Sequence

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from tidewater.orchestrate import dbt
from tidewater.orchestrate.assets.observability import DOCS, REPORT
from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings
from tidewater.privacy import retention

RAW_EVENTS = AssetKey(["retention", "raw_events"])
# The view over the archive: rebuilt when the archive's days change, so it reads them before the next build does.
ARCHIVE_MODEL = "stg_events__archived_events"


def retention_asset(after: Sequence[AssetKey]) -> AssetsDefinition:
    """The retention step, after `after` (the build's last assets and the steps that read the warehouse)."""

    @asset(
        key=RAW_EVENTS,
        deps=[*after, DOCS, REPORT],
        group_name="retention",
        kinds={"duckdb", "parquet"},
        partitions_def=business_days,
        backfill_policy=one_run,
        description="raw_events.events past the retention policy's hot_days archived to Parquet, partitioned by "
        "landing day (data/archive/raw_events/events), then deleted from raw; archived days past delete_after_days "
        "deleted. Figures of each run that moved or deleted rows: audit.retention_runs.",
    )
    def raw_events(context: AssetExecutionContext) -> MaterializeResult:
        settings = Settings.load()
        results = retention.apply(settings)
        for result in results:
            context.log.info(
                f"{result.table} at business day {result.business_day} (hot {result.hot_days} days, deleted after "
                f"{result.delete_after_days}): {result.archived_rows:,} rows archived from {len(result.archived_days)} "
                f"days, {result.deleted_rows:,} rows deleted with {len(result.deleted_days)} days; now "
                f"{result.hot_rows:,} hot, {result.archive_rows:,} archived"
            )
        if any(result.archived_days or result.deleted_days for result in results):
            dbt.run(settings, ["run", "--select", ARCHIVE_MODEL], log_name="dbt-retention", quiet=True)
        return MaterializeResult(
            metadata={
                "policy": MetadataValue.path(str(settings.retention_policy)),
                "archive": MetadataValue.path(str(settings.archive_dir)),
                **{
                    f"{result.table} {figure}": getattr(result, figure)
                    for result in results
                    for figure in ("archived_rows", "deleted_rows", "hot_rows", "archive_rows")
                },
                **{
                    f"{result.table} {days}": len(getattr(result, days))
                    for result in results
                    for days in ("archived_days", "deleted_days")
                },
            }
        )

    return raw_events
