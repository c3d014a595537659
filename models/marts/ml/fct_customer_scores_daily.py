"""Each past buyer's score for each day: the probability of an order within 30 days, by the latest model version.

Thin on purpose: the scoring is tidewater.serve.ml.scoring. Each build scores the features mart's days after the
last scored one; the first build scores the last complete day only (earlier days scored by a model trained on later
data would show a foresight no score made on the day had)."""

from datetime import date
from pathlib import Path

import pandas as pd

from tidewater.serve.ml.scoring import SCORE_COLUMNS, first_day_to_score, latest_model, scores_frame
from tidewater.serve.ml.train import load

COLUMN_TYPES = {
    "customer_id": "bigint",
    "as_of_date": "date",
    "model_version": "varchar",
    "score": "double",
    "score_decile": "integer",
}


def model(dbt, session):
    dbt.config(
        materialized="incremental", unique_key=["customer_id", "as_of_date"], incremental_strategy="delete+insert"
    )
    data_dir = Path(dbt.config.get("data_dir"))
    features = dbt.ref("fct_customer_features_daily")
    runs = dbt.ref("fct_order_again_model_runs").df()

    last_feature_day: date | None = features.aggregate("max(as_of_date)").fetchone()[0]
    scored_through: date | None = None
    if dbt.is_incremental:
        scored_through = session.sql(f"select max(as_of_date) from {dbt.this}").fetchone()[0]
    first_day = first_day_to_score(last_feature_day, scored_through)
    run = latest_model(runs)

    frames = [pd.DataFrame(columns=list(SCORE_COLUMNS))]
    if first_day is not None and run is not None:
        # The model was trained on past buyers: customers with no order yet are not scored.
        todays = features.filter(f"as_of_date >= date '{first_day.isoformat()}' and orders_lifetime > 0").df()
        frames.append(scores_frame(load(data_dir / run["model_path"]), todays, str(run["model_version"])))
    if scored_through is not None:
        # Days the features mart built again because the app deleted an order after they were scored (a duplicate
        # checkout purged the next day): scored again, whole (deciles rank a day's customers), by the version that
        # scored them, as a backfill of the same days would score them. Rows no longer backed by a scorable feature
        # row are deleted after the build (the model's post-hook).
        deleted = dbt.ref("stg_app__orders").filter(
            f"is_deleted_in_source and cast(deleted_in_source_at as date) > date '{scored_through.isoformat()}'"
            f" and cast(ordered_at as date) <= date '{scored_through.isoformat()}'"
        )
        rescore_from: date | None = deleted.aggregate("min(cast(ordered_at as date))").fetchone()[0]
        if rescore_from is not None:
            paths = dict(zip(runs["model_version"], runs["model_path"], strict=True))
            days = session.sql(
                f"select as_of_date, min(model_version) from {dbt.this}"
                f" where as_of_date >= date '{rescore_from.isoformat()}' group by 1 order by 1"
            ).fetchall()
            for day, version in days:
                rows = features.filter(f"as_of_date = date '{day.isoformat()}' and orders_lifetime > 0").df()
                frames.append(scores_frame(load(data_dir / paths[version]), rows, str(version)))
    scored = [f for f in frames if not f.empty]
    frame = pd.concat(scored, ignore_index=True) if scored else frames[0]
    return session.from_df(frame).project(
        ", ".join(f"cast({column} as {sql_type}) as {column}" for column, sql_type in COLUMN_TYPES.items())
    )
