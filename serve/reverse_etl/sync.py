"""`sync(settings)`: the audiences' changes to every configured destination, one after the other.

For each destination: Meltano runs the warehouse tap (changes since the destination's last successful sync) into
its loader; only when the loader succeeded does the warehouse record what the destination now has, and the figures
of the sync (state.py). The CRM database is made on the data folder's embedded PostgreSQL first (crm_database.py).
The webhook is a destination only when its URL is set (TIDEWATER_CRM_WEBHOOK_URL).

The warehouse is written here between the Meltano runs, never during one (the tap opens it read-only): DuckDB lets
a writer in only alone, so this step runs alone, after the build.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate import meltano, warehouse
from tidewater.orchestrate.commands import run_logged
from tidewater.orchestrate.meltano import write_env_file
from tidewater.orchestrate.settings import Settings
from tidewater.serve.reverse_etl import crm_database, state
from tidewater.serve.reverse_etl.state import SyncResult

__all__ = ["DESTINATIONS", "Destination", "SyncResult", "sync"]


@dataclass(frozen=True)
class Destination:
    name: str  # the `destination` of reverse_etl.synced_* and sync_log
    extractor: str
    loader: str


CRM = Destination("crm", "tap-tidewater-warehouse", "target-postgres-crm")
WEBHOOK = Destination("webhook", "tap-tidewater-warehouse-webhook", "target-webhook")
DESTINATIONS = (CRM, WEBHOOK)


def destinations(settings: Settings) -> list[Destination]:
    return [CRM, *([WEBHOOK] if settings.crm_webhook_url else [])]


def _deliver(settings: Settings, destination: Destination, env: dict[str, str]) -> None:
    run_logged(
        meltano.command(settings, "run", "--refresh-catalog", "--force", destination.extractor, destination.loader),
        env=env,
        log_file=settings.logs_dir / f"reverse-etl-{destination.name}.log",
        label=f"meltano run {destination.extractor} {destination.loader}",
    )


def sync(settings: Settings, log: Callable[[str], None] = print) -> list[SyncResult]:
    """Sync every configured destination; the figures of each (destination, audience). A destination whose delivery
    fails stops the sync with its error; what it had stays recorded as before, so the next sync sends it again."""
    from tidewater.privacy.retention import business_day

    run_id = uuid.uuid4().hex
    day = business_day(settings)
    with warehouse.connect(settings.warehouse, read_only=False) as con:
        state.prepare(con)
    targets = destinations(settings)
    if WEBHOOK not in targets:
        log("reverse ETL: no webhook configured (TIDEWATER_CRM_WEBHOOK_URL), webhook destination skipped")
    results: list[SyncResult] = []
    with PostgresServer(settings.postgres_dir).running() as connection:
        env = {
            **os.environ,
            **write_env_file(settings, connection),
            **crm_database.ensure(connection, settings.postgres_dir),
        }
        for destination in targets:
            _deliver(settings, destination, env)
            synced_at = datetime.now(UTC).replace(tzinfo=None)
            with warehouse.connect(settings.warehouse, read_only=False) as con:
                recorded = state.record(
                    con, run_id=run_id, business_day=day, synced_at=synced_at, destination=destination.name
                )
            results += recorded
            log(
                f"reverse ETL to {destination.name}: {sum(r.rows_sent for r in recorded):,} memberships sent, "
                f"{sum(r.rows_updated for r in recorded):,} updated, {sum(r.rows_removed for r in recorded):,} "
                f"removed, {sum(r.rows_rejected for r in recorded):,} rejected, "
                f"{sum(r.rows_blocked for r in recorded):,} blocked (not syncable), in {len(recorded)} audiences"
            )
    return results
