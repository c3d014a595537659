"""The customer feature store: the feature mart registered in Feast, for point-in-time training sets and online reads.

marts.fct_customer_features_daily is exported to Parquet (Feast's DuckDB offline store reads files, not tables inside
the warehouse), then Feast registers it and loads each customer's latest row into a SQLite online store, all under
<ml_dir>/feature_store/. Feast runs in its own environment (.venv-feast, requirements-feast.txt: it needs pandas<3),
as a subprocess running serve/ml/feast_repo.py; this module imports no Feast.

A day's row holds the features as known at the END of as_of_date, so its Feast event timestamp is the midnight after
it: a point-in-time join at any moment of a day gets the day before's features, never the day's own unfinished ones.
The store holds customer_id and aggregates only.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from tidewater.orchestrate import warehouse
from tidewater.orchestrate.errors import TidewaterError
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings

FEAST_VENV = PROJECT_ROOT / ".venv-feast"
FEAST_REPO = Path(__file__).with_name("feast_repo.py")
MART = "marts.fct_customer_features_daily"
PARQUET = "customer_features.parquet"
REGISTRY = "registry.db"  # feast_repo.py's
# The features served, by how they are exported: Feast has no DECIMAL and no 32-bit integers from Parquet.
INTEGER_FEATURES = (
    "days_since_signup",
    "orders_7d",
    "orders_30d",
    "orders_90d",
    "orders_lifetime",
    "days_since_last_order",
    "refunded_orders_lifetime",
    "cancelled_orders_lifetime",
    "sessions_7d",
    "sessions_30d",
    "sessions_90d",
    "product_views_7d",
    "product_views_30d",
    "product_views_90d",
    "cart_adds_7d",
)
MONEY_FEATURES = ("revenue_30d", "revenue_90d", "revenue_lifetime")
OTHER_FEATURES = ("is_paid_acquisition", "return_rate_lifetime")  # boolean and double already
FEATURES = (*INTEGER_FEATURES, *MONEY_FEATURES, *OTHER_FEATURES)
# A day's features are complete at its end (see the module's docstring).
KNOWN_AFTER = timedelta(days=1)


def store_dir(settings: Settings) -> Path:
    return settings.ml_dir / "feature_store"


def export_sql() -> str:
    columns = [
        *(f"cast({name} as bigint) as {name}" for name in INTEGER_FEATURES),
        *(f"cast({name} as double) as {name}" for name in MONEY_FEATURES),
        *OTHER_FEATURES,
    ]
    return (
        "select customer_id, "
        f"cast(as_of_date as timestamp) + interval {KNOWN_AFTER.days} day as feature_timestamp, "
        f"{', '.join(columns)} from {MART} order by customer_id, as_of_date"
    )


@dataclass(frozen=True)
class Export:
    rows: int
    first_day: date
    last_day: date
    seconds: float


def export(settings: Settings) -> Export:
    """The mart to <store dir>/customer_features.parquet, replaced whole (a temporary file moved over it)."""
    directory = store_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / PARQUET
    temporary = directory / f".{PARQUET}.{os.getpid()}.tmp"
    started = time.perf_counter()
    try:
        with warehouse.connect(settings.warehouse) as connection:
            connection.execute(f"copy ({export_sql()}) to '{temporary}' (format parquet)")
            rows, first_day, last_day = connection.execute(
                f"select count(*), min(as_of_date), max(as_of_date) from {MART}"
            ).fetchone() or (0, None, None)
        if not rows:
            raise TidewaterError(f"{MART} is empty: no features to serve")
        temporary.chmod(0o600)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return Export(rows=rows, first_day=first_day, last_day=last_day, seconds=time.perf_counter() - started)


def _feast(settings: Settings, *args: str, stdin: str | None = None, log_file: Path | None = None) -> dict[str, Any]:
    """serve/ml/feast_repo.py in .venv-feast; its JSON answer. Feast's own output (progress, warnings) goes to
    `log_file` when given."""
    python = FEAST_VENV / "bin" / "python"
    if not python.exists():
        raise TidewaterError(f"Feast is not installed in {FEAST_VENV}: run `make install`")
    directory = store_dir(settings)
    if args[0] != "materialize" and not (directory / REGISTRY).exists():
        raise TidewaterError(f"the feature store is not built in {directory}: run `make run`")
    result = subprocess.run(
        [str(python), str(FEAST_REPO), "--store-dir", str(directory), "--parquet", str(directory / PARQUET), *args],
        input=stdin,
        cwd=PROJECT_ROOT,
        env={**os.environ, "FEAST_USAGE": "False", "DO_NOT_TRACK": "1"},
        capture_output=True,
        text=True,
        check=False,
        umask=0o077,  # the store is the user's alone, like the warehouse
    )
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_file.write_text(result.stderr)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()][-5:]
        raise TidewaterError(f"Feast ({args[0]}) failed: " + " | ".join(lines))
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@dataclass(frozen=True)
class Materialized:
    export: Export
    apply_seconds: float
    materialize_seconds: float
    features: int


def materialize(settings: Settings) -> Materialized:
    """Export the mart, then register it in Feast and load every customer's latest row of the view's TTL into the
    online store. The window ends at the data's last day (not the wall clock's: the simulated calendar is not today);
    feast_repo.py starts it the TTL before."""
    exported = export(settings)
    start = datetime.combine(exported.first_day, datetime.min.time(), UTC) + KNOWN_AFTER
    end = datetime.combine(exported.last_day, datetime.min.time(), UTC) + KNOWN_AFTER
    answer = _feast(
        settings,
        "materialize",
        "--start",
        start.isoformat(),
        "--end",
        end.isoformat(),
        log_file=settings.logs_dir / "feast-materialize.log",
    )
    return Materialized(
        export=exported,
        apply_seconds=answer["apply_seconds"],
        materialize_seconds=answer["materialize_seconds"],
        features=answer["features"],
    )


@dataclass(frozen=True)
class CustomerFeatures:
    customer_id: int
    as_of_date: date | None  # None: the customer is not in the feature store
    features: dict[str, Any]


def _as_of(known_at: str | None) -> date | None:
    return None if known_at is None else (datetime.fromisoformat(known_at) - KNOWN_AFTER).date()


def online_features(settings: Settings, customer_ids: Sequence[int]) -> tuple[list[CustomerFeatures], float]:
    """Each customer's latest features from the online store, and the read's milliseconds (inside Feast)."""
    answer = _feast(settings, "online", *(str(customer_id) for customer_id in customer_ids))
    found = [
        CustomerFeatures(customer_id=row["customer_id"], as_of_date=_as_of(row["known_at"]), features=row["features"])
        for row in answer["rows"]
    ]
    return found, answer["read_ms"]


def historical_features(settings: Settings, requests: Sequence[tuple[int, datetime]]) -> list[dict[str, Any]]:
    """The point-in-time join: for each (customer, moment) the features known at that moment, as rows with
    customer_id, event_timestamp (the moment, aware) and the features (nulls when none were known)."""
    entity_rows = [
        {"customer_id": customer_id, "event_timestamp": moment.astimezone(UTC).isoformat()}
        for customer_id, moment in requests
    ]
    answer = _feast(settings, "historical", stdin=json.dumps(entity_rows))
    # Feast answers in its own order (by timestamp): back to the requests' order.
    joined = {
        (row["customer_id"], datetime.fromisoformat(row["event_timestamp"])): row["features"] for row in answer["rows"]
    }
    return [
        {"customer_id": customer_id, "event_timestamp": moment, **joined[customer_id, moment.astimezone(UTC)]}
        for customer_id, moment in requests
    ]
