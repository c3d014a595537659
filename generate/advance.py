"""Time moves: apply the next business day(s) to generated sources, as the shop and its website would.

Day 1 is 2026-11-01, the day after the generated window. Each day, on the app database (in one transaction):
new customers and orders (with lines and payments), status updates on open orders (`updated_at` moves),
returns with refunds, price changes, soft deletes (customers close their account: `deleted_at`), hard deletes
(erasure requests remove a customer; duplicate checkouts of the day before are purged with their lines and
payments; a delete trigger leaves a tombstone in `deleted_records`), changes of marketing consent (customers who
granted it withdraw, customers who withheld it grant it: `marketing_consent`, its `_updated_at` and `updated_at`
move; the app database is the system of record for consent, the events' `consent_state` is only what the browser
said), and on the schema-change day a new column
(`orders.gift_message`). In the landing zone: that day's events in `events/<day>/arrived-<day>.jsonl`, and late
events of the three days before in `events/<earlier day>/arrived-<day>.jsonl`; from the schema-change day the
browser sends one more field (`consent_state`).

A day's new customers, orders and events continue the level of the four weeks before it, by weekday and retail
calendar: the window grows through its year, so a day at the window's average would be a drop of about a third in
orders, which Elementary's volume test on the orders rightly flags.

Deterministic: day k depends only on the seed, the scale and the sources as days 1..k-1 left them. Consent has its
own random stream per day (`advance-consent-<k>`), so the other changes of a day are what they were without it.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import accumulate
from pathlib import Path
from typing import Any

from .app_db import (
    GIFT_MESSAGES,
    HOUR_MS,
    LINES_PER_ORDER,
    MINUTE_MS,
    PAYMENT_METHODS,
    QUANTITY,
    AppData,
    Customer,
    Product,
    _lifecycle,
    _person,
    _weighted,
    customer_row,
    datetime_to_ms,
    ms_to_datetime,
    signup_consent,
)
from .config import MS_PER_DAY, GenerationConfig
from .events import (
    _BOT,
    _BROWSE,
    _BUY,
    _GUEST,
    _LOGGED_IN,
    _LOGS_IN_AT_CHECKOUT,
    EVENTS_FOLDER,
    RATE_DUPLICATE,
    _Planner,
    _Writer,
)
from .files import write_if_changed
from .seasonality import demand_factor, random_ms_in_day
from .spreadsheet import CHANNEL_SHARE
from .vocabulary import (
    BOT_USER_AGENTS,
    COUNTRIES,
    EMAIL_DOMAINS,
)

# The day on which the upstream teams change their schemas (1 = the first advanced day). Configurable per run.
SCHEMA_CHANGE_DAY = 2
RECENT_DAYS = 28  # the weeks a day's volumes continue
SCHEMA_CHANGE_COLUMN = ("orders", "gift_message")
SCHEMA_CHANGE_EVENT_FIELD = ',"consent_state":"granted"'
ADVANCE_FILE = "_advance.json"
ADVANCE_FILE_PREFIX = "arrived-"

# Daily rates of change on open orders.
P_PLACED_PAID, P_PLACED_CANCELLED = 0.85, 0.10
P_PAID_SHIPPED, P_PAID_CANCELLED = 0.60, 0.01
P_SHIPPED_DELIVERED = 0.45
P_DELIVERED_RETURNED = 0.01  # within 30 days of delivery
RATE_DUPLICATE_CHECKOUT = 0.01  # orders submitted twice (purged the next day); at least one a day
RATE_SOFT_DELETE = 0.0003  # customers closing their account per day; at least one a day
RATE_ERASURE = 0.0001  # erasure requests per day (hard delete); at least one a day
RATE_LATE_SESSIONS = 0.02  # browsing sessions of the last three days that arrive today; at least one a day
RATE_CONSENT_WITHDRAWAL = 0.001  # customers who granted marketing consent and withdraw it; at least one a day
RATE_CONSENT_GRANT = 0.0005  # customers who withheld it and grant it; at least one a day


def first_advanced_day(config: GenerationConfig) -> date:
    return config.end.date() + timedelta(days=1)


def business_now(config: GenerationConfig, days: int) -> datetime:
    """The moment the sources are complete for: midnight after the last generated (or advanced) day."""
    return datetime.combine(first_advanced_day(config) + timedelta(days=days), datetime.min.time(), tzinfo=UTC)


def days_advanced(conninfo: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('public._generation')")
        found = cur.fetchone()
        if found is None or found[0] is None:
            return 0
        cur.execute("select coalesce(max(days_advanced), 0) from public._generation")
        row = cur.fetchone()
        return int(row[0]) if row else 0


def recorded_days_advanced(landing_dir: Path) -> int:
    """How many days the sources in `landing_dir` have moved on, as the last advance recorded it (0 if none):
    read without a database connection."""
    try:
        return int(json.loads((Path(landing_dir) / ADVANCE_FILE).read_text()).get("days_advanced", 0))
    except FileNotFoundError:
        return 0


def remove_advanced_files(landing_dir: Path) -> int:
    """Event files and the record of advanced days (when the base generation is loaded again)."""
    removed = 0
    for path in sorted((Path(landing_dir) / EVENTS_FOLDER).glob(f"*/{ADVANCE_FILE_PREFIX}*.jsonl")):
        path.unlink()
        removed += 1
    (Path(landing_dir) / ADVANCE_FILE).unlink(missing_ok=True)
    return removed


def advance(
    config: GenerationConfig,
    landing_dir: Path,
    conninfo: str,
    days: int,
    *,
    schema_change_day: int = SCHEMA_CHANGE_DAY,
) -> list[dict[str, Any]]:
    """Apply the next `days` business days. Returns what each day did (also recorded in `_advance.json`)."""
    import psycopg

    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    record_path = Path(landing_dir) / ADVANCE_FILE
    record = json.loads(record_path.read_text()) if record_path.exists() else {"days": []}
    done = days_advanced(conninfo)
    results = []
    for k in range(done + 1, done + days + 1):
        with psycopg.connect(conninfo) as conn:
            day = _Day(config, k, schema_change_day)
            counts = day.apply_to_database(conn)
            conn.commit()
        counts.update(day.write_events(Path(landing_dir) / EVENTS_FOLDER))
        entry = {"day": k, "date": day.date.isoformat(), "counts": counts}
        record["days"] = [d for d in record["days"] if d["day"] < k] + [entry]
        results.append(entry)
    record["days_advanced"] = done + days
    record["schema_change_day"] = schema_change_day
    write_if_changed(record_path, (json.dumps(record, indent=2) + "\n").encode())
    return results


class _Day:
    """One business day of changes."""

    def __init__(self, config: GenerationConfig, k: int, schema_change_day: int) -> None:
        self.config, self.k = config, k
        self.schema_change = k >= schema_change_day > 0
        self.date = first_advanced_day(config) + timedelta(days=k - 1)
        self.day_ms = datetime_to_ms(datetime.combine(self.date, datetime.min.time(), tzinfo=UTC))
        self.end_ms = self.day_ms + MS_PER_DAY - 1
        self.rng = random.Random(config.stream_seed(f"advance-day-{k}"))
        self.consent_rng = random.Random(config.stream_seed(f"advance-consent-{k}"))
        self.per_day = 1.0 / config.n_days
        self.new_orders: list[tuple[int, int | None, int, bool, list[int]]] = []  # id, customer, ms, signup, products
        self.customer_channels: dict[int, str] = {}
        self.products: list[Product] = []
        self.new_customers: list[Customer] = []

    # -- the app database ---------------------------------------------------------------------------------
    def at(self, low_ms: int | None = None) -> datetime:
        """A moment of this day (after `low_ms` when given)."""
        low = max(self.day_ms, (low_ms or self.day_ms) + 1000)
        return ms_to_datetime(low + self.rng.randrange(max(1, self.end_ms - low)))

    def apply_to_database(self, conn: Any) -> dict[str, int]:
        cur = conn.cursor()
        counts: dict[str, int] = {}
        if self.schema_change:
            table, column = SCHEMA_CHANGE_COLUMN
            cur.execute(f"alter table public.{table} add column if not exists {column} text")
        cur.execute(
            "select 1 from information_schema.columns where table_schema = 'public' and table_name = %s "
            "and column_name = %s",
            SCHEMA_CHANGE_COLUMN,
        )
        has_gift_column = cur.fetchone() is not None
        cur.execute(
            "select product_id, sku, product_name, category_code, unit_price, is_active, created_at, updated_at, "
            "supplier_id from public.products order by product_id"
        )
        self.products = [Product(*row) for row in cur.fetchall()]
        counts["purged_duplicate_orders"] = self.purge_duplicate_checkouts(cur)
        counts.update(self.progress_open_orders(cur))
        counts["new_customers"] = self.add_customers(cur)
        counts.update(self.add_orders(cur, has_gift_column))
        counts.update(self.delete_customers(cur))
        counts.update(self.change_consents(cur))
        counts["price_changes"] = self.change_prices(cur)
        cur.execute("update public._generation set days_advanced = %s", (self.k,))
        return counts

    def _set_time(self, cur: Any, moment: datetime) -> None:
        cur.execute("select set_config('tidewater.business_time', %s, true)", (moment.isoformat(),))

    def purge_duplicate_checkouts(self, cur: Any) -> int:
        """Yesterday's duplicate submissions (same customer, same lines, 3 s apart) are hard-deleted."""
        cur.execute(
            "select b.order_id from public.orders as a join public.orders as b "
            "on b.customer_id = a.customer_id and b.ordered_at = a.ordered_at + interval '3 seconds' "
            "and b.order_id > a.order_id where b.ordered_at >= %s and b.ordered_at < %s order by b.order_id",
            (ms_to_datetime(self.day_ms - MS_PER_DAY), ms_to_datetime(self.day_ms)),
        )
        ids = [row[0] for row in cur.fetchall()]
        if ids:
            self._set_time(cur, ms_to_datetime(self.day_ms + 2 * HOUR_MS + self.rng.randrange(HOUR_MS)))
            for table in ("payments", "order_items", "orders"):
                cur.execute(f"delete from public.{table} where order_id = any(%s)", (ids,))
        return len(ids)

    def progress_open_orders(self, cur: Any) -> dict[str, int]:
        cur.execute(
            "select o.order_id, o.order_status, o.updated_at, "
            "sum(i.quantity * i.unit_price - i.discount_amount), "
            "array_agg(i.quantity * i.unit_price - i.discount_amount order by i.order_item_id), "
            "min(p.payment_method) "
            "from public.orders as o join public.order_items as i on i.order_id = o.order_id "
            "left join (select order_id, min(payment_method) as payment_method from public.payments "
            "group by order_id) as p on p.order_id = o.order_id "
            "where o.order_status in ('placed', 'paid', 'shipped') "
            "or (o.order_status = 'delivered' and o.updated_at >= %s) "
            "group by o.order_id, o.order_status, o.updated_at order by o.order_id",
            (ms_to_datetime(self.day_ms - 30 * MS_PER_DAY),),
        )
        rng = self.rng
        methods, method_cum = _weighted(PAYMENT_METHODS)
        updates: list[tuple[str, datetime, int]] = []
        payments: list[tuple[int, str, str, Decimal, datetime]] = []
        counts = dict.fromkeys(("status_updates", "refunds"), 0)
        for order_id, status, updated_at, amount, line_amounts, method in cur.fetchall():
            roll = rng.random()
            moment = self.at(datetime_to_ms(updated_at))
            method = method or rng.choices(methods, cum_weights=method_cum)[0]
            new_status = None
            if status == "placed":
                if roll < P_PLACED_PAID:
                    new_status = "paid"
                    payments.append((order_id, "payment", method, amount, moment))
                elif roll < P_PLACED_PAID + P_PLACED_CANCELLED:
                    new_status = "cancelled"
            elif status == "paid":
                if roll < P_PAID_SHIPPED:
                    new_status = "shipped"
                elif roll < P_PAID_SHIPPED + P_PAID_CANCELLED:
                    new_status = "cancelled"
                    payments.append((order_id, "refund", method, amount, moment))
            elif status == "shipped":
                if roll < P_SHIPPED_DELIVERED:
                    new_status = "delivered"
            elif roll < P_DELIVERED_RETURNED:
                new_status = "returned"
                refund = amount if rng.random() < 0.65 or len(line_amounts) < 2 else rng.choice(line_amounts)
                payments.append((order_id, "refund", method, refund, moment))
            if new_status is not None:
                updates.append((new_status, moment, order_id))
        cur.executemany("update public.orders set order_status = %s, updated_at = %s where order_id = %s", updates)
        self._insert_payments(cur, payments)
        counts["status_updates"] = len(updates)
        counts["refunds"] = sum(1 for p in payments if p[1] == "refund")
        counts["payments"] = len(payments) - counts["refunds"]
        return counts

    def _insert_payments(self, cur: Any, payments: list[tuple[int, str, str, Decimal, datetime]]) -> None:
        cur.execute("select coalesce(max(payment_id), 0) from public.payments")
        next_id = cur.fetchone()[0] + 1
        cur.execute("select coalesce(max(record_id), 0) from public.deleted_records where table_name = 'payments'")
        next_id = max(next_id, cur.fetchone()[0] + 1)  # a key is never given twice, even after a purge
        rows = [
            (next_id + i, order_id, kind, method, amount, at, at)
            for i, (order_id, kind, method, amount, at) in enumerate(sorted(payments, key=lambda p: (p[4], p[0])))
        ]
        cur.executemany(
            "insert into public.payments (payment_id, order_id, payment_type, payment_method, amount, created_at, "
            "updated_at) values (%s, %s, %s, %s, %s, %s, %s)",
            rows,
        )

    def _next_id(self, cur: Any, table: str, key: str) -> int:
        cur.execute(f"select coalesce(max({key}), 0) from public.{table}")
        current = cur.fetchone()[0]
        cur.execute("select coalesce(max(record_id), 0) from public.deleted_records where table_name = %s", (table,))
        return max(current, cur.fetchone()[0]) + 1

    def _recent_days(self) -> list[date]:
        return [self.date - timedelta(days=i) for i in range(1, RECENT_DAYS + 1)]

    def _continued(self, recent: int, window_average: float) -> float:
        """What a day like this one brings, from what the last four weeks brought: their count per unit of demand,
        times this day's demand. The window's average day when those weeks brought nothing (tiny scales)."""
        if not recent:
            return window_average
        return recent * demand_factor(self.date) / sum(demand_factor(d) for d in self._recent_days())

    def _expected(self, cur: Any, table: str, window_average: float) -> float:
        """The rows of `table` a day like this one brings."""
        cur.execute(
            f"select count(*) from public.{table} where created_at >= %s and created_at < %s",
            (ms_to_datetime(self.day_ms - RECENT_DAYS * MS_PER_DAY), ms_to_datetime(self.day_ms)),
        )
        return self._continued(cur.fetchone()[0], window_average)

    def add_customers(self, cur: Any) -> int:
        rng, config = self.rng, self.config
        n = max(1, round(self._expected(cur, "customers", config.n_customers * self.per_day) * rng.uniform(0.8, 1.2)))
        first_id = self._next_id(cur, "customers", "customer_id")
        channels = list(CHANNEL_SHARE)
        channel_cum = list(accumulate(CHANNEL_SHARE.values()))
        countries = _weighted(tuple((c, w) for c, (w, _) in COUNTRIES.items()))
        domains = _weighted(EMAIL_DOMAINS)
        rows = []
        for customer_id in range(first_id, first_id + n):
            created = ms_to_datetime(random_ms_in_day(rng, self.day_ms))
            person = _person(rng, countries)
            channel = rng.choices(channels, cum_weights=channel_cum)[0]
            self.customer_channels[customer_id] = channel
            consent = (signup_consent(self.consent_rng), created)
            rows.append(
                customer_row(rng, customer_id, person, domains, person.country, channel, created, created, consent)
            )
        cur.executemany("insert into public.customers values (" + ", ".join(["%s"] * len(Customer._fields)) + ")", rows)
        self.new_customers = rows
        return n

    def add_orders(self, cur: Any, has_gift_column: bool) -> dict[str, int]:
        rng, config = self.rng, self.config
        cur.execute(
            "select customer_id, acquisition_channel from public.customers "
            "where deleted_at is null and created_at < %s order by customer_id",
            (ms_to_datetime(self.day_ms),),
        )
        existing = cur.fetchall()
        self.customer_channels.update(dict(existing))
        sellable = [p for p in self.products if p.is_active and datetime_to_ms(p.created_at) < self.day_ms]
        line_counts, line_cum = _weighted(LINES_PER_ORDER)
        quantities, quantity_cum = _weighted(QUANTITY)
        methods, method_cum = _weighted(PAYMENT_METHODS)
        n = max(2, round(self._expected(cur, "orders", config.n_orders * self.per_day) * rng.uniform(0.85, 1.15)))
        plans = []
        for i in range(n):
            t0 = random_ms_in_day(rng, self.day_ms)
            signup = False
            roll = rng.random()
            joined = [c for c in self.new_customers if datetime_to_ms(c.created_at) < t0 - MINUTE_MS]
            if roll < 0.005 and i > 0:
                customer_id = None
            elif roll < 0.35 and joined:
                customer_id, signup = rng.choice(joined).customer_id, True
            else:
                customer_id = existing[rng.randrange(len(existing))][0]
            chosen = rng.sample(sellable, min(len(sellable), rng.choices(line_counts, cum_weights=line_cum)[0]))
            lines = []
            for p in chosen:
                quantity = rng.choices(quantities, cum_weights=quantity_cum)[0]
                cents = int(p.unit_price * 100)
                gross = quantity * cents
                discount = (gross * rng.choice((5, 10, 15, 20, 25)) + 50) // 100 if rng.random() < 0.15 else 0
                lines.append((p.product_id, quantity, p.unit_price, Decimal(discount).scaleb(-2)))
            # ~5% of orders carry a gift message once the column exists (the first of each day does, so it shows)
            gift = rng.choice(GIFT_MESSAGES) if has_gift_column and (i == 0 or rng.random() < 0.05) else None
            plans.append((t0, customer_id, signup, lines, gift))
        plans.sort(key=lambda plan: (plan[0], plan[1] or 0))
        # Some checkouts are submitted twice: the same order again 3 s later, never paid; purged tomorrow.
        known = [i for i, plan in enumerate(plans) if plan[1] is not None]
        duplicated = {i for i in known if rng.random() < RATE_DUPLICATE_CHECKOUT} or {known[0]}
        order_id = self._next_id(cur, "orders", "order_id")
        item_id = self._next_id(cur, "order_items", "order_item_id")
        orders, items, payments = [], [], []
        for i, (t0, customer_id, signup, lines, gift) in enumerate(plans):
            copies = [(t0, False), (t0 + 3000, True)] if i in duplicated else [(t0, False)]
            for ms, is_duplicate in copies:
                at = ms_to_datetime(ms)
                amount = sum((q * price - discount for _, q, price, discount in lines), Decimal("0.00"))
                if is_duplicate:
                    status, updated = "placed", at
                else:
                    steps, movements = _lifecycle(rng, ms, self.end_ms)
                    updated_ms, status = [s for s in steps if s[0] <= self.end_ms][-1]
                    updated = ms_to_datetime(updated_ms)
                    method = rng.choices(methods, cum_weights=method_cum)[0]
                    for move_ms, kind in movements:
                        if move_ms <= self.end_ms:
                            payments.append((order_id, kind, method, amount, ms_to_datetime(move_ms)))
                row: tuple[Any, ...] = (order_id, customer_id, status, "USD", at, at, updated)
                orders.append((*row, gift) if has_gift_column else row)
                for product_id, quantity, price, discount in lines:
                    items.append((item_id, order_id, product_id, quantity, price, discount, at, at))
                    item_id += 1
                if not is_duplicate:  # a double submit on the server: the browser sent one purchase event
                    self.new_orders.append((order_id, customer_id, ms, signup, [p for p, *_ in lines]))
                order_id += 1
        columns = "order_id, customer_id, order_status, currency, ordered_at, created_at, updated_at"
        if has_gift_column:
            columns += ", gift_message"
        cur.executemany(f"insert into public.orders ({columns}) values ({', '.join(['%s'] * len(orders[0]))})", orders)
        cur.executemany("insert into public.order_items values (%s, %s, %s, %s, %s, %s, %s, %s)", items)
        self._insert_payments(cur, payments)
        return {
            "new_orders": len(orders),
            "duplicate_checkouts": len(duplicated),
            "new_order_items": len(items),
            "new_payments": len(payments),
        }

    def delete_customers(self, cur: Any) -> dict[str, int]:
        """Soft deletes (account closed: deleted_at) and erasure requests (the row is deleted)."""
        rng, config = self.rng, self.config
        cur.execute(
            "select customer_id, deleted_at is not null from public.customers where created_at < %s "
            "order by customer_id",
            (ms_to_datetime(self.day_ms),),
        )
        rows = cur.fetchall()
        active = [cid for cid, deleted in rows if not deleted]
        closed = [cid for cid, deleted in rows if deleted]
        n_soft = min(len(active), max(1, round(config.n_customers * RATE_SOFT_DELETE)))
        soft = sorted(rng.sample(active, n_soft))
        updates = []
        for cid in soft:
            moment = self.at()
            updates.append((moment, moment, cid))
        cur.executemany("update public.customers set deleted_at = %s, updated_at = %s where customer_id = %s", updates)
        n_erase = max(1, round(config.n_customers * RATE_ERASURE))
        pool = closed if closed else [cid for cid in active if cid not in soft]
        erased = sorted(rng.sample(pool, min(n_erase, len(pool))))
        for cid in erased:
            self._set_time(cur, self.at())
            cur.execute("delete from public.customers where customer_id = %s", (cid,))
        return {"soft_deleted_customers": len(soft), "erased_customers": len(erased)}

    def change_consents(self, cur: Any) -> dict[str, int]:
        """Customers with an open account who signed up before today change their mind on marketing: some who
        granted consent withdraw it, some who withheld it grant it (never those who withdrew: they were asked)."""
        rng, config = self.consent_rng, self.config
        cur.execute(
            "select customer_id, marketing_consent from public.customers where created_at < %s "
            "and deleted_at is null order by customer_id",
            (ms_to_datetime(self.day_ms),),
        )
        rows = cur.fetchall()
        counts: dict[str, int] = {}
        for before, after, rate, name in (
            ("granted", "withdrawn", RATE_CONSENT_WITHDRAWAL, "consent_withdrawals"),
            ("withheld", "granted", RATE_CONSENT_GRANT, "consent_grants"),
        ):
            pool = [cid for cid, consent in rows if consent == before]
            chosen = sorted(rng.sample(pool, min(len(pool), max(1, round(config.n_customers * rate)))))
            updates = []
            for cid in chosen:
                moment = ms_to_datetime(self.day_ms + rng.randrange(MS_PER_DAY))
                updates.append((after, moment, moment, cid))
            cur.executemany(
                "update public.customers set marketing_consent = %s, marketing_consent_updated_at = %s, "
                "updated_at = %s where customer_id = %s",
                updates,
            )
            counts[name] = len(chosen)
        return counts

    def change_prices(self, cur: Any) -> int:
        rng = self.rng
        active = [p for p in self.products if p.is_active]
        product = active[rng.randrange(len(active))]
        cents = int(product.unit_price * 100)
        new_cents = max(500, round(cents * rng.choice((0.9, 1.1)) / 100) * 100 - 1)
        moment = self.at()
        cur.execute(
            "update public.products set unit_price = %s, updated_at = %s where product_id = %s",
            (Decimal(new_cents).scaleb(-2), moment, product.product_id),
        )
        self.products = [
            p._replace(unit_price=Decimal(new_cents).scaleb(-2)) if p.product_id == product.product_id else p
            for p in self.products
        ]
        return 1

    # -- the landing zone ---------------------------------------------------------------------------------
    def write_events(self, events_dir: Path) -> dict[str, int]:
        config = self.config
        planner = _Planner(config)
        planner.rng = random.Random(config.stream_seed(f"advance-sessions-{self.k}"))
        rng = planner.rng
        for order_id, cid, ms, signup, products in self.new_orders:
            if cid is None:
                device, login = planner.new_device(), _GUEST
                channel = rng.choices(planner.browsing, cum_weights=planner.browsing_cum)[0]
            else:
                device = planner.device_of(cid, first=signup)
                login = _LOGS_IN_AT_CHECKOUT if signup or rng.random() < 0.4 else _LOGGED_IN
                if signup:
                    channel = self.customer_channels.get(cid, "direct")
                else:
                    channel = rng.choices(planner.returning, cum_weights=planner.returning_cum)[0]
            views = tuple(products[:2])
            extra = 0 if rng.random() < 0.6 else 1
            planner.add(ms, _BUY, 4 + len(views) + extra, (order_id, cid, views, extra, channel, device, login))
        # The lines of the last four weeks' sessions (each day's folder), less the copies the writer adds to them.
        lines = sum(
            _line_count(path) for d in self._recent_days() for path in (events_dir / d.isoformat()).glob("*.jsonl")
        )
        target = self._continued(round(lines / (1 + RATE_DUPLICATE)), config.n_events * self.per_day)
        browse = 0
        while planner.planned_events < target or browse == 0:
            if rng.random() < 0.05:
                anchor = self.day_ms + rng.randrange(MS_PER_DAY - 300_000)
                planner.add(anchor, _BOT, rng.randint(5, 20), (planner.new_device()[0], rng.choice(BOT_USER_AGENTS)))
                continue
            browse += 1
            anchor = random_ms_in_day(rng, self.day_ms)
            channel = rng.choices(planner.browsing, cum_weights=planner.browsing_cum)[0]
            n = 1 if rng.random() < 0.4 else rng.randint(2, 8)
            planner.add(anchor, _BROWSE, n, (planner.new_device(), None, channel))
        # Late arrivals: sessions of the three days before, in their own day's folder.
        for _ in range(max(1, round(browse * RATE_LATE_SESSIONS))):
            anchor = random_ms_in_day(rng, self.day_ms - rng.randint(1, 3) * MS_PER_DAY)
            channel = rng.choices(planner.browsing, cum_weights=planner.browsing_cum)[0]
            planner.add(anchor, _BROWSE, rng.randint(2, 6), (planner.new_device(), None, channel))
        writer = _DayWriter(config, self, events_dir)
        return writer.write(sorted(planner.sessions))


class _DayWriter(_Writer):
    """The event writer of one advanced day: lines go to `<session day>/arrived-<day>.jsonl`."""

    def __init__(self, config: GenerationConfig, day: _Day, events_dir: Path) -> None:
        data = AppData(config, (), tuple(day.products), (), (), ())
        super().__init__(data, config, events_dir)
        self.rng = random.Random(config.stream_seed(f"advance-event-lines-{day.k}"))
        self.day = day
        first_date = config.start.date()
        self.day_names = [(first_date + timedelta(days=i)).isoformat() for i in range(config.n_days + day.k + 8)]
        self.prefixes = [name + "T" for name in self.day_names]
        self.end_ms = day.end_ms
        self.seq = day.k << 40  # event ids of their own, apart from the window's and the bot spike's
        self.malformed_at = [self.seq + 7]  # one write cut in the middle a day
        if day.schema_change:
            self.human_extra += SCHEMA_CHANGE_EVENT_FIELD
        self.session_day = 0

    def bucket(self, day: int) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        return super().bucket(self.session_day)  # a session's lines, copies and late ones, stay together

    def write(self, sessions: list[tuple[Any, ...]]) -> dict[str, int]:
        for anchor, _, kind, n, payload in sessions:
            self.session_day = (anchor - self.first_day_ms) // MS_PER_DAY
            self.counts["sessions"] += 1
            if kind == _BUY:
                self.counts["buying_sessions"] += 1
                self.buy(anchor, payload)
            elif kind == _BROWSE:
                self.browse(anchor, n, payload)
            else:
                self.counts["bot_sessions"] += 1
                self.bot(anchor, n, payload)
        name = f"{ADVANCE_FILE_PREFIX}{self.day.date.isoformat()}.jsonl"
        written = 0
        for day in sorted(self.buckets):
            on_time, appended = self.buckets[day]
            lines = [line for _, _, line in sorted(on_time)] + [line for _, _, line in sorted(appended)]
            path = self.events_dir / self.day_names[day] / name
            written += write_if_changed(path, ("\n".join(lines) + "\n").encode("utf-8"))
            self.counts["lines"] += len(lines)
            self.counts["files"] += 1
        late = sum(1 for day in self.buckets if self.day_names[day] < self.day.date.isoformat())
        return {
            "event_lines": self.counts["lines"],
            "event_files": self.counts["files"],
            "late_event_files": late,
            "purchase_events": self.counts["purchase_events"],
            "malformed_lines": self.counts["malformed_lines"],
        }


def _line_count(path: Path) -> int:
    with path.open("rb") as lines:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: lines.read(1 << 20), b""))
