"""Daily scoring: which days still need scores, and the scores of one batch of feature rows."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sklearn.pipeline import Pipeline

from tidewater.serve.ml.dataset import DAY, KEY
from tidewater.serve.ml.evaluate import score_deciles
from tidewater.serve.ml.train import score

SCORE_COLUMNS = ("customer_id", "as_of_date", "model_version", "score", "score_decile")


def first_day_to_score(last_feature_day: date | None, scored_through: date | None) -> date | None:
    """The first features day to score, or None when nothing is new.

    With no score yet, only the last day: a model is trained on data up to well after the earlier days, so their
    scores would be better than any score that could have been made on the day (a leak into the history)."""
    if last_feature_day is None:
        return None
    if scored_through is None:
        return last_feature_day
    if last_feature_day <= scored_through:
        return None
    return date.fromordinal(scored_through.toordinal() + 1)


def latest_model(runs: pd.DataFrame) -> pd.Series | None:
    """The run of the model trained on the latest data (ties, which a recipe change makes, by version)."""
    if runs.empty:
        return None
    ordered = runs.sort_values(["train_end_date", "model_version"], kind="mergesort")
    return ordered.iloc[-1]


def scores_frame(estimator: Pipeline, features: pd.DataFrame, version: str) -> pd.DataFrame:
    """One row per feature row: the probability of an order within 30 days and its decile among the same day's
    customers (1 = the likeliest tenth)."""
    if features.empty:
        return pd.DataFrame({column: pd.Series(dtype="object") for column in SCORE_COLUMNS})
    frame = features[[KEY, DAY]].copy()
    frame["model_version"] = version
    frame["score"] = score(estimator, features)
    frame["score_decile"] = 0
    for _, day in frame.groupby(DAY, sort=True):
        frame.loc[day.index, "score_decile"] = score_deciles(day["score"], day[KEY])
    return frame[list(SCORE_COLUMNS)].sort_values([DAY, KEY], kind="mergesort").reset_index(drop=True)
