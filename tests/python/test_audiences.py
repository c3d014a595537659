"""Marketing audiences (issue 17): who may be synced to the CRM, checked against the sources, not against dbt.

Reads the shared built folder (scale 0.01) only: the memberships in the warehouse, the app database of a copy of the
folder (PostgreSQL, the system of record for consent and closed accounts) and the raw web events as loaded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from conftest import Built
from helpers import rows

pytestmark = pytest.mark.e2e

# The last complete business day of a run at the generator's end (the sources end on 2026-10-31).
AS_OF = date(2026, 10, 31)
AUDIENCES = {"likely_to_lapse", "high_value", "abandoned_cart"}
# The event times staging parses (macros/parse_event_timestamp.sql); other texts are unparseable and count nowhere.
EPOCH_MS = re.compile(r"[0-9]{12,13}([.][0-9]*)?")
ISO = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]{1,6})?Z?")


def _app_customers(conninfo: str) -> dict[int, tuple[str, datetime | None]]:
    """customer_id -> (marketing_consent, deleted_at) as the app database has them."""
    with psycopg.connect(conninfo) as conn:
        found = conn.execute("select customer_id, marketing_consent, deleted_at from public.customers").fetchall()
    return {customer_id: (consent, deleted_at) for customer_id, consent, deleted_at in found}


def _event_time(text: str | None) -> datetime | None:
    value = (text or "").strip()
    if EPOCH_MS.fullmatch(value):
        return datetime(1970, 1, 1) + timedelta(milliseconds=float(value))
    if ISO.fullmatch(value):
        return datetime.fromisoformat(value.replace("T", " ").removesuffix("Z"))
    return None


def test_only_members_with_consent_and_an_open_account_in_the_app_are_syncable(built: Built, source_db: str) -> None:
    memberships = rows(
        built.settings,
        "select audience_id, customer_id, is_syncable, exclusion_reason, as_of_date "
        "from marts.fct_audience_memberships",
    )
    assert {m[0] for m in memberships} >= {"likely_to_lapse", "high_value"} and {m[0] for m in memberships} <= AUDIENCES
    assert {m[4] for m in memberships} == {AS_OF}
    app = _app_customers(source_db)
    for audience_id, customer_id, is_syncable, reason, _ in memberships:
        assert customer_id in app, f"{audience_id}: customer {customer_id} is not in the app (erased)"
        consent, deleted_at = app[customer_id]
        expected = "no_marketing_consent" if consent != "granted" else None
        if deleted_at is not None:
            expected = "account_closed"  # first, whatever the consent
        assert (is_syncable, reason) == (expected is None, expected), (audience_id, customer_id, consent, deleted_at)
    blocked = [m for m in memberships if m[3] == "no_marketing_consent"]
    assert blocked, "a candidate without consent exists at scale 0.01 and is marked not syncable"
    assert {app[m[1]][0] for m in blocked} <= {"withheld", "withdrawn"}
    assert any(m[2] for m in memberships), "some members are syncable"


def test_abandoned_cart_members_have_a_cart_add_arrived_that_day_and_no_purchase_after_it(
    built: Built, source_db: str
) -> None:
    """The audience equals what the raw events (as loaded, first arrival of each event) and the app's orders say."""
    events = rows(
        built.settings,
        # The arrival day: a late delivery into an earlier day's folder names its own (`<day>/arrived-<day>.jsonl`).
        "select event_id, customer_id, event_type, occurred_at, coalesce(try_cast(nullif(regexp_extract("
        "_source_file, 'arrived-([0-9-]{10})[.]jsonl$', 1), '') as date), cast(split_part(_source_file, '/', 1) "
        "as date)) as day_folder "
        "from raw_events.events where _sdc_deleted_at is null and customer_id is not null "
        "and event_type in ('add_to_cart', 'purchase')",
    )
    first_arrival: dict[str, tuple[int, str, datetime | None, date]] = {}
    for event_id, customer_id, event_type, occurred_at, day_folder in events:
        landed = day_folder
        if event_id not in first_arrival or landed < first_arrival[event_id][3]:
            first_arrival[event_id] = (int(customer_id), event_type, _event_time(occurred_at), landed)
    last_cart_add: dict[int, datetime] = {}
    purchases: dict[int, list[datetime]] = defaultdict(list)
    for customer_id, event_type, occurred_at, landed in first_arrival.values():
        if occurred_at is None or landed > AS_OF:
            continue
        if event_type == "add_to_cart" and landed == AS_OF:
            last_cart_add[customer_id] = max(occurred_at, last_cart_add.get(customer_id, occurred_at))
        elif event_type == "purchase":
            purchases[customer_id].append(occurred_at)
    end_of_day = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    with psycopg.connect(source_db) as conn:
        orders = conn.execute(
            "select customer_id, ordered_at from public.orders where customer_id is not null and ordered_at < %s",
            (end_of_day,),
        ).fetchall()
    for customer_id, ordered_at in orders:
        purchases[customer_id].append(ordered_at.astimezone(UTC).replace(tzinfo=None))
    app = _app_customers(source_db)
    expected = {
        customer_id
        for customer_id, added_at in last_cart_add.items()
        if customer_id in app and not any(bought > added_at for bought in purchases[customer_id])
    }
    members = rows(built.settings, "select customer_id, last_cart_add_at from marts.dim_audience_abandoned_cart")
    assert {m[0] for m in members} == expected
    assert all(m[1] == last_cart_add[m[0]] for m in members)
    synced = {
        m[0]
        for m in rows(
            built.settings,
            "select customer_id from marts.fct_audience_memberships where audience_id = 'abandoned_cart'",
        )
    }
    assert synced == expected
    # At scale 0.01 the logged-in cart adds of the last day all end in a purchase: the audience is empty, and the
    # rule is checked by the same computation finding none. The customers who added to a cart that day are there.
    assert last_cart_add, "logged-in cart adds arrived on the last day"
