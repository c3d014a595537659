"""The order-again model (serve/ml/, models/marts/ml/): on the built pipeline it beats the recency baseline, its saved
file reproduces the metrics the table reports, the scores are well-formed and name a trained version, and no
training label looks past the last complete day. Plus the serve/ml functions on small frames."""

from __future__ import annotations

import json
import math
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Built
from helpers import rows

from tidewater.orchestrate import warehouse
from tidewater.serve.ml.dataset import FEATURES, LABEL, MISSING, NUMERIC_FEATURES, baseline_scores, feature_matrix
from tidewater.serve.ml.evaluate import precision_at_top, reference_bins, roc_auc, score_deciles
from tidewater.serve.ml.scoring import first_day_to_score, latest_model, scores_frame
from tidewater.serve.ml.train import METRICS_FILE, SplitPlan, load, model_version, plan_split, save, score, train

# The generated sources end on 2026-10-31; the business now of a plain run is midnight after it.
LAST_COMPLETE_DAY = date(2026, 10, 31)
BUSINESS_NOW = datetime(2026, 11, 1)


def _frame(built: Built, sql: str) -> pd.DataFrame:
    with warehouse.connect(built.settings.warehouse) as connection:
        return connection.execute(sql).df()


def _latest_run(built: Built) -> pd.Series:
    run = latest_model(_frame(built, "select * from marts.fct_order_again_model_runs"))
    assert run is not None, "no model version was trained"
    return run


def _test_examples(built: Built, run: pd.Series) -> pd.DataFrame:
    examples = _frame(built, "select * from marts.fct_customer_training_examples order by customer_id, as_of_date")
    days = pd.to_datetime(examples["as_of_date"]).dt.date
    start, end = pd.Timestamp(run["test_start_date"]).date(), pd.Timestamp(run["test_end_date"]).date()
    return examples[(days >= start) & (days <= end)]


# -- on the built pipeline ------------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_the_model_beats_the_recency_baseline_on_later_days(built: Built) -> None:
    run = _latest_run(built)
    assert run["model_auc"] > run["baseline_auc"], run.to_dict()
    assert run["model_precision_at_10"] > run["baseline_precision_at_10"], run.to_dict()
    assert run["beats_baseline"]
    # A time split: every training label window closes before the first test day.
    train_end, test_start = pd.Timestamp(run["train_end_date"]).date(), pd.Timestamp(run["test_start_date"]).date()
    assert train_end + timedelta(days=30) < test_start
    assert run["train_rows"] > 0 and run["test_rows"] > 0
    assert pd.Timestamp(run["trained_at"]).to_pydatetime() == BUSINESS_NOW


@pytest.mark.e2e
def test_the_saved_model_reproduces_the_tables_test_metrics(built: Built) -> None:
    run = _latest_run(built)
    folder = built.settings.data_dir / Path(run["model_path"]).parent
    assert folder == built.settings.ml_dir / "models" / run["model_version"]
    metrics = json.loads((folder / METRICS_FILE).read_text())
    assert metrics["model_version"] == run["model_version"]
    assert metrics["model_auc"] == pytest.approx(run["model_auc"], abs=1e-12)

    test = _test_examples(built, run)
    assert len(test) == run["test_rows"]
    scores = score(load(built.settings.data_dir / run["model_path"]), test)
    labels = test[LABEL].astype(bool)
    assert roc_auc(labels, scores) == pytest.approx(run["model_auc"], abs=1e-12)
    assert precision_at_top(labels, scores) == pytest.approx(run["model_precision_at_10"], abs=1e-12)
    assert roc_auc(labels, baseline_scores(test)) == pytest.approx(run["baseline_auc"], abs=1e-12)


@pytest.mark.e2e
def test_training_twice_on_the_same_examples_gives_the_same_version_and_scores(built: Built) -> None:
    run = _latest_run(built)
    examples = _frame(built, "select * from marts.fct_customer_training_examples order by customer_id, as_of_date")
    first, second = train(examples, BUSINESS_NOW), train(examples, BUSINESS_NOW)
    assert first is not None and second is not None
    assert first.run == second.run
    assert first.run.model_version == run["model_version"]
    pd.testing.assert_series_equal(first.test_scores, second.test_scores)


@pytest.mark.e2e
def test_every_score_is_a_probability_from_a_trained_version_for_each_past_buyer(built: Built) -> None:
    scores = _frame(built, "select * from marts.fct_customer_scores_daily")
    versions = {r[0] for r in rows(built.settings, "select model_version from marts.fct_order_again_model_runs")}
    assert set(scores["model_version"]) <= versions
    assert scores["score"].between(0, 1).all()
    # The first build scores the last complete day only: earlier days would be scored with hindsight.
    assert set(pd.to_datetime(scores["as_of_date"]).dt.date) == {LAST_COMPLETE_DAY}
    buyers = rows(
        built.settings,
        "select customer_id from marts.fct_customer_features_daily where as_of_date = ? and orders_lifetime > 0",
        LAST_COMPLETE_DAY,
    )
    assert sorted(scores["customer_id"]) == sorted(r[0] for r in buyers)
    # Deciles: 1 holds the highest scores, each decile within one customer of a tenth.
    by_decile = scores.groupby("score_decile")["score"]
    assert list(by_decile.size().index) == list(range(1, 11))
    assert by_decile.size().max() - by_decile.size().min() <= 1
    assert (by_decile.min().iloc[:-1].to_numpy() >= by_decile.max().iloc[1:].to_numpy()).all()


@pytest.mark.e2e
def test_no_training_label_looks_past_the_last_complete_day_and_each_is_right(built: Built) -> None:
    examples = _frame(built, "select * from marts.fct_customer_training_examples")
    assert len(examples) > 0
    assert pd.to_datetime(examples["label_window_end_date"]).dt.date.max() <= LAST_COMPLETE_DAY
    assert (examples["orders_lifetime"] > 0).all()
    # Each label, recomputed from the orders: an order (not cancelled) in the 30 days after the example's day.
    orders = _frame(
        built, "select customer_id, order_date from marts.fct_orders where customer_id is not null and not is_cancelled"
    )
    order_days: dict[int, list[date]] = {}
    for customer_id, day in zip(orders["customer_id"], pd.to_datetime(orders["order_date"]).dt.date, strict=True):
        order_days.setdefault(int(customer_id), []).append(day)
    expected = [
        any(d < o <= d + timedelta(days=30) for o in order_days.get(int(c), []))
        for c, d in zip(examples["customer_id"], pd.to_datetime(examples["as_of_date"]).dt.date, strict=True)
    ]
    assert examples[LABEL].astype(bool).tolist() == expected
    assert 0 < sum(expected) < len(expected)


# -- serve/ml on small frames ---------------------------------------------------------------------------------------


def _examples(customers: int = 60, weeks: int = 40, seed: int = 7) -> pd.DataFrame:
    """Weekly examples where frequent buyers order again more often: a signal a model can learn."""
    rng = np.random.default_rng(seed)
    appetite = rng.gamma(1.0, 1.0, size=customers)
    records = []
    for week in range(weeks):
        day = date(2025, 11, 3) + timedelta(weeks=week)
        for c in range(customers):
            orders = int(rng.poisson(appetite[c] * (week + 1) / 4)) + 1
            record = dict.fromkeys(NUMERIC_FEATURES, 0.0)
            record.update(
                customer_id=c,
                as_of_date=day,
                days_since_signup=7 * week + 10,
                orders_lifetime=orders,
                orders_90d=min(orders, int(rng.poisson(appetite[c] * 3))),
                days_since_last_order=float(rng.integers(0, 60)),
                is_paid_acquisition=bool(c % 2),
            )
            record[LABEL] = bool(rng.random() < 1 - math.exp(-appetite[c]))
            records.append(record)
    return pd.DataFrame.from_records(records)


def test_precision_at_top_counts_ties_at_the_cut_by_their_average_label() -> None:
    labels = pd.Series([True, False, True, False, False, False, False, False, False, False] * 2)
    # The top tenth (2 of 20): one clear winner, then four tied, two of them positive: 1 + 1 * 2/4.
    scores = pd.Series([9.0, 1, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 5, 1, 1, 1, 1, 1, 1, 1])
    assert precision_at_top(labels, scores) == pytest.approx((1 + 2 / 4) / 2)
    # Reversed: the top tenth is two of fifteen tied rows, one of them positive.
    assert precision_at_top(labels, -scores) == pytest.approx(1 / 15)


def test_deciles_rank_high_scores_first_and_break_ties_by_key() -> None:
    scores = pd.Series([0.1 * i for i in range(20)] + [0.5, 0.5])
    keys = pd.Series(range(22))
    deciles = score_deciles(scores, keys)
    assert deciles[19] == 1 and deciles[0] == 10
    assert deciles.value_counts().sort_index().tolist() == [3, 2, 2, 2, 2, 3, 2, 2, 2, 2]
    # Equal scores: the lower key ranks first, whatever the row order.
    shuffled = score_deciles(scores[::-1], keys[::-1])
    assert (shuffled.sort_index() == deciles).all()


def test_the_split_leaves_a_label_window_between_training_and_test_days() -> None:
    days = pd.Series([date(2026, 1, 5) + timedelta(weeks=w) for w in range(30)])
    split = plan_split(days, SplitPlan(test_days=56, label_days=30))
    assert split is not None
    # The test days: the Mondays of the last 56 days (from 2026-06-02); training: days with day + 30 < 2026-06-08.
    assert (split.test_start, split.test_end) == (date(2026, 6, 8), date(2026, 7, 27))
    assert (split.train_start, split.train_end) == (date(2026, 1, 5), date(2026, 5, 4))
    assert plan_split(days[:5], SplitPlan(test_days=56, label_days=30)) is None


def test_training_is_deterministic_learns_the_signal_and_skips_known_versions(tmp_path: Path) -> None:
    examples = _examples()
    first, second = train(examples, BUSINESS_NOW), train(examples.sample(frac=1.0, random_state=1), BUSINESS_NOW)
    assert first is not None and second is not None
    assert first.run.model_version == second.run.model_version == model_version(plan_split(examples["as_of_date"]))
    assert first.run.model_auc == pytest.approx(second.run.model_auc, abs=1e-9)
    assert first.run.model_auc > 0.6
    assert train(examples, BUSINESS_NOW, known_versions=frozenset({first.run.model_version})) is None
    one_class = examples.assign(**{LABEL: True})
    assert train(one_class, BUSINESS_NOW) is None

    folder = save(first, tmp_path)
    assert json.loads((folder / METRICS_FILE).read_text())["model_version"] == first.run.model_version
    reloaded = score(load(tmp_path / first.run.model_path), examples)
    assert np.allclose(reloaded, score(first.estimator, examples))


def test_missing_features_become_the_missing_marker_and_the_baseline_ranks_recency() -> None:
    frame = pd.DataFrame(
        {
            **{c: [1.0, 2.0] for c in NUMERIC_FEATURES},
            "days_since_last_order": [None, 3.0],
            "is_paid_acquisition": [True, None],
        }
    )
    matrix = feature_matrix(frame)
    assert list(matrix.columns) == list(FEATURES)
    assert matrix.loc[0, "days_since_last_order"] == MISSING and matrix.loc[1, "is_paid_acquisition"] == MISSING
    recency = baseline_scores(pd.DataFrame({"days_since_last_order": [2, 40, None]}))
    assert recency[0] > recency[1] > recency[2]


def test_scores_and_their_reference_bins() -> None:
    examples = _examples(customers=30, weeks=30)
    model = train(examples, BUSINESS_NOW)
    assert model is not None
    day = examples[examples["as_of_date"] == examples["as_of_date"].max()]
    frame = scores_frame(model.estimator, day, model.run.model_version)
    assert len(frame) == 30 and frame["score"].between(0, 1).all()
    assert set(frame["score_decile"]) == set(range(1, 11))
    assert frame.loc[frame["score"].idxmax(), "score_decile"] == 1

    bins = reference_bins(model.test_scores)
    assert bins["expected_share"].sum() == pytest.approx(1.0)
    assert math.isnan(bins["lower_bound"].iloc[0]) and math.isnan(bins["upper_bound"].iloc[-1])
    assert len(reference_bins(pd.Series([0.5] * 20))) == 1  # all tied: one bin


def test_the_first_build_scores_only_the_last_day_and_later_builds_the_new_ones() -> None:
    assert first_day_to_score(date(2026, 10, 31), None) == date(2026, 10, 31)
    assert first_day_to_score(date(2026, 11, 2), date(2026, 10, 31)) == date(2026, 11, 1)
    assert first_day_to_score(date(2026, 10, 31), date(2026, 10, 31)) is None
    assert first_day_to_score(None, None) is None
