"""The score distribution each model version was judged on (its test days), in ten bins cut at its deciles: what the
drift test (tests/dbt/ml/warn_customer_scores_drift.sql) compares the latest day's scores with.

Thin on purpose: tidewater.serve.ml.evaluate.reference_bins. A version's bins are computed once, when it appears in
fct_order_again_model_runs, by scoring its test days' examples with its saved model."""

from pathlib import Path

import pandas as pd

from tidewater.serve.ml.dataset import DAY
from tidewater.serve.ml.evaluate import reference_bins
from tidewater.serve.ml.train import load, score

COLUMN_TYPES = {
    "model_version": "varchar",
    "bin_number": "integer",
    "lower_bound": "double",
    "upper_bound": "double",
    "expected_share": "double",
}


def model(dbt, session):
    dbt.config(
        materialized="incremental", unique_key=["model_version", "bin_number"], incremental_strategy="delete+insert"
    )
    data_dir = Path(dbt.config.get("data_dir"))
    runs = dbt.ref("fct_order_again_model_runs").df()
    known: set[str] = set()
    if dbt.is_incremental:
        known = {row[0] for row in session.sql(f"select distinct model_version from {dbt.this}").fetchall()}
    new_runs = runs[~runs["model_version"].isin(known)]

    parts = [pd.DataFrame(columns=list(COLUMN_TYPES))]
    if not new_runs.empty:
        examples = dbt.ref("fct_customer_training_examples").df()
        days = pd.to_datetime(examples[DAY]).dt.date
        for _, run in new_runs.sort_values("model_version").iterrows():
            start, end = pd.Timestamp(run["test_start_date"]).date(), pd.Timestamp(run["test_end_date"]).date()
            test = examples[(days >= start) & (days <= end)]
            bins = reference_bins(score(load(data_dir / run["model_path"]), test))
            bins.insert(0, "model_version", run["model_version"])
            parts.append(bins)
    frame = pd.concat(parts, ignore_index=True)
    return session.from_df(frame).project(
        ", ".join(f"cast({column} as {sql_type}) as {column}" for column, sql_type in COLUMN_TYPES.items())
    )
