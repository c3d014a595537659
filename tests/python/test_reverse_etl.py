"""Reverse ETL (serve/reverse_etl/): the audiences' syncable members in the CRM database and at the webhook, changes
only. The CRM is read in PostgreSQL itself and compared with the marts; the webhook is a real receiver on 127.0.0.1.
One pipeline run of this file's own: the drill's, after a customer withdrew their marketing consent."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
from conftest import Built
from helpers import ok, rows, run, tidewater_cli, webhook

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.settings import PROJECT_ROOT, Settings
from tidewater.serve.reverse_etl import crm_database

CONTACT_COLUMNS = ("customer_id", "country_code", "acquisition_channel_code", "signup_date", "lifetime_orders")
FIGURES = ("rows_sent", "rows_updated", "rows_removed", "rows_rejected", "rows_blocked")
Membership = tuple[str, int]


def syncable(settings: Settings) -> tuple[set[Membership], set[tuple[Any, ...]]]:
    """What the CRM must hold, read from the marts directly: the syncable memberships and their customers' rows."""
    memberships = set(
        rows(settings, "select audience_id, customer_id from marts.fct_audience_memberships where is_syncable")
    )
    contacts = set(
        rows(
            settings,
            f"select {', '.join(CONTACT_COLUMNS)} from marts.dim_customers where customer_id in "
            "(select customer_id from marts.fct_audience_memberships where is_syncable)",
        )
    )
    return memberships, contacts


def crm_contents(conninfo: str) -> tuple[set[Membership], set[tuple[Any, ...]]]:
    with psycopg.connect(conninfo) as pg:
        memberships = set(pg.execute("select audience_id, customer_id from crm.list_memberships").fetchall())
        contacts = set(pg.execute(f"select {', '.join(CONTACT_COLUMNS)} from crm.contacts").fetchall())
    return memberships, contacts


def crm_of(settings: Settings) -> tuple[set[Membership], set[tuple[Any, ...]]]:
    """The CRM of a drill's folder: its PostgreSQL started for the read, stopped after."""
    server = PostgresServer(settings.postgres_dir)
    connection = server.start()
    try:
        return crm_contents(crm_database.conninfo(connection))
    finally:
        server.stop()


def log_of_last_run(settings: Settings, destination: str) -> dict[str, dict[str, int]]:
    """The last sync's figures for a destination, by audience."""
    found = rows(
        settings,
        f"select audience_id, {', '.join(FIGURES)} from reverse_etl.sync_log where destination = ? and run_id = "
        "(select arg_max(run_id, synced_at) from reverse_etl.sync_log) order by audience_id",
        destination,
    )
    return {audience: dict(zip(FIGURES, figures, strict=True)) for audience, *figures in found}


def changes(bodies: list[str]) -> list[tuple[str, str, tuple[Any, ...]]]:
    """Every change the webhook received: (stream, op, key values)."""
    return [
        (document["stream"], change["op"], tuple(change["keys"].values()))
        for document in map(json.loads, bodies)
        for change in document["changes"]
    ]


@pytest.mark.e2e
def test_the_crm_holds_exactly_the_syncable_members_after_the_run(built: Built, source_db: str) -> None:
    settings = built.settings
    memberships, contacts = syncable(settings)
    assert memberships, "no syncable audience member at the test scale: nothing to check"
    crm_memberships, crm_contacts = crm_contents(source_db.rsplit("/", 1)[0] + "/" + crm_database.DATABASE)
    assert crm_memberships == memberships
    assert crm_contacts == contacts
    blocked = set(
        rows(settings, "select audience_id, customer_id from marts.fct_audience_memberships where not is_syncable")
    )
    assert blocked, "no member blocked by consent or a closed account at the test scale"
    assert not crm_memberships & blocked
    # One log row per audience for the run's sync, with what it sent (everything: the CRM was empty) and blocked.
    per_audience = Counter(audience for audience, _ in memberships)
    blocked_per_audience = Counter(audience for audience, _ in blocked)
    audiences = sorted(
        {audience for (audience,) in rows(settings, "select audience_id from marts.fct_audience_memberships")}
    )
    log = log_of_last_run(settings, "crm")
    assert sorted(log) == audiences
    for audience in audiences:
        assert log[audience] == {
            "rows_sent": per_audience[audience],
            "rows_updated": 0,
            "rows_removed": 0,
            "rows_rejected": 0,
            "rows_blocked": blocked_per_audience[audience],
        }, audience
    assert rows(settings, "select count(distinct run_id) from reverse_etl.sync_log") == [(1,)]


@pytest.mark.drill
def test_a_rerun_sends_nothing_and_withdrawn_consent_removes_the_contact(drill_folder: Settings) -> None:
    settings = drill_folder
    before_memberships, before_contacts = syncable(settings)
    with webhook() as receiver:
        env = {"TIDEWATER_CRM_WEBHOOK_URL": receiver.url}
        # First sync with the webhook: the CRM has everything already (nothing sent there), the webhook gets all.
        ok(tidewater_cli("sync", data_dir=settings.data_dir, extra_env=env))
        crm_log = log_of_last_run(settings, "crm")
        assert all(f["rows_sent"] == f["rows_updated"] == f["rows_removed"] == 0 for f in crm_log.values()), crm_log
        first = changes(receiver.received)
        assert Counter((stream, op) for stream, op, _ in first) == {
            ("contacts", "upsert"): len(before_contacts),
            ("list_memberships", "upsert"): len(before_memberships),
        }
        # (b) Again, nothing changed: nothing sent anywhere, zeros in the log.
        received = len(receiver.received)
        ok(tidewater_cli("sync", data_dir=settings.data_dir, extra_env=env))
        assert len(receiver.received) == received, "the webhook got a request although nothing changed"
        for destination in ("crm", "webhook"):
            log = log_of_last_run(settings, destination)
            assert log, destination
            assert all(f["rows_sent"] == f["rows_updated"] == f["rows_removed"] == 0 for f in log.values()), log

        # (c) A synced member withdraws their consent in the app (the row's updated_at past the extractor's
        # bookmark); the next business day's run removes them everywhere.
        leaving = min(customer for _, customer in before_memberships)
        leaving_memberships = {m for m in before_memberships if m[1] == leaving}
        server = PostgresServer(settings.postgres_dir)
        connection = server.start()
        try:
            with psycopg.connect(connection.conninfo) as conn:
                moved = conn.execute(
                    "update public.customers set marketing_consent = 'withdrawn', "
                    "marketing_consent_updated_at = moved_at, updated_at = moved_at "
                    "from (select max(updated_at) + interval '1 second' as moved_at from public.customers) as now "
                    "where customer_id = %s and marketing_consent = 'granted'",
                    (leaving,),
                ).rowcount
        finally:
            server.stop()
        assert moved == 1
        received = len(receiver.received)
        ok(run(settings, "--days", "1", extra_env=env, sync=True))
        sent_now = changes(receiver.received[received:])

    after_memberships, after_contacts = syncable(settings)
    assert leaving not in {customer for _, customer in after_memberships}
    crm_memberships, crm_contacts = crm_of(settings)
    assert (crm_memberships, crm_contacts) == (after_memberships, after_contacts)
    assert leaving not in {contact[0] for contact in crm_contacts}
    deletes = {(stream, keys) for stream, op, keys in sent_now if op == "delete"}
    assert ("contacts", (leaving,)) in deletes
    assert {("list_memberships", m) for m in leaving_memberships} <= deletes
    # The log counts every removal, audience by audience, the same at both destinations.
    removed = Counter(audience for audience, _ in before_memberships - after_memberships)
    for destination in ("crm", "webhook"):
        log = log_of_last_run(settings, destination)
        assert {a: f["rows_removed"] for a, f in log.items() if f["rows_removed"]} == removed, destination
    # A day on, a customer left an audience by its rule (at seed 42, scale 0.01: one left likely_to_lapse): removed
    # from that list only; the contact goes too when it was their last list, and stays otherwise.
    left = {m for m in before_memberships - after_memberships if m[1] != leaving}
    assert left, "no customer left an audience a day on: this drill checks a leaver no more"
    for audience, customer in left:
        assert (audience, customer) not in crm_memberships
        assert ("list_memberships", (audience, customer)) in deletes
        others = {m for m in after_memberships if m[1] == customer}
        assert others <= crm_memberships
        assert (customer in {contact[0] for contact in crm_contacts}) == bool(others)
        assert (("contacts", (customer,)) in deletes) == (not others)


LOADER_VENV = PROJECT_ROOT / ".meltano" / "loaders" / "target-postgres-crm" / "venv" / "bin"
MESSAGES = [
    {"type": "SCHEMA", "stream": "list_memberships", "key_properties": ["audience_id", "customer_id"],
     "schema": {"type": "object", "properties": {
         "audience_id": {"type": "string"}, "customer_id": {"type": "integer"},
         "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"}}}},
    *({"type": "RECORD", "stream": "list_memberships",
       "record": {"audience_id": "a", "customer_id": customer_id, "_sdc_deleted_at": None}} for customer_id in (1, 2)),
]  # fmt: skip
DELETION = {
    "type": "RECORD",
    "stream": "list_memberships",
    "record": {"audience_id": "a", "customer_id": 1, "_sdc_deleted_at": "2026-12-01T00:00:00+00:00"},
}


def test_a_deletion_deletes_the_row_only_through_the_wrapper(app_db_conninfo: str, tmp_path: Path) -> None:
    """Why the loader is wrapped (extract/target_postgres_hard_delete): target-postgres 0.8.1 merges a record that
    carries _sdc_deleted_at like any other, even with hard_delete (which applies to ACTIVATE_VERSION only); the
    wrapper deletes its row."""
    where = urlsplit(app_db_conninfo)
    left = {}
    for executable, schema in (("target-postgres-hard-delete", "wrapped"), ("target-postgres", "plain")):
        config = tmp_path / f"{schema}.json"
        config.write_text(json.dumps({
            "host": where.hostname, "port": where.port, "user": where.username, "password": where.password,
            "database": where.path.lstrip("/"), "default_target_schema": schema, "add_record_metadata": True,
            "hard_delete": True,
        }))  # fmt: skip
        for messages in (MESSAGES, [MESSAGES[0], DELETION]):
            subprocess.run(
                [str(LOADER_VENV / executable), "--config", str(config)],
                input="".join(json.dumps(m) + "\n" for m in messages),
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            )
        with psycopg.connect(app_db_conninfo) as pg:
            found = pg.execute(f"select customer_id from {schema}.list_memberships order by 1").fetchall()
        left[executable] = [customer_id for (customer_id,) in found]
    assert left == {"target-postgres-hard-delete": [2], "target-postgres": [1, 2]}
