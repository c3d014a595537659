"""The feature store as a Dagster asset: after the build, the customer feature mart is exported to Parquet and
registered in Feast, and every customer's latest features are loaded into the online store (feature_store.py).

It only reads the warehouse (read-only), so it can run beside the other steps that read it. Every run rebuilds the
store from the whole mart: one run of a range of days gives the same store as the days one by one.
"""

from collections.abc import Sequence

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from tidewater.orchestrate.partitions import business_days, one_run
from tidewater.orchestrate.settings import Settings

FEATURE_STORE = AssetKey(["ml", "feature_store"])


def feature_store_asset(after: Sequence[AssetKey]) -> AssetsDefinition:
    """The feature store step, after `after` (the assets that build marts.fct_customer_features_daily)."""

    @asset(
        key=FEATURE_STORE,
        deps=list(after),
        group_name="ml",
        kinds={"feast", "parquet"},
        partitions_def=business_days,
        backfill_policy=one_run,
        description="marts.fct_customer_features_daily in Feast (project tidewater, feature view customer_features, "
        "entity customer): exported to data/ml/feature_store/customer_features.parquet (the offline store, for "
        "point-in-time training sets), each customer's latest day loaded into the SQLite online store beside it "
        "(`tidewater features CUSTOMER_ID`). customer_id and aggregates only.",
    )
    def feature_store(context: AssetExecutionContext) -> MaterializeResult:
        from tidewater.serve.ml.feature_store import materialize, store_dir

        settings = Settings.load()
        result = materialize(settings)
        exported = result.export
        context.log.info(
            f"feature store: {exported.rows:,} rows ({exported.first_day} to {exported.last_day}) exported in "
            f"{exported.seconds:.2f} s; Feast apply {result.apply_seconds:.2f} s, materialize "
            f"{result.materialize_seconds:.2f} s ({result.features} features)"
        )
        return MaterializeResult(
            metadata={
                "store": MetadataValue.path(str(store_dir(settings))),
                "rows_exported": exported.rows,
                "first_day": exported.first_day.isoformat(),
                "last_day": exported.last_day.isoformat(),
                "features": result.features,
                "export_seconds": round(exported.seconds, 2),
                "apply_seconds": result.apply_seconds,
                "materialize_seconds": result.materialize_seconds,
            }
        )

    return feature_store
