"""The application database of Saltbox Home: customers, suppliers, products, orders, order lines and payments.

`build_app_data` makes the rows in memory (deterministic for a config); `load_app_database` writes them into
PostgreSQL (schema `public`) in one transaction with COPY.
"""

from __future__ import annotations

import hashlib
import random
import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, NamedTuple

from .config import MS_PER_DAY, GenerationConfig
from .draws import Weighted, below, choice, randint
from .postgres import grant_reader_tables
from .seasonality import day_start_ms, demand_factors, hour_acceptance, random_ms_in_day, traffic_weights
from .spreadsheet import plan_marketing
from .vocabulary import (
    CATEGORY_ITEMS,
    COUNTRIES,
    COUNTRY_DIAL_CODES,
    EMAIL_DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    PRODUCT_COLOURS,
    PRODUCT_STYLES,
    STREETS_CONTINENTAL,
    STREETS_EN,
    SUPPLIER_BRANDS,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_MS = 3_600_000
MINUTE_MS = 60_000

ORDER_STATUSES = ("placed", "paid", "shipped", "delivered", "cancelled", "returned")
PAYMENT_METHODS = (("card", 72), ("paypal", 22), ("gift_card", 6))
LINES_PER_ORDER = ((1, 30), (2, 26), (3, 20), (4, 12), (5, 7), (6, 5))  # mean 2.55
QUANTITY = ((1, 80), (2, 14), (3, 4), (4, 2))
# Repeat buying: rate FRESH / (1 + s / TAU)**2 + 1 at time s after a customer's first order.
REPEAT_FRESH = 8.0
REPEAT_TAU_MS = 30 * 86_400_000
# Anomaly `new_column`: the share of orders with a gift message, and the messages.
GIFT_MESSAGE_RATE = 0.05
GIFT_MESSAGES = (
    "Happy birthday!", "Congratulations on the new home!", "Happy housewarming", "Merry Christmas, love from us",
    "Enjoy your new kitchen", "With love", "Thank you for everything", "Happy anniversary",
)  # fmt: skip
# Marketing consent (the app is its system of record): asked at sign-up, changed later in the account settings.
# 'withdrawn': granted once, then taken back.
MARKETING_CONSENTS = ("granted", "withheld", "withdrawn")
CONSENT_GRANTED_AT_SIGNUP = 0.65
# Before the generated window ends: the share of those who granted and later withdrew, of those who withheld and
# later granted.
CONSENT_WITHDRAWN_LATER = 0.10
CONSENT_GRANTED_LATER = 0.05


def ms_to_datetime(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)


def cents_to_decimal(cents: int) -> Decimal:
    """Integer cents as a Decimal with exactly two places (1250 -> Decimal('12.50'))."""
    return Decimal(cents).scaleb(-2)


# -- rows ---------------------------------------------------------------------------------------------------
class Customer(NamedTuple):
    customer_id: int
    email: str
    first_name: str
    last_name: str
    phone: str | None
    address_line: str
    city: str
    postal_code: str
    country_code: str
    acquisition_channel: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None  # a soft delete: the customer closed their account
    # Added last, as the app's migration appended them: 'granted', 'withheld' or 'withdrawn', and when it was set.
    marketing_consent: str
    marketing_consent_updated_at: datetime


class Supplier(NamedTuple):
    """A brand whose products the shop sells (a company, not a person)."""

    supplier_id: int
    supplier_name: str
    created_at: datetime
    updated_at: datetime


class Product(NamedTuple):
    product_id: int
    sku: str
    product_name: str
    category_code: str
    unit_price: Decimal
    is_active: bool
    created_at: datetime
    updated_at: datetime
    supplier_id: int  # last: the column the app added to its catalogue when it started selling other brands


class Order(NamedTuple):
    order_id: int
    customer_id: int | None
    order_status: str
    currency: str
    ordered_at: datetime
    created_at: datetime
    updated_at: datetime


class OrderItem(NamedTuple):
    order_item_id: int
    order_id: int
    product_id: int
    quantity: int
    unit_price: Decimal
    discount_amount: Decimal
    created_at: datetime
    updated_at: datetime


class Payment(NamedTuple):
    payment_id: int
    order_id: int
    payment_type: str
    payment_method: str
    amount: Decimal
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AppData:
    """All rows of the application database, ordered by primary key."""

    config: GenerationConfig
    customers: tuple[Customer, ...]
    products: tuple[Product, ...]
    orders: tuple[Order, ...]
    order_items: tuple[OrderItem, ...]
    payments: tuple[Payment, ...]
    # The order each customer placed in the session in which they signed up (their acquisition session).
    signup_order_ids: frozenset[int] = field(default_factory=frozenset)
    # Anomaly `half_orders_day`: the rows that never happened (not in the tables above). The web events
    # planner still sees them, so that everything else stays identical; their sessions are not written.
    lost_orders: tuple[Order, ...] = ()
    lost_order_items: tuple[OrderItem, ...] = ()
    lost_payments: tuple[Payment, ...] = ()
    # Anomaly `new_column`: the `gift_message` of each order (aligned with `orders`); None: no such column.
    gift_messages: tuple[str | None, ...] | None = None
    suppliers: tuple[Supplier, ...] = ()

    def tables(self) -> dict[str, tuple[tuple[Any, ...], ...]]:
        """The rows of each table of the database, in column order (see `table_ddl`)."""
        orders: tuple[tuple[Any, ...], ...] = self.orders
        if self.gift_messages is not None:
            orders = tuple((*o, m) for o, m in zip(self.orders, self.gift_messages, strict=True))
        return {
            "customers": self.customers,
            "suppliers": self.suppliers,  # before products: their foreign key is checked as the rows are copied
            "products": self.products,
            "orders": orders,
            "order_items": self.order_items,
            "payments": self.payments,
            "deleted_records": (),
        }

    def source_totals(self) -> dict[str, int | str]:
        """The numbers the marts must reproduce (money as strings with 2 decimals)."""
        status = {o.order_id: o.order_status for o in self.orders}
        revenue = sum((i.quantity * i.unit_price - i.discount_amount for i in self.order_items), Decimal("0.00"))
        revenue_kept = sum(
            (
                i.quantity * i.unit_price - i.discount_amount
                for i in self.order_items
                if status[i.order_id] != "cancelled"
            ),
            Decimal("0.00"),
        )
        paid = sum((p.amount for p in self.payments if p.payment_type == "payment"), Decimal("0.00"))
        refunds = sum((p.amount for p in self.payments if p.payment_type == "refund"), Decimal("0.00"))
        counts: dict[str, int] = dict.fromkeys(ORDER_STATUSES, 0)
        for o in self.orders:
            counts[o.order_status] += 1
        return {
            "customers": len(self.customers),
            "suppliers": len(self.suppliers),
            "products": len(self.products),
            "orders": len(self.orders),
            "orders_without_customer": sum(1 for o in self.orders if o.customer_id is None),
            "order_items": len(self.order_items),
            "revenue": f"{revenue:.2f}",
            "revenue_non_cancelled": f"{revenue_kept:.2f}",
            "payments_total": f"{paid:.2f}",
            "refunds_total": f"{refunds:.2f}",
            "net_payments": f"{paid - refunds:.2f}",
            **{f"orders_{name}": n for name, n in counts.items()},
        }


# -- building -----------------------------------------------------------------------------------------------
def _weighted(pairs: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[float]]:
    return [value for value, _ in pairs], list(accumulate(float(w) for _, w in pairs))


def _pattern(rng: random.Random, pattern: str) -> str:
    letters = "ABCDEFGHJKLMNPRSTVWXY"
    return "".join(str(rng.randrange(10)) if ch == "9" else rng.choice(letters) if ch == "A" else ch for ch in pattern)


def _postal_code(rng: random.Random, country: str, prefix: str) -> str:
    if country == "US":
        return prefix + _pattern(rng, "99")
    if country == "CA":
        return prefix + _pattern(rng, "9A 9A9")
    if country == "GB":
        return prefix + _pattern(rng, "9 9AA")
    if country in ("DE", "FR"):
        return prefix + _pattern(rng, "999")
    if country == "NL":
        return prefix + _pattern(rng, "99 AA")
    if country == "AU":
        return prefix + _pattern(rng, "999")
    return prefix + _pattern(rng, "9 A9A9")  # IE Eircode


def _phone(rng: random.Random, country: str) -> str | None:
    if rng.random() < 0.30:
        return None
    if country in ("US", "CA"):
        area, mid, last = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        style = rng.randrange(4)
        if style == 0:
            return f"+1 {area}-{mid}-{last:04d}"
        if style == 1:
            return f"({area}) {mid}-{last:04d}"
        if style == 2:
            return f"{area}.{mid}.{last:04d}"
        return f"{area}{mid}{last:04d}"
    digits = "".join(str(rng.randrange(10)) for _ in range(9))
    if rng.random() < 0.5:
        return f"+{COUNTRY_DIAL_CODES[country]} {digits[:2]} {digits[2:5]} {digits[5:]}"
    return f"0{digits[:2]} {digits[2:]}"


def _email(rng: random.Random, first: str, last: str, customer_id: int, domains: tuple[list[str], list[float]]) -> str:
    f = "".join(ch for ch in first.lower() if ch.isalpha())
    la = "".join(ch for ch in last.lower() if ch.isalpha())
    domain = rng.choices(domains[0], cum_weights=domains[1])[0]
    style = rng.randrange(3)
    local = (
        f"{f}.{la}{customer_id}" if style == 0 else f"{f[0]}{la}{customer_id}" if style == 1 else f"{f}_{customer_id}"
    )
    email = f"{local}@{domain}"
    if rng.random() < 0.03:  # mess: mixed case or surrounding spaces
        mess = rng.randrange(3)
        if mess == 0:
            email = email.upper()
        elif mess == 1:
            email = f"{local[0].upper()}{local[1:]}@{domain.capitalize()}"
        else:
            email = f" {email} " if rng.random() < 0.5 else f"{email} "
    return email


def _build_customers(config: GenerationConfig, rng: random.Random) -> list[Customer]:
    plan = plan_marketing(config)
    cells = [(day, channel) for day, channel, _ in plan.acquisition_weights]
    cum = list(accumulate(w for _, _, w in plan.acquisition_weights))
    draws = rng.choices(cells, cum_weights=cum, k=config.n_customers)
    start_ms = config.start_ms
    stamped = sorted(
        (max(start_ms, random_ms_in_day(rng, day_start_ms(config, day))), channel) for day, channel in draws
    )
    countries, country_cum = _weighted(tuple((c, w) for c, (w, _) in COUNTRIES.items()))
    domains = _weighted(EMAIL_DOMAINS)
    # Consent has its own stream: adding it left every other draw (and so every other row) as it was.
    consent_rng = random.Random(config.stream_seed("marketing-consent"))
    customers = []
    end_ms = config.end_ms
    for customer_id, (created_ms, channel) in enumerate(stamped, start=1):
        created_ms = min(created_ms, end_ms - HOUR_MS)
        person = _person(rng, (countries, country_cum))
        country_text = person.country.lower() if rng.random() < 0.02 else person.country  # mess: lowercase
        updated_ms = created_ms
        if rng.random() < 0.25:  # profile edits later on
            updated_ms = created_ms + rng.randrange(end_ms - created_ms)
        consent, consent_ms = consent_history(consent_rng, created_ms, end_ms)
        customers.append(
            customer_row(
                rng,
                customer_id,
                person,
                domains,
                country_text,
                channel,
                ms_to_datetime(created_ms),
                ms_to_datetime(max(updated_ms, consent_ms)),  # a change of consent is a change of the row
                (consent, ms_to_datetime(consent_ms)),
            )
        )
    return customers


def signup_consent(rng: random.Random) -> str:
    """The answer to the sign-up form's marketing question (one draw)."""
    return MARKETING_CONSENTS[0] if rng.random() < CONSENT_GRANTED_AT_SIGNUP else MARKETING_CONSENTS[1]


def consent_history(rng: random.Random, created_ms: int, until_ms: int) -> tuple[str, int]:
    """A customer's marketing consent at `until_ms` and when it was last set: their sign-up answer and, for some, a
    change of mind later. Always three draws, so the stream stays aligned customer by customer."""
    consent = signup_consent(rng)
    changes, when = rng.random(), rng.random()
    changed_ms = created_ms + 1000 + int(when * max(0, until_ms - created_ms - 1000))
    if consent == "granted" and changes < CONSENT_WITHDRAWN_LATER:
        return "withdrawn", changed_ms
    if consent == "withheld" and changes < CONSENT_GRANTED_LATER:
        return "granted", changed_ms
    return consent, created_ms


class Person(NamedTuple):
    first_name: str
    last_name: str
    country: str
    city: str
    postal_prefix: str
    address_line: str


def _person(rng: random.Random, countries: tuple[list[str], list[float]]) -> Person:
    """A customer's name and address (draws in a fixed order: the generation stays byte-identical)."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country = rng.choices(countries[0], cum_weights=countries[1])[0]
    city, prefix = rng.choice(COUNTRIES[country][1])
    if country in ("DE", "NL", "FR"):
        address = f"{rng.choice(STREETS_CONTINENTAL)} {rng.randint(1, 180)}"
    else:
        address = f"{rng.randint(1, 9999)} {rng.choice(STREETS_EN)}"
    return Person(first, last, country, city, prefix, address)


def customer_row(
    rng: random.Random,
    customer_id: int,
    person: Person,
    domains: tuple[list[str], list[float]],
    country_code: str,
    channel: str,
    created_at: datetime,
    updated_at: datetime,
    consent: tuple[str, datetime],
) -> Customer:
    """A customers row for a person: email, phone and postal code drawn in that order (from `rng`; the marketing
    consent and when it was set are given)."""
    return Customer(
        customer_id=customer_id,
        email=_email(rng, person.first_name, person.last_name, customer_id, domains),
        first_name=person.first_name,
        last_name=person.last_name,
        phone=_phone(rng, person.country),
        address_line=person.address_line,
        city=person.city,
        postal_code=_postal_code(rng, person.country, person.postal_prefix),
        country_code=country_code,
        acquisition_channel=channel,
        created_at=created_at,
        updated_at=updated_at,
        deleted_at=None,
        marketing_consent=consent[0],
        marketing_consent_updated_at=consent[1],
    )


@dataclass(eq=False)  # one state per product: compared by identity (`p not in chosen`), not field by field
class _ProductState:
    product: Product
    created_ms: int
    gone_ms: int  # discontinued at (no sale at or after); far future when active
    change_ms: int  # price change at; far future when none
    old_price_cents: int
    price_cents: int

    def price_at(self, ms: int) -> int:
        return self.price_cents if ms >= self.change_ms else self.old_price_cents


def _build_suppliers(config: GenerationConfig, rng: random.Random) -> tuple[list[Supplier], list[int]]:
    """The suppliers, and the supplier of each product (index product_id - 1), from their own random stream: adding
    them left every other generated value as it was.

    Each supplier gets one of the catalogue's products first (so every brand has something to sell), the rest go by
    uneven weights, as a few brands make most of a shop's range.
    """
    n = config.n_suppliers
    names = rng.sample(SUPPLIER_BRANDS, n)
    onboarded = datetime_to_ms(datetime(2022, 6, 1, tzinfo=UTC))
    suppliers = []
    for supplier_id, name in enumerate(names, start=1):
        created = ms_to_datetime(onboarded + rng.randrange(180 * MS_PER_DAY))  # all before the catalogue's start
        suppliers.append(Supplier(supplier_id, name, created, created))
    order = list(range(config.n_products))
    rng.shuffle(order)
    weights = list(accumulate(rng.uniform(0.5, 3.0) for _ in range(n)))
    supplier_of = [0] * config.n_products
    for position, index in enumerate(order):
        if position < n:
            supplier_of[index] = position + 1
        else:
            supplier_of[index] = bisect_right(weights, rng.random() * weights[-1]) + 1
    return suppliers, supplier_of


def _build_products(config: GenerationConfig, rng: random.Random, supplier_of: list[int]) -> list[_ProductState]:
    catalogue_start = datetime_to_ms(datetime(2023, 1, 1, tzinfo=UTC))
    window_start, end_ms = config.start_ms, config.end_ms
    far = end_ms + 365 * MS_PER_DAY
    categories = list(CATEGORY_ITEMS)
    used_names: set[str] = set()
    states = []
    for product_id in range(1, config.n_products + 1):
        category = categories[(product_id - 1) % len(categories)]
        item, low, high = rng.choice(CATEGORY_ITEMS[category])
        name = f"{rng.choice(PRODUCT_STYLES)} {item}"
        if name in used_names:
            name = f"{name}, {rng.choice(PRODUCT_COLOURS)}"
        if name in used_names:
            name = f"{name} No. {product_id}"
        used_names.add(name)
        dollars = rng.randint(low, high)
        price = dollars * 100 - 1 if rng.random() < 0.7 else dollars * 100
        if rng.random() < 0.12:  # launched during the window
            created_ms = window_start + rng.randrange(300 * MS_PER_DAY)
        else:
            created_ms = catalogue_start + rng.randrange(window_start - 17 * MS_PER_DAY - catalogue_start)
        gone_ms, change_ms, old_price, updated_ms = far, far, price, created_ms
        roll = rng.random()
        if roll < 0.05 and created_ms < window_start:  # discontinued during the window
            gone_ms = updated_ms = window_start + rng.randrange(end_ms - window_start)
        elif roll < 0.17:  # price change during the window
            change_ms = updated_ms = max(created_ms, window_start) + rng.randrange(60 * MS_PER_DAY, 330 * MS_PER_DAY)
            if change_ms >= end_ms:
                change_ms, updated_ms = far, created_ms
            else:
                factor = rng.choice((0.85, 0.9, 1.05, 1.1, 1.15))
                price = max(500, round(price * factor / 100) * 100 - 1)
        sku = f"SBX-{category[:3].upper()}-{product_id:05d}"
        product = Product(
            product_id=product_id,
            sku=sku,
            product_name=name,
            category_code=category,
            unit_price=cents_to_decimal(price),
            is_active=gone_ms == far,
            created_at=ms_to_datetime(created_ms),
            updated_at=ms_to_datetime(updated_ms),
            supplier_id=supplier_of[product_id - 1],
        )
        states.append(_ProductState(product, created_ms, gone_ms, change_ms, old_price, price))
    return states


def _order_times(
    config: GenerationConfig, customers: list[Customer], rng: random.Random
) -> list[tuple[int, int | None, bool]]:
    """(ordered_ms, customer_id | None, is_signup_order) for every order, unsorted."""
    end_ms = config.end_ms
    demand = demand_factors(config)
    max_demand = max(demand)
    start_day_ms = day_start_ms(config, 0)
    orders: list[tuple[int, int | None, bool]] = []
    first_ms: dict[int, int] = {}
    bits = rng.getrandbits
    for c in customers:
        created = datetime_to_ms(c.created_at)
        roll = rng.random()
        if roll < 0.70:  # buys in the session in which they sign up
            t, signup = created + randint(bits, MINUTE_MS, 25 * MINUTE_MS), True
        elif roll < 0.88:  # comes back to buy later
            t, signup = created + randint(bits, HOUR_MS, 60 * MS_PER_DAY), False
        else:
            continue  # registered, never bought
        if t < end_ms:
            orders.append((t, c.customer_id, signup))
            first_ms[c.customer_id] = t

    n_guest = config.n_guest_orders
    n_repeat = config.n_orders - len(orders) - n_guest
    if n_repeat < 0:  # only at absurdly small windows: drop late first orders
        orders = sorted(orders)[: config.n_orders - n_guest]
        n_repeat = 0

    weights = traffic_weights(config)
    guest_days = rng.choices(range(len(weights)), weights=weights, k=n_guest)
    for day in guest_days:
        t = min(end_ms, max(config.start_ms + 10 * MINUTE_MS, random_ms_in_day(rng, day_start_ms(config, day))))
        orders.append((t, None, False))

    # Repeat orders. A customer buys at a rate of FRESH/(1 + s/TAU)**2 + 1 (s: time since their first order):
    # keen in the first weeks, then steady. Their share also grows with their appetite and the time left.
    ids = [cid for cid, t in first_ms.items() if end_ms - t > 2 * HOUR_MS]
    fresh_parts, steady_parts, cum, total = [], [], [], 0.0
    for cid in ids:
        room = end_ms - first_ms[cid] - HOUR_MS
        fresh, steady = REPEAT_FRESH * REPEAT_TAU_MS * room / (room + REPEAT_TAU_MS), float(room)
        fresh_parts.append(fresh)
        steady_parts.append(steady)
        total += (1.0 / (0.08 + rng.random())) * (fresh + steady)
        cum.append(total)
    index_of = {cid: i for i, cid in enumerate(ids)}
    random_ = rng.random
    for cid in rng.choices(ids, cum_weights=cum, k=n_repeat) if ids else []:
        i = index_of[cid]
        low = first_ms[cid] + HOUR_MS
        room = end_ms - low
        fresh = random_() * (fresh_parts[i] + steady_parts[i]) < fresh_parts[i]
        while True:
            u = random_()
            if fresh:  # inverse CDF of the 1/(1 + s/TAU)**2 kernel on [0, room)
                v = u * room / (room + REPEAT_TAU_MS)
                t = low + min(room - 1, int(REPEAT_TAU_MS * v / (1.0 - v)))
            else:
                t = low + int(u * room)
            day = (t - start_day_ms) // MS_PER_DAY
            if random_() * max_demand < demand[day] * hour_acceptance(t):
                break
        orders.append((t, cid, False))
    return orders


def _lifecycle(rng: random.Random, t0: int, end_ms: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """Planned status changes [(ms, status)] and money movements [(ms, payment_type)] of one order."""
    bits = rng.getrandbits
    pay_delay = (
        randint(bits, 2_000, 5 * MINUTE_MS) if rng.random() < 0.97 else randint(bits, 30 * MINUTE_MS, 36 * HOUR_MS)
    )
    paid = t0 + pay_delay
    roll = rng.random()
    if roll < 0.04:
        if rng.random() < 0.35:  # the payment never went through: cancelled without a capture
            cancelled = t0 + randint(bits, 30 * MINUTE_MS, 48 * HOUR_MS)
            return [(t0, "placed"), (cancelled, "cancelled")], []
        cancelled = paid + randint(bits, 10 * MINUTE_MS, 48 * HOUR_MS)
        return [(t0, "placed"), (paid, "paid"), (cancelled, "cancelled")], [
            (paid, "payment"),
            (cancelled, "refund"),
        ]
    shipped = paid + randint(bits, 4 * HOUR_MS, 72 * HOUR_MS)
    delivered = shipped + randint(bits, 24 * HOUR_MS, 7 * 24 * HOUR_MS)
    steps = [(t0, "placed"), (paid, "paid"), (shipped, "shipped"), (delivered, "delivered")]
    money = [(paid, "payment")]
    if rng.random() < 0.07:
        returned = delivered + randint(bits, 2 * 24 * HOUR_MS, 30 * 24 * HOUR_MS)
        steps.append((returned, "returned"))
        refunded = returned + randint(bits, MINUTE_MS, 30 * MINUTE_MS)
        money.append((min(refunded, max(returned, end_ms)), "refund"))  # a returned order has its refund
    return steps, money


def build_app_data(config: GenerationConfig) -> AppData:
    """All application rows for a config, in memory. Deterministic: same config, equal result."""
    customers = _build_customers(config, random.Random(config.stream_seed("customers")))
    suppliers, supplier_of = _build_suppliers(config, random.Random(config.stream_seed("suppliers")))
    products = _build_products(config, random.Random(config.stream_seed("products")), supplier_of)
    raw_orders = _order_times(config, customers, random.Random(config.stream_seed("orders")))
    raw_orders.sort(key=lambda o: (o[0], o[1] or 0))

    rng = random.Random(config.stream_seed("order-lines"))
    popularity = list(range(1, len(products) + 1))
    rng.shuffle(popularity)
    product_cum = list(accumulate(1.0 / (rank + 2) for rank in popularity))  # Zipf-like, no pow(): portable
    total_pop = product_cum[-1]
    fallback = [p for p in products if p.created_ms < config.start_ms and p.gone_ms > config.end_ms]
    line_counts = Weighted(*_weighted(LINES_PER_ORDER))
    quantities = Weighted(*_weighted(QUANTITY))
    methods = Weighted(*_weighted(PAYMENT_METHODS))
    life_rng = random.Random(config.stream_seed("order-lifecycle"))
    end_ms = config.end_ms
    random_, bits = rng.random, rng.getrandbits
    life_random, life_bits = life_rng.random, life_rng.getrandbits
    # Unit prices and discounts take few values: one Decimal each (the same value and exponent as computed anew).
    decimals: dict[int, Decimal] = {}

    orders: list[Order] = []
    items: list[OrderItem] = []
    money: list[tuple[int, int, int, str, str, int]] = []  # (ms, order_id, type rank, type, method, cents)
    signup_ids = []
    for order_id, (t0, customer_id, signup) in enumerate(raw_orders, start=1):
        if signup:
            signup_ids.append(order_id)
        ordered_at = ms_to_datetime(t0)
        n_lines = line_counts.pick(random_)
        chosen: list[_ProductState] = []
        for _ in range(n_lines * 8):
            p = products[bisect_right(product_cum, random_() * total_pop)]
            if p.created_ms <= t0 < p.gone_ms and p not in chosen:  # sellable, and not chosen yet
                chosen.append(p)
                if len(chosen) == n_lines:
                    break
        if not chosen:
            chosen.append(choice(bits, fallback))
        order_cents = 0
        line_cents = []
        for p in chosen:
            quantity = quantities.pick(random_)
            price = p.price_at(t0)
            gross = quantity * price
            discount = (gross * choice(bits, (5, 10, 15, 20, 25)) + 50) // 100 if random_() < 0.15 else 0
            line_cents.append(gross - discount)
            order_cents += gross - discount
            unit_price = decimals.get(price)
            if unit_price is None:
                unit_price = decimals[price] = cents_to_decimal(price)
            discount_amount = decimals.get(discount)
            if discount_amount is None:
                discount_amount = decimals[discount] = cents_to_decimal(discount)
            items.append(
                OrderItem(
                    order_item_id=len(items) + 1,
                    order_id=order_id,
                    product_id=p.product.product_id,
                    quantity=quantity,
                    unit_price=unit_price,
                    discount_amount=discount_amount,
                    created_at=ordered_at,
                    updated_at=ordered_at,
                )
            )
        steps, movements = _lifecycle(life_rng, t0, end_ms)
        method = methods.pick(life_random)
        partial = life_random() < 0.35
        for ms, kind in movements:
            if ms > end_ms:
                continue
            cents = order_cents
            if kind == "refund" and partial and steps[-1][1] == "returned":
                if len(line_cents) > 1:
                    cents = line_cents[below(life_bits, len(line_cents))]
                else:
                    cents = max(1, order_cents * choice(life_bits, (20, 25, 30, 50)) // 100)
            money.append((ms, order_id, 0 if kind == "payment" else 1, kind, method, cents))
        current = [s for s in steps if s[0] <= end_ms][-1]
        orders.append(
            Order(
                order_id=order_id,
                customer_id=customer_id,
                order_status=current[1],
                currency="USD",
                ordered_at=ordered_at,
                created_at=ordered_at,
                updated_at=ms_to_datetime(current[0]),
            )
        )

    money.sort()
    payments = []
    for payment_id, (ms, order_id, _, kind, method, cents) in enumerate(money, start=1):
        at = ms_to_datetime(ms)
        payments.append(Payment(payment_id, order_id, kind, method, cents_to_decimal(cents), at, at))

    data = AppData(
        config=config,
        customers=tuple(customers),
        products=tuple(s.product for s in products),
        orders=tuple(orders),
        order_items=tuple(items),
        payments=tuple(payments),
        signup_order_ids=frozenset(signup_ids),
        suppliers=tuple(suppliers),
    )
    if "half_orders_day" in config.anomalies:
        data = _without_half_of_the_last_day(data)
    if "new_column" in config.anomalies:
        data = replace(data, gift_messages=_gift_messages(config, data.orders))
    return data


# -- anomalies ----------------------------------------------------------------------------------------------
def _without_half_of_the_last_day(data: AppData) -> AppData:
    """Anomaly `half_orders_day`: every second order placed on the last day (in order_id order) never happened.

    Its lines and payments go too. The other rows keep their keys and values (the keys of the lost rows are
    gaps, as after a lost batch of writes).
    """
    last_day = ms_to_datetime(data.config.last_day_start_ms)
    that_day = [o.order_id for o in data.orders if o.ordered_at >= last_day]
    lost = frozenset(that_day[1::2])
    return replace(
        data,
        orders=tuple(o for o in data.orders if o.order_id not in lost),
        order_items=tuple(i for i in data.order_items if i.order_id not in lost),
        payments=tuple(p for p in data.payments if p.order_id not in lost),
        lost_orders=tuple(o for o in data.orders if o.order_id in lost),
        lost_order_items=tuple(i for i in data.order_items if i.order_id in lost),
        lost_payments=tuple(p for p in data.payments if p.order_id in lost),
    )


def _gift_messages(config: GenerationConfig, orders: tuple[Order, ...]) -> tuple[str | None, ...]:
    """Anomaly `new_column`: a short gift message on ~5% of orders (its own random stream), else null."""
    rng = random.Random(config.stream_seed("gift-messages"))
    return tuple(rng.choice(GIFT_MESSAGES) if rng.random() < GIFT_MESSAGE_RATE else None for _ in orders)


# -- loading into PostgreSQL --------------------------------------------------------------------------------
TABLE_DDL = {
    "customers": """
        customer_id integer primary key,
        email text not null,
        first_name text,
        last_name text,
        phone text,
        address_line text,
        city text,
        postal_code text,
        country_code text,
        acquisition_channel text,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        deleted_at timestamptz,
        marketing_consent text not null check (marketing_consent in ('granted', 'withheld', 'withdrawn')),
        marketing_consent_updated_at timestamptz not null""",
    "suppliers": """
        supplier_id integer primary key,
        supplier_name text not null unique,
        created_at timestamptz not null,
        updated_at timestamptz not null""",
    "products": """
        product_id integer primary key,
        sku text not null,
        product_name text,
        category_code text,
        unit_price numeric(10,2),
        is_active boolean,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        supplier_id integer not null references public.suppliers (supplier_id)""",
    "orders": """
        order_id integer primary key,
        customer_id integer,
        order_status text not null,
        currency text not null,
        ordered_at timestamptz not null,
        created_at timestamptz not null,
        updated_at timestamptz not null""",
    "order_items": """
        order_item_id integer primary key,
        order_id integer not null,
        product_id integer not null,
        quantity integer not null,
        unit_price numeric(10,2) not null,
        discount_amount numeric(10,2) not null,
        created_at timestamptz not null,
        updated_at timestamptz not null""",
    "payments": """
        payment_id integer primary key,
        order_id integer not null,
        payment_type text not null,
        payment_method text not null,
        amount numeric(12,2) not null,
        created_at timestamptz not null,
        updated_at timestamptz not null""",
    "deleted_records": """
        table_name text not null,
        record_id integer not null,
        deleted_at timestamptz not null,
        primary key (table_name, record_id)""",
    "_generation": """
        seed bigint not null,
        scale numeric not null,
        fingerprint text not null,
        generated_at timestamptz not null,
        days_advanced integer not null default 0""",
}
# Hard deletes leave a tombstone in deleted_records (an audit trigger, as apps do for CDC without logical
# replication): which row of which table, and when. `tidewater.business_time` (set by the day's changes) is the
# time of the deletion in the generated world; without it, now().
TOMBSTONE_TRIGGER = """
create or replace function public.record_hard_delete() returns trigger language plpgsql as $$
begin
    insert into public.deleted_records (table_name, record_id, deleted_at)
    values (
        tg_table_name,
        (to_jsonb(old) ->> tg_argv[0])::integer,
        coalesce(nullif(current_setting('tidewater.business_time', true), '')::timestamptz, now())
    )
    on conflict (table_name, record_id) do update set deleted_at = excluded.deleted_at;
    return old;
end;
$$"""
TOMBSTONED_TABLES = {
    "customers": "customer_id",
    "suppliers": "supplier_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
}
# Anomaly `new_column`: the column the upstream team added (appended to the table's columns).
ANOMALY_COLUMNS = {"new_column": ("orders", "gift_message text")}
TABLE_COMMENTS = {
    "customers": (
        "Saltbox Home customers (generated by tidewater.generate); marketing_consent (granted, withheld, withdrawn): "
        "the system of record for marketing consent, marketing_consent_updated_at: when it was last set"
    ),
    "suppliers": "Brands whose products Saltbox Home sells (generated by tidewater.generate)",
    "products": "Saltbox Home product catalogue; supplier_id: the brand selling it (generated by tidewater.generate)",
    "orders": "Orders; customer_id is null for a few orders (no FK on purpose)",
    "order_items": "Order lines; line amount = quantity * unit_price - discount_amount",
    "payments": "Captures (payment) and refunds (refund); amount always positive",
    "deleted_records": "Tombstones of hard-deleted rows (filled by a delete trigger on each table)",
    "_generation": "Which generation (seed, scale, fingerprint of the base rows, days advanced) the tables hold",
}


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is datetime:
        return value.isoformat(sep=" ", timespec="milliseconds")
    if kind is bool:
        return "t" if value else "f"
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
        return value
    return str(value)


_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _copy_column(values: tuple[Any, ...], stamps: dict[datetime, str]) -> Iterable[str]:
    """`_copy_value` of each value of a column, a whole column at a time when all its values are of one type.

    `stamps` holds the text of the UTC datetimes met so far: most recur (an order's time is also its lines'
    `created_at` and `updated_at`), and formatting one costs more than looking it up.
    """
    kinds = set(map(type, values))
    if kinds <= {int, Decimal}:  # exact types (a bool is not an int here)
        return map(str, values)
    if kinds == {str} and not _COPY_SPECIAL.search("".join(values)):
        return values
    if kinds == {datetime} and all(value.tzinfo is UTC for value in values):
        for value in set(values).difference(stamps):
            stamps[value] = _copy_value(value)
        return map(stamps.__getitem__, values)
    return map(_copy_value, values)


def copy_payloads(data: AppData) -> dict[str, str]:
    """COPY text-format payload per table (also the basis of the fingerprint): `_copy_value` of each value,
    tab between values, newline after each row; converted a column at a time (see `_copy_column`)."""
    stamps: dict[datetime, str] = {}
    payloads = {}
    for table, rows in data.tables().items():
        if not rows:
            payloads[table] = ""
            continue
        columns = [_copy_column(column, stamps) for column in zip(*rows, strict=True)]
        payloads[table] = "\n".join(map("\t".join, zip(*columns, strict=True))) + "\n"
    return payloads


def table_ddl(anomaly: str | None = None) -> dict[str, str]:
    """Column definitions per table for a generation (TABLE_DDL, plus the columns its anomalies add)."""
    ddl = dict(TABLE_DDL)
    for name in anomaly.split("+") if anomaly else ():
        if name in ANOMALY_COLUMNS:
            table, column = ANOMALY_COLUMNS[name]
            ddl[table] = f"{ddl[table]},\n        {column}"
    return ddl


def fingerprint(payloads: dict[str, str], anomaly: str | None = None) -> str:
    """SHA-256 of the rows, and of the anomaly if any (without one the digest is that of the rows alone)."""
    digest = hashlib.sha256()
    if anomaly is not None:
        digest.update(f"anomaly:{anomaly}\n".encode())
    for table, payload in payloads.items():
        digest.update(table.encode())
        digest.update(payload.encode())
    return digest.hexdigest()


def _columns(ddl: str) -> list[str]:
    return [line.split()[0] for line in ddl.strip().splitlines() if not line.strip().startswith("primary key")]


def _ensure_schema(cur: Any, tables: dict[str, str]) -> None:
    for table, ddl in tables.items():
        cur.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'public' and table_name = %s order by ordinal_position",
            (table,),
        )
        existing = [r[0] for r in cur.fetchall()]
        if existing and existing != _columns(ddl):
            cur.execute(f"drop table public.{table}")  # an older layout: the generator owns these tables
            existing = []
        if not existing:
            cur.execute(f"create table public.{table} ({ddl})")
            cur.execute(f"comment on table public.{table} is '{TABLE_COMMENTS[table]}'")
    cur.execute(TOMBSTONE_TRIGGER)
    for table, key in TOMBSTONED_TABLES.items():
        cur.execute(
            f"create or replace trigger {table}_hard_delete after delete on public.{table} "
            f"for each row execute function public.record_hard_delete('{key}')"
        )
    # A table dropped and created again lost its grants: the extractor's read-only role gets them back (and none on
    # the bookkeeping table, which the owner's default privileges would otherwise give it).
    grant_reader_tables(cur)


def app_database_is_current(conninfo: str, data: AppData) -> bool:
    """True when the database already holds exactly this generation (same seed, scale, rows, row counts)."""
    config = data.config
    stored = stored_generation(conninfo)
    if stored is None or stored[:2] != (config.seed, Decimal(repr(config.scale))):
        return False  # no generation of this seed and scale: not worth fingerprinting the rows (seconds at scale 1)
    counts = {table: len(rows) for table, rows in data.tables().items()}
    return database_holds(conninfo, config, fingerprint(copy_payloads(data), config.anomaly), counts)


def stored_generation(conninfo: str) -> tuple[int, Decimal, str, int] | None:
    """The database's record of its generation: seed, scale, fingerprint, days advanced (None without one)."""
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('public._generation')")
        row = cur.fetchone()
        if row is None or row[0] is None:
            return None
        cur.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'public' and table_name = '_generation' and column_name = 'days_advanced'"
        )
        if cur.fetchone() is None:
            return None
        cur.execute("select seed, scale, fingerprint, days_advanced from public._generation")
        stored = cur.fetchall()
    return stored[0] if len(stored) == 1 else None


def database_holds(conninfo: str, config: GenerationConfig, expected: str, counts: dict[str, int]) -> bool:
    """True when the database holds the generation of `config` with fingerprint `expected` and these row counts
    (the counts are not checked once days were advanced on it: its rows changed on purpose)."""
    import psycopg

    stored = stored_generation(conninfo)
    if stored is None or stored[:3] != (config.seed, Decimal(repr(config.scale)), expected):
        return False
    if stored[3] > 0:
        return True  # this generation, moved on by `advance`
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        for table, expected_count in counts.items():
            cur.execute("select to_regclass(%s)", (f"public.{table}",))
            found = cur.fetchone()
            if found is None or found[0] is None:
                return False
            cur.execute(f"select count(*) from public.{table}")
            count = cur.fetchone()
            if count is None or count[0] != expected_count:
                return False
    return True


def load_app_database(conninfo: str, data: AppData) -> dict[str, int]:
    """Create the `public` tables if missing, TRUNCATE them and COPY the rows, in one transaction.

    Records the generation (seed, scale, fingerprint) in `public._generation`. Returns rows per table.
    A table whose columns differ from this generation's (e.g. `orders` with or without the `new_column`
    anomaly's column) is dropped and created again.
    """
    import psycopg

    payloads = copy_payloads(data)
    counts = {table: len(rows) for table, rows in data.tables().items()}
    tables = table_ddl(data.config.anomaly)
    with psycopg.connect(conninfo) as conn:
        with conn.cursor() as cur:
            _ensure_schema(cur, tables)
            cur.execute("truncate " + ", ".join(f"public.{t}" for t in tables))
            for table, payload in payloads.items():
                columns = ", ".join(_columns(tables[table]))
                with cur.copy(f"copy public.{table} ({columns}) from stdin") as copy:
                    for start in range(0, len(payload), 1 << 22):
                        copy.write(payload[start : start + (1 << 22)])
            cur.execute(
                "insert into public._generation (seed, scale, fingerprint, generated_at) values (%s, %s, %s, %s)",
                (
                    data.config.seed,
                    Decimal(repr(data.config.scale)),
                    fingerprint(payloads, data.config.anomaly),
                    data.config.end,
                ),
            )
            cur.execute("analyze " + ", ".join(f"public.{t}" for t in counts))
        conn.commit()
    return counts
