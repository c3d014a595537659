"""Erasure everywhere: `tidewater forget CUSTOMER_ID` on a copy of the built folder, then every store searched for the
person's values and their pseudonyms (leak_scan.py): none left; nor their features, scores, audience memberships, CRM
contact or feature-store entry. Their orders stay for the books."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import psycopg
import pytest
from helpers import ok, rows, scalar, tidewater_cli
from leak_scan import NAME_PAIR, scan

from tidewater.generate.postgres import PostgresServer
from tidewater.orchestrate.settings import Settings
from tidewater.privacy.pseudonyms import pseudonym_key
from tidewater.serve import published
from tidewater.serve.ml.feature_store import online_features
from tidewater.serve.reverse_etl import crm_database

pytestmark = [pytest.mark.e2e, pytest.mark.drill]

PERSONAL = ("email", "first_name", "last_name", "phone", "address_line")
ERASED_FROM = ("raw_app.customers", "staging.stg_app__customers", "snapshots.snp_app__customers", "marts.dim_customers")


def _person(settings: Settings, conninfo: str) -> tuple[int, dict[str, str]]:
    """A customer with orders, in the CRM, and every personal value filled in, and those values from the app
    database."""
    with psycopg.connect(conninfo) as connection:
        filled = connection.execute(
            f"select customer_id, {', '.join(PERSONAL)} from public.customers"
            f" where {' and '.join(f'nullif(trim({c}), {chr(39) * 2}) is not null' for c in PERSONAL)}"
        ).fetchall()
    in_app = {row[0]: dict(zip(PERSONAL, row[1:], strict=True)) for row in filled}
    with_orders = rows(
        settings,
        "select o.customer_id from marts.fct_orders as o inner join reverse_etl.synced_contacts as s"
        " on s.customer_id = o.customer_id and s.destination = 'crm' group by 1 order by count(*) desc, 1",
    )
    customer_id = next(r[0] for r in with_orders if r[0] in in_app)
    return customer_id, in_app[customer_id]


def _needles(settings: Settings, values: dict[str, str]) -> dict[str, set[str]]:
    """The person's readable values, as the leak scanner searches them (a name only as first and last together), and
    every hash of them the project ever made: the keyed pseudonyms the extractor writes and the md5 of the email
    staging used to publish."""
    key = pseudonym_key(settings).encode()
    first, last = values["first_name"].strip(), values["last_name"].strip()
    normalised = {
        "email": values["email"].strip().lower(),
        "name": f"{values['first_name']} {values['last_name']}".strip().lower(),  # as the stream map joins them
        "phone": values["phone"].strip().lower(),
        "address_line": values["address_line"].strip().lower(),
    }
    return {
        "email": {values["email"], normalised["email"]},
        "full name": {f"{first} {last}"},
        NAME_PAIR: {f"{first}\t{last}"},
        "phone": {values["phone"]},
        "address line": {values["address_line"]},
        "pseudonym": {hmac.new(key, v.encode(), hashlib.sha256).hexdigest() for v in normalised.values()},
        "email md5": {hashlib.md5(normalised["email"].encode()).hexdigest()},
    }


def _in(settings: Settings, table: str, customer_id: int) -> int:
    return scalar(settings, f"select count(*) from {table} where customer_id = ?", customer_id)


# The stores built from the person's activity rather than their row: the feature and score marts (incremental), the
# audiences and what the sync recorded as sent.
ACTIVITY = (
    "marts.fct_customer_features_daily",
    "marts.fct_customer_scores_daily",
    "marts.fct_audience_memberships",
    "reverse_etl.synced_contacts",
)


def _crm_contacts(settings: Settings, customer_id: int) -> int:
    server = PostgresServer(settings.postgres_dir)
    connection = server.start()
    try:
        with psycopg.connect(crm_database.conninfo(connection)) as crm:
            found = crm.execute("select count(*) from crm.contacts where customer_id = %s", [customer_id]).fetchone()
    finally:
        server.stop()
    return int(found[0]) if found else 0


def test_forget_removes_a_customer_from_every_store_and_keeps_their_orders(
    drill_folder: Settings, source_db: str
) -> None:
    settings = drill_folder
    customer_id, values = _person(settings, source_db)
    needles = _needles(settings, values)
    orders = _in(settings, "marts.fct_orders", customer_id)
    before = scan(settings, needles)
    # The search can find them: the pseudonyms are in raw before the erasure (a scan that finds nothing proves nothing).
    assert {hit.kind for hit in before.hits} == {"pseudonym"}, before.summary()
    # In the warehouse (a relation after ": ") and in the lake's copy of raw (a Parquet file, one per load day).
    places = {hit.place.partition(": ")[2] or hit.place.partition("/load_day=")[0] for hit in before.hits}
    assert places == {"raw_app.customers", "staging.stg_app__customers", "data/lake/raw_app/customers"}
    assert _in(settings, "snapshots.snp_app__customers", customer_id) >= 1
    for table in ACTIVITY:
        assert _in(settings, table, customer_id) >= 1, table
    assert _crm_contacts(settings, customer_id) == 1
    assert online_features(settings, [customer_id])[0][0].as_of_date is not None
    old_copy = published.current_database(settings).parent

    result = ok(tidewater_cli("forget", str(customer_id), data_dir=settings.data_dir))
    assert "erasure recorded for 1 customer(s)" in result.stdout
    assert "raw_app.customers" in result.stdout

    after = scan(settings, needles)
    assert not after.hits, [str(hit) for hit in after.hits]
    assert sum(after.places.values()) >= sum(before.places.values()) > 0  # the run's new logs and report searched too
    for table in (
        "raw_app.customers",
        "staging.stg_app__customers",
        "snapshots.snp_app__customers",
        "marts.dim_customers",
        *ACTIVITY,
    ):
        assert _in(settings, table, customer_id) == 0, table
    # The sync of the forget's run sent the CRM its deletion; the feature store was rebuilt without them.
    assert _crm_contacts(settings, customer_id) == 0
    assert online_features(settings, [customer_id])[0][0].as_of_date is None
    # The books keep the orders, under an id that no longer leads to anyone.
    assert _in(settings, "marts.fct_orders", customer_id) == orders > 0
    assert rows(settings, "select requested_by from privacy.erasure_requests where customer_id = ?", customer_id) == [
        ("tidewater forget",)
    ]
    # The serving copy readers open is rebuilt without them, and no copy made before the request is kept.
    with published.connect(settings) as con:
        served = con.execute("select count(*) from marts.dim_customers where customer_id = ?", [customer_id])
        assert served.fetchone() == (0,)
    assert not old_copy.exists()
    assert [p.name for p in Path(settings.serving_dir).iterdir() if p.is_dir() and not p.is_symlink()] == [
        published.current_database(settings).parent.name
    ]

    again = ok(tidewater_cli("forget", str(customer_id), "--no-run", data_dir=settings.data_dir))
    assert f"already requested: [{customer_id}]" in again.stdout
