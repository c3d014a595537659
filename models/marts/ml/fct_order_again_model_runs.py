"""The order-again model: one row per trained version, with its test metrics and the recency baseline's.

Thin on purpose: the training is tidewater.serve.ml.train. A version is new when its training days or recipe are
(the training days move on a week at a time, with the weekly examples); a build that makes no new version appends
nothing. The model file and metrics.json go to <data folder>/ml/models/<model_version>/ (data_dir: this model's
config, from TIDEWATER_DATA_DIR, which a Python model cannot read itself); model_path is relative to the data
folder."""

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from tidewater.serve.ml.train import ModelRun, save, train

# The table's columns and types: a pandas frame carries no SQL types (dates would become timestamps, an empty frame
# text), so the result is cast on its way out.
COLUMN_TYPES = {
    "model_version": "varchar",
    "trained_at": "timestamp",
    "train_start_date": "date",
    "train_end_date": "date",
    "test_start_date": "date",
    "test_end_date": "date",
    "train_rows": "bigint",
    "test_rows": "bigint",
    "train_positive_rate": "double",
    "test_positive_rate": "double",
    "model_auc": "double",
    "model_precision_at_10": "double",
    "baseline_auc": "double",
    "baseline_precision_at_10": "double",
    "beats_baseline": "boolean",
    "model_path": "varchar",
}


def business_time(value: str) -> datetime:
    """The run's business "now" as naive UTC (the warehouse's timestamps are naive UTC)."""
    moment = datetime.fromisoformat(value)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def model(dbt, session):
    dbt.config(materialized="incremental", unique_key="model_version", incremental_strategy="delete+insert")
    data_dir = Path(dbt.config.get("data_dir"))
    trained_at = business_time(dbt.config.get("business_now"))
    examples = dbt.ref("fct_customer_training_examples").df()

    known: frozenset[str] = frozenset()
    if dbt.is_incremental:
        known = frozenset(row[0] for row in session.sql(f"select model_version from {dbt.this}").fetchall())
    trained = train(examples, trained_at, known_versions=known)
    runs: list[ModelRun] = []
    if trained is not None:
        save(trained, data_dir)
        runs.append(trained.run)

    frame = pd.DataFrame([vars(run) for run in runs], columns=list(COLUMN_TYPES))
    return session.from_df(frame).project(
        ", ".join(f"cast({column} as {sql_type}) as {column}" for column, sql_type in COLUMN_TYPES.items())
    )
