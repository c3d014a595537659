"""The Feast side of the feature store, run by .venv-feast's Python (serve/ml/feature_store.py starts it).

Feast needs pandas<3 and the project's environment pins pandas 3, so Feast lives in an environment of its own
(requirements-feast.txt) and this script imports only the standard library and Feast: nothing from tidewater.

No feature repository folder: the configuration and the definitions are made here in code, over one store folder
(registry and SQLite online store) and the Parquet file feature_store.py exported from the mart. The feature view's
fields are the file's columns, so the export's SQL is the one list of features. Output is JSON on stdout.

    feast_repo.py --store-dir DIR --parquet FILE materialize --start ISO --end ISO
    feast_repo.py --store-dir DIR --parquet FILE online CUSTOMER_ID...
    feast_repo.py --store-dir DIR --parquet FILE historical < [{"customer_id": 1, "event_timestamp": ISO}, ...]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Before Feast is imported: it reads these when its modules load.
os.environ["FEAST_USAGE"] = "False"

import pyarrow.parquet as pq
from feast import Entity, FeatureStore, FeatureView, Field, FileSource, RepoConfig
from feast.infra.offline_stores.duckdb import DuckDBOfflineStoreConfig
from feast.infra.online_stores.sqlite import SqliteOnlineStoreConfig
from feast.types import Bool, FeastType, Float64, Int64
from feast.value_type import ValueType

PROJECT = "tidewater"
VIEW = "customer_features"
ENTITY_KEY = "customer_id"
TIMESTAMP = "feature_timestamp"
REGISTRY = "registry.db"
ONLINE_STORE = "online_store.db"
# A point-in-time join takes a customer's latest row no older than this: the mart has a row per customer per day,
# so a request finds the day before's row, or yesterday's when the build is a day late; never a stale customer.
TTL = timedelta(days=2)
# The Parquet types the export writes (feature_store.export_sql) and their Feast types.
FEAST_TYPES: dict[str, FeastType] = {"int64": Int64, "double": Float64, "bool": Bool}


def store(store_dir: Path) -> FeatureStore:
    return FeatureStore(
        config=RepoConfig(
            project=PROJECT,
            provider="local",
            registry=str(store_dir / REGISTRY),
            offline_store=DuckDBOfflineStoreConfig(),
            online_store=SqliteOnlineStoreConfig(path=str(store_dir / ONLINE_STORE)),
            entity_key_serialization_version=3,
            repo_path=str(store_dir),
        )
    )


def definitions(parquet: Path) -> tuple[Entity, FeatureView]:
    customer = Entity(name="customer", join_keys=[ENTITY_KEY], value_type=ValueType.INT64)
    schema = pq.read_schema(parquet)
    fields = [
        Field(name=column.name, dtype=FEAST_TYPES[str(column.type)])
        for column in schema
        if column.name not in (ENTITY_KEY, TIMESTAMP)
    ]
    view = FeatureView(
        name=VIEW,
        entities=[customer],
        ttl=TTL,
        schema=fields,
        source=FileSource(name=f"{VIEW}_source", path=str(parquet), timestamp_field=TIMESTAMP),
        online=True,
        description="Each customer's features as known at feature_timestamp (marts.fct_customer_features_daily).",
    )
    return customer, view


def materialize(store_dir: Path, parquet: Path, start: datetime, end: datetime) -> dict[str, Any]:
    """A new registry and online store from the file, built beside the live ones and then moved over them: readers
    never see a half-built store, and a customer gone from the file (erased) is gone from the store."""
    building = store_dir / f".building-{os.getpid()}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        feature_store = store(building)
        customer, view = definitions(parquet)
        started = time.perf_counter()
        feature_store.apply([customer, view])
        applied = time.perf_counter()
        # Only the TTL's window before `end`, as Feast's materialize_incremental would load on a first run (it
        # counts from the wall clock's now, and the data's days may lie before it): the point-in-time join takes
        # no row older than the TTL either, and the mart has a row per customer per day, so every customer's
        # latest row is in the window (test_feature_store checks both). The mart's whole history is not read.
        feature_store.materialize(start_date=max(start, end - TTL), end_date=end)
        materialized = time.perf_counter()
        for name in (ONLINE_STORE, REGISTRY):
            os.replace(building / name, store_dir / name)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return {
        "apply_seconds": round(applied - started, 3),
        "materialize_seconds": round(materialized - applied, 3),
        "features": len(view.features),
    }


def feature_names(feature_store: FeatureStore) -> list[str]:
    return [feature.name for feature in feature_store.get_feature_view(VIEW).features]


def online(store_dir: Path, customer_ids: list[int]) -> dict[str, Any]:
    """Each customer's latest features; a customer not in the store gets nulls and known_at null."""
    feature_store = store(store_dir)
    names = feature_names(feature_store)
    started = time.perf_counter()
    response = feature_store.get_online_features(
        features=[f"{VIEW}:{name}" for name in names],
        entity_rows=[{ENTITY_KEY: customer_id} for customer_id in customer_ids],
    ).to_dict(include_event_timestamps=True)
    read_ms = (time.perf_counter() - started) * 1000
    rows = []
    for index, customer_id in enumerate(customer_ids):
        features = {name: response[name][index] for name in names}
        # The row's event timestamp (seconds), the same for every feature of the view; 0 when none was found.
        seconds = response[f"{names[0]}__ts"][index]
        found = any(value is not None for value in features.values())
        known_at = datetime.fromtimestamp(seconds, tz=UTC).isoformat() if found else None
        rows.append({ENTITY_KEY: customer_id, "known_at": known_at, "features": features})
    return {"read_ms": round(read_ms, 2), "rows": rows}


def historical(store_dir: Path, entity_rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The point-in-time join: for each (customer, timestamp) the customer's latest row known at that timestamp."""
    import pandas as pd

    feature_store = store(store_dir)
    names = feature_names(feature_store)
    entity_df = pd.DataFrame(
        {
            ENTITY_KEY: pd.Series([int(row[ENTITY_KEY]) for row in entity_rows], dtype="int64"),
            "event_timestamp": pd.to_datetime([row["event_timestamp"] for row in entity_rows], utc=True),
        }
    )
    started = time.perf_counter()
    table = feature_store.get_historical_features(
        entity_df=entity_df, features=[f"{VIEW}:{name}" for name in names]
    ).to_arrow()
    seconds = time.perf_counter() - started
    rows = [
        {
            ENTITY_KEY: row[ENTITY_KEY],
            "event_timestamp": row["event_timestamp"].astimezone(UTC).isoformat(),
            "features": {name: row[name] for name in names},
        }
        for row in table.to_pylist()
    ]
    return {"seconds": round(seconds, 3), "rows": rows}


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--store-dir", type=Path, required=True)
    parser.add_argument("--parquet", type=Path, required=True)
    commands = parser.add_subparsers(dest="command", required=True)
    materialize_parser = commands.add_parser("materialize")
    materialize_parser.add_argument("--start", type=datetime.fromisoformat, required=True)
    materialize_parser.add_argument("--end", type=datetime.fromisoformat, required=True)
    online_parser = commands.add_parser("online")
    online_parser.add_argument("customer_ids", type=int, nargs="+")
    commands.add_parser("historical")
    args = parser.parse_args(argv)

    if args.command != "materialize" and not (args.store_dir / REGISTRY).exists():
        sys.exit(f"the feature store is not built: {args.store_dir / REGISTRY} is missing (run `make run`)")
    # Feast prints its progress on stdout: to stderr with it, stdout carries only the JSON answer.
    with contextlib.redirect_stdout(sys.stderr):
        if args.command == "materialize":
            result = materialize(args.store_dir, args.parquet, args.start, args.end)
        elif args.command == "online":
            result = online(args.store_dir, args.customer_ids)
        else:
            result = historical(args.store_dir, json.load(sys.stdin))
    json.dump(result, sys.stdout, default=_json_default)


if __name__ == "__main__":
    main(sys.argv[1:])
