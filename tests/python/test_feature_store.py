"""The feature store serves the feature mart as it is: online, each customer's latest day; in a point-in-time join,
the day known at the moment asked, never the day's own unfinished features.

Every feature is compared with marts.fct_customer_features_daily, exactly (money to the cent), through Feast's own
reads (serve/ml/feature_store.py runs them in .venv-feast) and through `tidewater features`.
"""

from __future__ import annotations

import sqlite3
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import Built
from helpers import rows, tidewater_cli

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.settings import Settings
from tidewater.serve.ml.feature_store import (
    FEATURES,
    MONEY_FEATURES,
    PARQUET,
    historical_features,
    materialize,
    online_features,
    store_dir,
)

pytestmark = pytest.mark.e2e

MART = "marts.fct_customer_features_daily"
UNKNOWN = 999_999_999


@pytest.fixture(scope="module")
def store(built: Built) -> Settings:
    """The built folder's feature store, which the run's ml/feature_store step made."""
    assert (store_dir(built.settings) / "registry.db").exists(), "the run made no feature store"
    return built.settings


def mart_rows(built: Built, where: str, *params: Any) -> dict[tuple[int, date], dict[str, Any]]:
    """The mart's rows by (customer_id, as_of_date), the served features only."""
    found = rows(built.settings, f"select customer_id, as_of_date, {', '.join(FEATURES)} from {MART} where {where}",
                 *params)  # fmt: skip
    return {(row[0], row[1]): dict(zip(FEATURES, row[2:], strict=True)) for row in found}


def assert_same_features(served: dict[str, Any], expected: dict[str, Any], what: str) -> None:
    for name in FEATURES:
        value, wanted = served[name], expected[name]
        if name in MONEY_FEATURES:
            assert value is not None and Decimal(f"{value:.2f}") == wanted, (what, name, value, wanted)
            assert abs(value - float(wanted)) < 1e-9, (what, name, value, wanted)  # no other rounding on the way
        else:
            assert value == wanted and type(value) is type(wanted), (what, name, value, wanted)


def features_command(data_dir: Path, *customer_ids: int) -> subprocess.CompletedProcess[str]:
    """`tidewater --data-dir DATA_DIR features CUSTOMER_ID...`."""
    return tidewater_cli("features", *map(str, customer_ids), data_dir=data_dir)


def test_online_features_are_each_customers_last_day(built: Built, store: Settings) -> None:
    (last_day,) = rows(built.settings, f"select max(as_of_date) from {MART}")[0]
    expected = mart_rows(built, "as_of_date = ?", last_day)
    customers = sorted(customer_id for customer_id, _ in expected)
    # Every customer of the mart has a row on its last day, and so one in the online store; and no one else.
    assert len(customers) == rows(built.settings, f"select count(distinct customer_id) from {MART}")[0][0] > 20
    online = sqlite3.connect(f"file:{store_dir(store) / 'online_store.db'}?mode=ro", uri=True)
    try:
        assert online.execute("select count(distinct entity_key) from tidewater_customer_features").fetchone() == (
            len(customers),
        )
    finally:
        online.close()

    served, read_ms = online_features(store, [*customers, UNKNOWN])
    assert read_ms > 0
    assert [customer.customer_id for customer in served] == [*customers, UNKNOWN]
    for customer in served[:-1]:
        assert customer.as_of_date == last_day, customer
        assert_same_features(customer.features, expected[customer.customer_id, last_day], f"customer {customer}")
    # Some customers have never ordered: their nulls are served as nulls, not as zeros.
    assert any(customer.features["days_since_last_order"] is None for customer in served[:-1])
    unknown = served[-1]
    assert unknown.as_of_date is None and set(unknown.features) == set(FEATURES)
    assert all(value is None for value in unknown.features.values())

    # The offline store's file: the mart's rows, customer_id and the features only (no person's identifier).
    parquet = store_dir(store) / PARQUET
    columns = [row[0] for row in rows(built.settings, f"describe select * from read_parquet('{parquet}')")]
    assert columns == ["customer_id", "feature_timestamp", *FEATURES]
    assert rows(built.settings, f"select count(*) from read_parquet('{parquet}')") == rows(
        built.settings, f"select count(*) from {MART}"
    )


def test_historical_features_are_point_in_time(built: Built, store: Settings) -> None:
    # A customer whose features changed on a day D (an order placed): asked during D, the join gives D-1's
    # features (D's are not finished); asked at D's end (midnight after) or later that next day, D's.
    customer, day = rows(
        built.settings,
        f"select customer_id, as_of_date from {MART} qualify orders_lifetime > lag(orders_lifetime) over "
        "(partition by customer_id order by as_of_date) order by as_of_date desc, customer_id limit 1",
    )[0]
    changed = mart_rows(built, "customer_id = ? and as_of_date in (?, ?)", customer, day - timedelta(days=1), day)
    before, after = changed[customer, day - timedelta(days=1)], changed[customer, day]
    assert before["orders_lifetime"] < after["orders_lifetime"]
    midnight = datetime.combine(day, time(), UTC)
    requests: list[tuple[tuple[int, datetime], dict[str, Any] | None]] = [
        ((customer, midnight + timedelta(hours=12)), before),
        ((customer, midnight + timedelta(days=1)), after),
        ((customer, midnight + timedelta(days=2) - timedelta(seconds=1)), after),
    ]
    # A spread of customers and days, each asked at its day's end.
    sample = mart_rows(built, "hash(customer_id, as_of_date) % 1000 < 3")
    assert len(sample) >= 10
    for (customer_id, as_of_date), expected in sorted(sample.items()):
        requests.append(((customer_id, datetime.combine(as_of_date + timedelta(days=1), time(), UTC)), expected))
    # Nothing is known before a customer's first day ends, nor of a customer who is not there.
    (first_customer, signup_date) = rows(built.settings, f"select customer_id, min(as_of_date) from {MART} group by 1 "
                                         "order by 1 limit 1")[0]  # fmt: skip
    requests.append(((first_customer, datetime.combine(signup_date, time(23, 59), UTC)), None))
    requests.append(((UNKNOWN, midnight), None))

    joined = historical_features(store, [request for request, _ in requests])
    assert len(joined) == len(requests)
    for row, ((customer_id, moment), expected) in zip(joined, requests, strict=True):
        assert (row["customer_id"], row["event_timestamp"]) == (customer_id, moment)
        if expected is None:
            assert all(row[name] is None for name in FEATURES), row
        else:
            assert_same_features(row, expected, f"customer {customer_id} at {moment}")


@pytest.mark.drill
def test_a_customer_with_no_row_in_the_last_two_days_is_served_by_neither_store(drill_folder: Settings) -> None:
    """The feature view's TTL is two days: the point-in-time join takes no older row, and the online store, loaded
    with the TTL's window only, holds none either. A reader never gets a stale customer from one and not the
    other."""
    settings = drill_folder
    (last_day,) = rows(settings, f"select max(as_of_date) from {MART}")[0]
    (stale,) = rows(settings, f"select min(customer_id) from {MART} where as_of_date = ?", last_day)[0]
    with warehouse.connect(settings.warehouse, read_only=False) as connection:
        connection.execute(
            f"delete from {MART} where customer_id = ? and as_of_date > ?", [stale, last_day - timedelta(days=3)]
        )
    (customers,) = rows(settings, f"select count(distinct customer_id) from {MART} where as_of_date = ?", last_day)[0]

    materialize(settings)

    served, _ = online_features(settings, [stale])
    assert served[0].as_of_date is None, served[0]
    online = sqlite3.connect(f"file:{store_dir(settings) / 'online_store.db'}?mode=ro", uri=True)
    try:
        assert online.execute("select count(distinct entity_key) from tidewater_customer_features").fetchone() == (
            customers,
        )
    finally:
        online.close()
    (joined,) = historical_features(settings, [(stale, datetime.combine(last_day + timedelta(days=1), time(), UTC))])
    assert all(joined[name] is None for name in FEATURES), joined


def test_features_command(built: Built, store: Settings) -> None:
    (last_day,) = rows(built.settings, f"select max(as_of_date) from {MART}")[0]
    expected = mart_rows(built, "as_of_date = ?", last_day)
    buyer = max(expected, key=lambda key: (expected[key]["orders_lifetime"], -key[0]))[0]
    never_ordered = min(key[0] for key, features in expected.items() if features["orders_lifetime"] == 0)
    result = features_command(store.data_dir, buyer, UNKNOWN, never_ordered)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    table = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines() if line.split()}
    assert table["customer_id"] == [str(buyer), str(never_ordered)]
    assert table["as_of_date"] == [last_day.isoformat()] * 2
    for column, customer_id in enumerate((buyer, never_ordered)):
        for name, value in expected[customer_id, last_day].items():
            if value is None:
                shown = "-"
            elif isinstance(value, bool):
                shown = "yes" if value else "no"
            elif isinstance(value, Decimal):
                shown = f"{value:,.2f}"
            elif isinstance(value, float):
                shown = f"{value:.4f}"
            else:
                shown = f"{value:,}"
            assert table[name][column] == shown, (customer_id, name, value, table[name])
    assert f"customer {UNKNOWN}: not in the feature store" in result.stdout


def test_features_command_without_a_store(tmp_path: Path) -> None:
    result = features_command(tmp_path / "data", 1)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: the feature store is not built in {tmp_path / 'data' / 'ml' / 'feature_store'}: run `make run`"
    ]
