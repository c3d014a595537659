"""The model's inputs: which columns of the training examples (models/marts/ml/fct_customer_training_examples.sql) and
of the features mart it reads, and how they become a numeric matrix."""

from __future__ import annotations

import pandas as pd

LABEL = "orders_again_within_30d"
DAY = "as_of_date"
KEY = "customer_id"
# Numeric features of the mart's contract. Timestamps (last_cart_add_at, ...) are left out: their recency is already
# in the day counts, and a raw timestamp would only teach the model the calendar.
NUMERIC_FEATURES: tuple[str, ...] = (
    "days_since_signup",
    "orders_7d",
    "orders_30d",
    "orders_90d",
    "orders_lifetime",
    "revenue_30d",
    "revenue_90d",
    "revenue_lifetime",
    "days_since_last_order",
    "refunded_orders_lifetime",
    "return_rate_lifetime",
    "sessions_7d",
    "sessions_30d",
    "sessions_90d",
    "product_views_7d",
    "product_views_30d",
    "product_views_90d",
    "cart_adds_7d",
)
# Every feature is non-negative: a missing value (no order yet, so no recency or return rate) becomes this, below any
# real value (the model takes logarithms of the values clipped at zero, so it weighs like an empty count).
MISSING = -1.0
# Made in `feature_matrix`: the pace of buying (the raw counts show it only together with tenure), and the paid
# acquisition flag as a number.
DERIVED_FEATURES: tuple[str, ...] = ("orders_per_30d_of_tenure", "is_paid_acquisition")
FEATURES: tuple[str, ...] = NUMERIC_FEATURES + DERIVED_FEATURES


def feature_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's input columns, as floats (missing values as MISSING).

    Works on training examples and on feature rows alike; extra columns are ignored."""
    matrix = pd.DataFrame(index=frame.index)
    for column in NUMERIC_FEATURES:
        matrix[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    tenure_months = (matrix["days_since_signup"].clip(lower=0) + 1.0) / 30.0
    matrix["orders_per_30d_of_tenure"] = matrix["orders_lifetime"] / tenure_months
    matrix["is_paid_acquisition"] = frame["is_paid_acquisition"].astype("boolean").astype("float64")
    return matrix[list(FEATURES)].fillna(MISSING)


def baseline_scores(frame: pd.DataFrame) -> pd.Series:
    """The recency rule the model must beat: the more recent the last order, the likelier the next one."""
    days = pd.to_numeric(frame["days_since_last_order"], errors="coerce").astype("float64")
    # Never ordered: less likely than any buyer (the training set holds buyers only; scoring may not).
    return -days.fillna(days.max() + 1 if days.notna().any() else 0.0)
