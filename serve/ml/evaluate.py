"""How a ranking of customers is judged: ROC AUC and the precision among the top tenth."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

TOP_FRACTION = 0.1


def roc_auc(labels: pd.Series, scores: pd.Series) -> float:
    """ROC AUC; NaN when the labels hold one class only (nothing to rank)."""
    y = np.asarray(labels, dtype=bool)
    if y.all() or not y.any():
        return math.nan
    return float(roc_auc_score(y, np.asarray(scores, dtype="float64")))


def precision_at_top(labels: pd.Series, scores: pd.Series, fraction: float = TOP_FRACTION) -> float:
    """The share of positives among the `fraction` highest scores.

    Ties at the cut count by their average label (the expected precision of breaking them at random), so a rule with
    many equal scores (the recency baseline) is neither favoured nor penalised by row order."""
    y = np.asarray(labels, dtype="float64")
    s = np.asarray(scores, dtype="float64")
    if len(y) == 0:
        return math.nan
    k = max(1, math.ceil(len(y) * fraction))
    threshold = np.sort(s)[::-1][k - 1]
    above = s > threshold
    tied = s == threshold
    taken_from_ties = k - int(above.sum())
    return float((y[above].sum() + taken_from_ties * y[tied].mean()) / k)


def score_deciles(scores: pd.Series, keys: pd.Series) -> pd.Series:
    """Decile of each score within its frame: 1 holds the highest tenth. Equal scores are ordered by key, so the
    deciles do not depend on row order."""
    order = pd.DataFrame({"score": np.asarray(scores, dtype="float64"), "key": np.asarray(keys)}, index=scores.index)
    ranked = order.sort_values(["score", "key"], ascending=[False, True], kind="mergesort")
    n = len(ranked)
    deciles = pd.Series((np.arange(n) * 10) // max(n, 1) + 1, index=ranked.index, dtype="int64")
    return deciles.reindex(scores.index)


def reference_bins(scores: pd.Series, bins: int = 10) -> pd.DataFrame:
    """The score distribution a model was judged on, as the drift tests compare against: `bins` bins cut at the
    scores' quantiles (bin_number, lower_bound inclusive or null for the first, upper_bound exclusive or null for the
    last) with the share of the scores in each. Equal cut points (many tied scores) merge into one bin."""
    values = np.sort(np.asarray(scores, dtype="float64"))
    if len(values) == 0:
        return pd.DataFrame({"bin_number": [], "lower_bound": [], "upper_bound": [], "expected_share": []})
    inner = np.unique(np.quantile(values, np.arange(1, bins) / bins))
    inner = inner[inner > values[0]]  # a cut at the lowest score would leave an empty bin below it
    lowers = [math.nan, *inner]
    uppers = [*inner, math.nan]
    counts = np.bincount(np.searchsorted(inner, values, side="right"), minlength=len(inner) + 1)
    return pd.DataFrame(
        {
            "bin_number": np.arange(1, len(inner) + 2, dtype="int64"),
            "lower_bound": lowers,
            "upper_bound": uppers,
            "expected_share": counts / len(values),
        }
    )
