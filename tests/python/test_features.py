"""The customer feature mart is point in time: a day's features use only what had happened or arrived by its end.

Recomputed here from the raw tables, independently of the mart's SQL: orders by when they were placed, cancelled by
the time of their cancellation, refunded by the refund payment's time, and web events by the day their landing file
arrived (its day folder, or the day an `arrived-<day>.jsonl` late delivery names). Each chosen day's rows are compared
with that, for every customer, exactly (money to the cent). Each day is chosen so that the leaky reading (events by
when they happened; orders in their current status) gives other features for some customer, so a mart that leaked
would fail here.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
from conftest import Built
from helpers import rows

from tidewater.orchestrate.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e

MART = "marts.fct_customer_features_daily"
WINDOWS = (7, 30, 90)
SESSION_GAP = timedelta(minutes=30)  # dbt_project.yml var session_timeout_minutes
BOT_MARKERS = ("bot", "crawler", "spider", "headlesschrome")
CENT = Decimal("0.01")
# Each comparison reads the mart's columns in this order.
FEATURES = (
    "signup_date", "days_since_signup",
    "orders_7d", "orders_30d", "orders_90d", "orders_lifetime",
    "revenue_30d", "revenue_90d", "revenue_lifetime", "days_since_last_order",
    "refunded_orders_lifetime", "cancelled_orders_lifetime", "return_rate_lifetime",
    "sessions_7d", "sessions_30d", "sessions_90d",
    "product_views_7d", "product_views_30d", "product_views_90d",
    "cart_adds_7d", "last_cart_add_at", "last_purchase_event_at",
)  # fmt: skip


@dataclass(frozen=True)
class Order:
    customer_id: int
    placed: date
    revenue: Decimal
    cancelled: date | None  # the day it was cancelled, when its status is cancelled
    refunded: date | None  # the day of its first refund


@dataclass(frozen=True)
class Event:
    event_id: str
    customer_id: int
    anonymous_id: str
    event_type: str
    occurred_at: datetime
    landed: date  # the arrival day of the earliest landing file that held it


@dataclass(frozen=True)
class Sources:
    signups: dict[int, date]
    orders: list[Order]
    events: list[Event]
    last_day: date


# -- the sources, as raw as the warehouse holds them ----------------------------------------------------------------

LATEST = """
    select * exclude (version_rank) from (
        select *, row_number() over (partition by {key} order by updated_at desc, _sdc_batched_at desc) as version_rank
        from raw_app.{table}
    )
    where version_rank = 1 and _sdc_deleted_at is null
      and {key} not in (select record_id from raw_app.deleted_records where table_name = '{table}')
"""


def _latest(table: str, key: str) -> str:
    return LATEST.format(table=table, key=key)


def _money(value: float | None) -> Decimal:
    return Decimal(repr(value or 0.0)).quantize(CENT, ROUND_HALF_UP)


def _occurred_at(text: str | None) -> datetime | None:
    """The three formats the landing zone writes; anything else cannot be placed in time."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{12,13}(\.\d*)?", text):
        return datetime(1970, 1, 1) + timedelta(milliseconds=int(float(text)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z?", text):
        return datetime.fromisoformat(text.replace("T", " ").removesuffix("Z"))
    return None


def _business_last_day(built: Built) -> date:
    """The day before the business now: TIDEWATER_BUSINESS_NOW, else dbt_project.yml's default."""
    now = built.settings.business_now
    if not now:
        project = (PROJECT_ROOT / "dbt_project.yml").read_text()
        match = re.search(r"TIDEWATER_BUSINESS_NOW', '([^']+)'", project)
        assert match, "dbt_project.yml names no default business now"
        now = match.group(1)
    return datetime.fromisoformat(now).date() - timedelta(days=1)


def _events(built: Built) -> list[Event]:
    archive = built.settings.data_dir / "archive" / "raw_events" / "events"
    archived = (
        f"union all by name select * from read_parquet('{archive}/*/*.parquet', union_by_name = true)"
        if any(archive.glob("*/*.parquet"))
        else ""
    )
    lines = rows(
        built.settings,
        f"""
        select event_id, customer_id, anonymous_id, event_type, occurred_at, user_agent, _source_file
        from (select * from raw_events.events {archived})
        where _sdc_deleted_at is null and parse_error is null and nullif(trim(event_id), '') is not null
        """,
    )
    landed: dict[str, date] = {}
    kept: dict[str, Event] = {}
    for event_id, customer, anonymous, event_type, occurred, agent, source_file in lines:
        event_id = event_id.strip()
        # A late delivery into an earlier day's folder names its own day: `<event day>/arrived-<day>.jsonl`.
        arrival = re.fullmatch(r"(\d{4}-\d{2}-\d{2})/(?:arrived-(\d{4}-\d{2}-\d{2})\.jsonl|.*)", source_file)
        if arrival:
            day = date.fromisoformat(arrival.group(2) or arrival.group(1))
            landed[event_id] = min(landed.get(event_id, date.max), day)
        occurred_at = _occurred_at(occurred)
        is_bot = any(marker in (agent or "").lower() for marker in BOT_MARKERS)
        customer = (customer or "").strip()
        anonymous = (anonymous or "").strip()
        if occurred_at and not is_bot and customer.isdigit() and anonymous:
            kept[event_id] = Event(event_id, int(customer), anonymous, (event_type or "").strip().lower(),
                                   occurred_at, date.max)  # fmt: skip
    return [
        Event(e.event_id, e.customer_id, e.anonymous_id, e.event_type, e.occurred_at, landed[e.event_id])
        for e in kept.values()
        if e.event_id in landed
    ]


def _orders(built: Built) -> list[Order]:
    revenue: dict[int, Decimal] = defaultdict(Decimal)
    items = _latest("order_items", "order_item_id")
    for order_id, quantity, price, discount in rows(
        built.settings, f"select order_id, quantity, unit_price, discount_amount from ({items})"
    ):
        revenue[int(order_id)] += int(quantity) * _money(price) - _money(discount)
    payments = _latest("payments", "payment_id")
    refunded = dict(
        rows(
            built.settings,
            f"select order_id, min(created_at)::date from ({payments}) "
            "where lower(trim(payment_type)) = 'refund' group by 1",
        )
    )
    orders = _latest("orders", "order_id")
    return [
        Order(
            customer_id=int(customer_id),
            placed=ordered_at.date(),
            revenue=revenue[int(order_id)],
            # The app keeps the latest status and when it last changed: for a cancelled order, when it was cancelled.
            cancelled=updated_at.date() if status.strip().lower() == "cancelled" else None,
            refunded=refunded.get(order_id),
        )
        for order_id, customer_id, status, ordered_at, updated_at in rows(
            built.settings,
            f"select order_id, customer_id, order_status, ordered_at, updated_at from ({orders}) "
            "where customer_id is not null",
        )
    ]


@pytest.fixture(scope="module")
def sources(built: Built) -> Sources:
    customers = _latest("customers", "customer_id")
    signups = {
        int(customer_id): created_at.date()
        for customer_id, created_at in rows(built.settings, f"select customer_id, created_at from ({customers})")
    }
    return Sources(signups, _orders(built), _events(built), _business_last_day(built))


# -- the features, recomputed ---------------------------------------------------------------------------------------


def _in_window(day: date, as_of: date, window: int) -> bool:
    return as_of - timedelta(days=window - 1) <= day <= as_of


def _order_features(
    placed: list[Order], as_of: date, *, current_cancellations: bool, current_refunds: bool
) -> tuple[Any, ...]:
    """orders_*, revenue_*, days_since_last_order, refunded, cancelled, return rate, from the orders placed by then."""
    live = [o for o in placed if o.cancelled is None or (o.cancelled > as_of and not current_cancellations)]
    refunded = [o for o in placed if o.refunded and (o.refunded <= as_of or current_refunds)]

    def cents(chosen: Iterable[Order]) -> Decimal:
        return sum((o.revenue for o in chosen), Decimal(0)).quantize(CENT)

    return (
        *(sum(_in_window(o.placed, as_of, w) for o in placed) for w in WINDOWS),
        len(placed),
        *(cents(o for o in live if _in_window(o.placed, as_of, w)) for w in (30, 90)),
        cents(live),
        (as_of - max(o.placed for o in placed)).days if placed else None,
        len(refunded),
        len(placed) - len(live),
        len(refunded) / len(placed) if placed else None,
    )


def _event_features(arrived: list[Event], as_of: date, event_day: Callable[[Event], date]) -> tuple[Any, ...]:
    """sessions_*, product_views_*, cart_adds_7d and the latest cart add and purchase, from the events known then."""

    def count(event_type: str, window: int) -> int:
        return sum(e.event_type == event_type and _in_window(event_day(e), as_of, window) for e in arrived)

    def latest(event_type: str) -> datetime | None:
        return max((e.occurred_at for e in arrived if e.event_type == event_type), default=None)

    session_days = _session_start_days(arrived, event_day)
    return (
        *(sum(_in_window(day, as_of, w) for day in session_days) for w in WINDOWS),
        *(count("product_view", w) for w in WINDOWS),
        count("add_to_cart", 7),
        latest("add_to_cart"),
        latest("purchase"),
    )


def expected_features(
    src: Sources,
    as_of: date,
    *,
    events_by_occurrence: bool = False,
    current_cancellations: bool = False,
    current_refunds: bool = False,
) -> dict[int, tuple[Any, ...]]:
    """Every customer's features as of the end of `as_of`, in FEATURES' order. The keyword arguments give the
    leaky readings the mart must not have: events counted from when they happened, orders in their current status
    (cancelled, refunded) whenever that status came."""

    def event_day(event: Event) -> date:
        return event.occurred_at.date() if events_by_occurrence else event.landed

    status = {"current_cancellations": current_cancellations, "current_refunds": current_refunds}
    orders: dict[int, list[Order]] = defaultdict(list)
    for order in src.orders:
        if order.placed <= as_of:
            orders[order.customer_id].append(order)
    events: dict[int, list[Event]] = defaultdict(list)
    for event in src.events:
        if event_day(event) <= as_of:
            events[event.customer_id].append(event)
    return {
        customer: (
            signup,
            (as_of - signup).days,
            *_order_features(orders[customer], as_of, **status),
            *_event_features(events[customer], as_of, event_day),
        )
        for customer, signup in src.signups.items()
        if signup <= as_of
    }


def _session_start_days(arrived: list[Event], event_day: Callable[[Event], date]) -> list[date]:
    """The customer's sessions from the events that had arrived: per browser, by occurred_at then event id, a new one
    after a gap over the timeout. The day of each session's first event, by the rule in use."""
    browsers: dict[str, list[Event]] = defaultdict(list)
    for event in arrived:
        browsers[event.anonymous_id].append(event)
    starts = []
    for events in browsers.values():
        events.sort(key=lambda e: (e.occurred_at, e.event_id))
        previous = None
        for event in events:
            if previous is None or event.occurred_at - previous.occurred_at > SESSION_GAP:
                starts.append(event_day(event))
            previous = event
    return starts


def mart_features(built: Built, as_of: date) -> dict[int, tuple[Any, ...]]:
    found = rows(built.settings, f"select customer_id, {', '.join(FEATURES)} from {MART} where as_of_date = ?", as_of)
    return {int(customer_id): tuple(values) for customer_id, *values in found}


def assert_same(mart: dict[int, tuple[Any, ...]], expected: dict[int, tuple[Any, ...]], as_of: date) -> None:
    assert sorted(mart) == sorted(expected), f"customers on {as_of}"
    differ = {
        customer: {
            name: (got, want)
            for name, got, want in zip(FEATURES, mart[customer], expected[customer], strict=True)
            if got != want
        }
        for customer in expected
        if mart[customer] != expected[customer]
    }
    assert not differ, f"features as of {as_of} that differ (mart, recomputed): {dict(list(differ.items())[:5])}"


def leaks(src: Sources, as_of: date, **leak: bool) -> set[int]:
    """Customers whose features as of the day a leaky reading changes."""
    honest, leaky = expected_features(src, as_of), expected_features(src, as_of, **leak)
    return {customer for customer in honest if honest[customer] != leaky[customer]}


# -- the tests ------------------------------------------------------------------------------------------------------


def test_rows_run_from_signup_to_the_last_complete_day(built: Built, sources: Sources) -> None:
    """One row per customer and day from sign-up to the day before the business now: none before, none after, none
    missing; and only the customers still in the app (erased ones are gone)."""
    assert rows(built.settings, f"select count(*) from {MART} where as_of_date < signup_date or as_of_date > ?",
                sources.last_day) == [(0,)]  # fmt: skip
    days = dict(rows(built.settings, f"select customer_id, count(distinct as_of_date) from {MART} group by 1"))
    assert days == {c: (sources.last_day - signup).days + 1 for c, signup in sources.signups.items()}
    assert rows(built.settings, f"select max(as_of_date) from {MART}") == [(sources.last_day,)]


def test_features_as_of_a_past_day_use_only_what_had_happened(built: Built, sources: Sources) -> None:
    """About five weeks back, on a day with an order placed but cancelled only later, and one refunded only later:
    the mart's rows equal the features recomputed from the sources cut at that day, and reading either order in its
    current status would give others."""
    latest = sources.last_day - timedelta(days=35)
    pending = [
        day
        for day in (latest - timedelta(days=back) for back in range(90))
        if any(o.cancelled and o.placed <= day < o.cancelled for o in sources.orders)
        and any(o.refunded and o.placed <= day < o.refunded for o in sources.orders)
    ]
    assert pending, "no day with a cancellation and a refund still to come: the data cannot show a status leak"
    as_of = pending[0]
    for leak in ("current_cancellations", "current_refunds"):
        assert leaks(sources, as_of, **{leak: True}), f"{leak} changes no feature as of {as_of}"
    assert_same(mart_features(built, as_of), expected_features(sources, as_of), as_of)


def test_a_late_event_counts_only_from_its_arrival_day(built: Built, sources: Sources) -> None:
    """A customer's event that landed days after it happened: on the day before it arrived the features are those
    of the sources without it (counting it by when it happened would change them), from its arrival day with it.
    Compared for every customer on both days."""
    late = sorted(
        (
            e
            for e in sources.events
            if e.occurred_at.date() < e.landed <= sources.last_day and e.customer_id in sources.signups
        ),
        key=lambda e: (e.landed, e.event_id),
        reverse=True,
    )
    assert late, "no late event of a customer in the data"
    arrival = next(
        (e for e in late if e.customer_id in leaks(sources, e.landed - timedelta(days=1), events_by_occurrence=True)),
        None,
    )
    assert arrival, "no late event changes a customer's features before its arrival: the data cannot show a leak"
    for as_of in (arrival.landed - timedelta(days=1), arrival.landed):
        assert_same(mart_features(built, as_of), expected_features(sources, as_of), as_of)
    before, on = (mart_features(built, arrival.landed + timedelta(days=d))[arrival.customer_id] for d in (-1, 0))
    assert before != on, f"event {arrival.event_id} changed nothing on its arrival day {arrival.landed}"
