"""Web events of the Saltbox Home site as JSON lines in the landing zone, one folder per arrival day.

Every order has a converting session (page_view -> product_view(s) -> add_to_cart -> checkout -> purchase
at the order's ordered_at); browsing sessions and bots fill the rest. Mess on purpose: duplicate lines, late
arrivals, other timestamp formats, truncated lines (see the source contract).
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from datetime import timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from .app_db import AppData, datetime_to_ms
from .config import MS_PER_DAY, GenerationConfig
from .draws import Weighted, below, choice, randint
from .files import write_if_changed
from .seasonality import day_start_ms, random_ms_in_day, traffic_weights
from .spreadsheet import PAID_CHANNELS
from .vocabulary import BOT_USER_AGENTS, BROWSER_USER_AGENTS, CATEGORY_ITEMS

EVENT_KEYS = (
    "event_id", "event_type", "occurred_at", "anonymous_id", "customer_id", "page_url", "referrer",
    "utm_source", "user_agent", "product_id", "order_id",
)  # fmt: skip
EVENTS_FOLDER = "events"
EVENTS_FILE = "events.jsonl"

RATE_DUPLICATE = 0.02
RATE_LATE = 0.01
RATE_OTHER_TIMESTAMP = 0.005
RATE_BOT_SESSIONS = 0.05
# Anomaly `bot_spike`: bot events on the last day of the window, as a multiple of the daily average.
BOT_SPIKE_FACTOR = 10
# Schema drift: from this day the web front end sends one more key (lands in raw extra_fields). None: off.
APP_VERSION_FROM = "2026-10-01"
APP_VERSION_EXTRA = ',"app_version":"web-2.14.0"'

SITE = "https://www.saltboxhome.com"
# Channel mix of browsing sessions, and of returning customers' buying sessions.
BROWSING_CHANNELS = (
    ("organic", 30), ("direct", 24), ("paid_search", 12), ("paid_social", 8), ("email", 10), ("referral", 6),
    ("display", 4), ("affiliate", 6),
)  # fmt: skip
RETURNING_CHANNELS = (
    ("organic", 22), ("direct", 34), ("email", 20), ("paid_search", 8), ("paid_social", 6), ("referral", 4),
    ("display", 2), ("affiliate", 4),
)  # fmt: skip
REFERRERS: dict[str, tuple[tuple[str | None, int], ...]] = {
    "organic": (
        ("https://www.google.com/", 70), ("https://www.bing.com/", 18), ("https://duckduckgo.com/", 12),
    ),
    "direct": ((None, 1),),
    "referral": (
        ("https://www.pinterest.com/", 40), ("https://www.reddit.com/", 30),
        ("https://www.apartmenttherapy.com/", 30),
    ),
    "paid_search": (("https://www.google.com/", 85), ("https://www.bing.com/", 15)),
    "paid_social": (
        ("https://www.facebook.com/", 45), ("https://www.instagram.com/", 40),
        ("https://www.pinterest.com/", 15),
    ),
    "display": (("https://googleads.g.doubleclick.net/", 70), ("https://www.theguardian.com/", 30)),
    "email": ((None, 1),),
    "affiliate": (("https://www.thespruce.com/", 50), ("https://www.nytimes.com/wirecutter/", 50)),
}  # fmt: skip
CATEGORIES = tuple(CATEGORY_ITEMS)
_SAFE = re.compile(r"[^\"\\\x00-\x1f\x7f-\uffff]*")


def _json_str(value: str | None) -> str:
    """JSON of a constant; the f-string line builder relies on constants needing no escaping."""
    if value is None:
        return "null"
    if not _SAFE.fullmatch(value):
        raise ValueError(f"constant needs JSON escaping: {value!r}")
    return f'"{value}"'


for _text in [u for u, _ in BROWSER_USER_AGENTS] + list(BOT_USER_AGENTS):
    _json_str(_text)


def _cum(pairs: tuple[tuple[Any, int], ...]) -> tuple[list[Any], list[int]]:
    return [v for v, _ in pairs], list(accumulate(w for _, w in pairs))


# Event sequence numbers of the `bot_spike` anomaly's events start here (far above any run's count): their
# event ids never collide with the others.
SPIKE_SEQ_START = 1 << 48


# "HH:MM:SS" of every second of a day, and "mmm" of every millisecond of a second: a timestamp is two lookups.
_CLOCK = tuple(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))
_MILLIS = tuple(f"{ms:03d}" for ms in range(1000))


# Session kinds (_SPIKE_BOT: a bot session of the `bot_spike` anomaly, written from its own random stream)
_BUY, _BROWSE, _BOT, _SPIKE_BOT = 0, 1, 2, 3
# Login modes of a buying session
_LOGGED_IN, _LOGS_IN_AT_CHECKOUT, _GUEST = 0, 1, 2


class _Planner:
    """Decides the sessions (who, when, how many events) before any line is written."""

    def __init__(self, config: GenerationConfig) -> None:
        self.config = config
        self.rng = random.Random(config.stream_seed("event-sessions"))
        self.anon_ids: set[str] = set()
        self.devices: dict[int, list[tuple[str, str]]] = {}
        self.visitors: list[tuple[str, str]] = []
        self.browsers, self.browser_cum = _cum(BROWSER_USER_AGENTS)
        self.browsing, self.browsing_cum = _cum(BROWSING_CHANNELS)
        self.returning, self.returning_cum = _cum(RETURNING_CHANNELS)
        self.browser_draw = Weighted(self.browsers, self.browser_cum)
        self.browsing_draw = Weighted(self.browsing, self.browsing_cum)
        self.returning_draw = Weighted(self.returning, self.returning_cum)
        self.sessions: list[tuple[Any, ...]] = []
        self.planned_events = 0

    def new_device(self) -> tuple[str, str]:
        rng = self.rng
        while True:
            anon = f"anon_{rng.getrandbits(48):012x}"
            if anon not in self.anon_ids:
                self.anon_ids.add(anon)
                break
        return anon, self.browser_draw.pick(rng.random)

    def device_of(self, customer_id: int, first: bool = False) -> tuple[str, str]:
        devices = self.devices.get(customer_id)
        if devices is None:
            devices = self.devices[customer_id] = [self.new_device()]
            roll = self.rng.random()
            for _ in range(2 if roll < 0.10 else 1 if roll < 0.45 else 0):
                devices.append(self.new_device())
        if first or len(devices) == 1 or self.rng.random() < 0.6:
            return devices[0]
        return devices[1 + below(self.rng.getrandbits, len(devices) - 1)]  # randrange(1, len(devices))

    def add(self, anchor_ms: int, kind: int, n_events: int, payload: tuple[Any, ...]) -> None:
        self.sessions.append((anchor_ms, len(self.sessions), kind, n_events, payload))
        self.planned_events += n_events

    def plan(self, data: AppData) -> list[tuple[Any, ...]]:
        config, rng = self.config, self.rng
        random_, bits = rng.random, rng.getrandbits
        # Orders an anomaly removed are planned all the same (so every other session stays identical);
        # the writer leaves their sessions out.
        all_orders = data.orders
        if data.lost_orders:
            all_orders = tuple(sorted(data.orders + data.lost_orders, key=lambda o: o.order_id))
        products_of: dict[int, list[int]] = {}
        for item in data.order_items + data.lost_order_items:
            products_of.setdefault(item.order_id, []).append(item.product_id)
        channel_of = {c.customer_id: c.acquisition_channel for c in data.customers}
        for order in all_orders:
            cid = order.customer_id
            signup = order.order_id in data.signup_order_ids
            if cid is None:
                device, login = self.new_device(), _GUEST
                channel = self.browsing_draw.pick(random_)
            else:
                device = self.device_of(cid, first=signup)
                login = _LOGS_IN_AT_CHECKOUT if signup or random_() < 0.4 else _LOGGED_IN
                channel = channel_of[cid] if signup else self.returning_draw.pick(random_)
            views = products_of[order.order_id][:2]
            extra = 0 if random_() < 0.6 else 1 if random_() < 0.75 else 2
            payload = (order.order_id, cid, tuple(views), extra, channel, device, login)
            self.add(datetime_to_ms(order.ordered_at), _BUY, 4 + len(views) + extra, payload)

        # Customers who signed up without buying in that session had an acquisition visit too.
        start_ms = config.start_ms
        signed_up_buying = {o.customer_id for o in all_orders if o.order_id in data.signup_order_ids}
        for c in data.customers:
            if c.customer_id not in signed_up_buying:
                created = datetime_to_ms(c.created_at)
                anchor = max(start_ms, created - randint(bits, 60_000, 600_000))
                n = randint(bits, 1, 4)
                device = self.device_of(c.customer_id, first=True)
                self.add(anchor, _BROWSE, n, (device, None, c.acquisition_channel))

        # Browsing sessions and bots up to the target number of events; ~5% of all sessions are bots.
        weights = traffic_weights(config)
        day_cum = list(accumulate(weights))
        first_day_ms = day_start_ms(config, 0)
        created_sorted = [datetime_to_ms(c.created_at) for c in data.customers]
        bots = 0
        browse_sessions = 0
        while self.planned_events < config.n_events or bots == 0:
            # Every day has some traffic, even at a tiny scale.
            day = browse_sessions if browse_sessions < len(weights) else bisect_right(day_cum, random_() * day_cum[-1])
            day_ms = first_day_ms + min(day, len(weights) - 1) * MS_PER_DAY  # day_start_ms
            if bots < RATE_BOT_SESSIONS * (len(self.sessions) + 1):
                bots += 1
                anchor = max(start_ms, day_ms + below(bits, MS_PER_DAY))
                anon = self.new_device()[0]
                self.add(anchor, _BOT, randint(bits, 5, 20), (anon, choice(bits, BOT_USER_AGENTS)))
                continue
            browse_sessions += 1
            anchor = max(start_ms, random_ms_in_day(rng, day_ms))
            n = 1 if random_() < 0.4 else min(12, 2 + self._geometric(0.4))
            channel = self.browsing_draw.pick(random_)
            known = bisect_right(created_sorted, anchor)
            customer_id = None
            if known and random_() < 0.45:  # a known customer browsing, logged in or not
                cid = data.customers[below(bits, known)].customer_id
                device = self.device_of(cid)
                customer_id = cid if random_() < 0.55 else None
            elif self.visitors and random_() < 0.35:  # a returning anonymous visitor
                device = self.visitors[below(bits, len(self.visitors))]
            else:
                device = self.new_device()
                self.visitors.append(device)
            self.add(anchor, _BROWSE, n, (device, customer_id, channel))
        if "bot_spike" in config.anomalies:
            self._plan_bot_spike()
        self.sessions.sort()
        return self.sessions

    def _plan_bot_spike(self) -> None:
        """Anomaly `bot_spike`: more bot sessions on the last day, up to BOT_SPIKE_FACTOR x the daily average
        of bot events. Drawn from their own random stream, after everything else is planned."""
        config = self.config
        rng = random.Random(config.stream_seed("bot-spike"))
        day_ms = config.last_day_start_ms
        bot_events = [(anchor, n) for anchor, _, kind, n, _ in self.sessions if kind == _BOT]
        target = BOT_SPIKE_FACTOR * sum(n for _, n in bot_events) / config.n_days
        planned = sum(n for anchor, n in bot_events if anchor >= day_ms)
        while planned < target:
            while True:
                anon = f"anon_{rng.getrandbits(48):012x}"
                if anon not in self.anon_ids:
                    self.anon_ids.add(anon)
                    break
            # Start early enough that the whole session (at most ~160 s) falls within the window.
            anchor = day_ms + rng.randrange(MS_PER_DAY - 300_000)
            n = rng.randint(5, 20)
            self.add(anchor, _SPIKE_BOT, n, (anon, rng.choice(BOT_USER_AGENTS)))
            planned += n

    def _geometric(self, p: float) -> int:
        n = 0
        while self.rng.random() > p:
            n += 1
        return n


class _Writer:
    """Turns sessions into lines, spreads them over arrival-day files, adds the mess, writes the files."""

    def __init__(self, data: AppData, config: GenerationConfig, events_dir: Path) -> None:
        self.config = config
        self.events_dir = events_dir
        self.rng = random.Random(config.stream_seed("event-lines"))
        self.salt = random.Random(config.stream_seed("event-ids")).getrandbits(64)
        self.first_day_ms = day_start_ms(config, 0)
        self.end_ms = config.end_ms
        first_date = config.start.date()
        self.day_names = [(first_date + timedelta(days=i)).isoformat() for i in range(config.n_days + 8)]
        self.prefixes = [name + "T" for name in self.day_names]
        self.drift_day = (
            self.day_names.index(APP_VERSION_FROM) if APP_VERSION_FROM in self.day_names else len(self.day_names)
        )
        # What people's browsers add to each line from the drift day on (a subclass may add more).
        self.human_extra = APP_VERSION_EXTRA
        self.buckets: dict[int, tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]] = {}
        self.written_files: set[Path] = set()
        self.seq = 0
        self.flushed_before = 0
        self.anon, self.agent, self.human = "", "", True
        # Anomaly `half_orders_day`: the orders that never happened; their sessions are played (the random
        # streams advance as without the anomaly) but not written.
        self.lost_order_ids = frozenset(o.order_id for o in data.lost_orders)
        self.dropping = False
        # Anomaly `bot_spike`: the extra bot sessions draw from their own stream and id range.
        self.spike_rng = random.Random(config.stream_seed("bot-spike-lines"))
        self.spike_seq = SPIKE_SEQ_START
        n_malformed = config.n_malformed_lines
        span = max(n_malformed + 1, int(config.n_events * 0.9))
        self.malformed_at = sorted(
            random.Random(config.stream_seed("event-malformed")).sample(range(span), n_malformed)
        )
        self.counts = dict.fromkeys(
            (
                "files", "files_written", "files_unchanged", "stale_files_removed", "lines",
                "malformed_lines", "duplicate_lines", "late_lines", "other_timestamp_format_lines",
                "lines_with_extra_fields",
                "sessions", "buying_sessions", "bot_sessions", "bot_events", "purchase_events",
                "valid_distinct_events",
            ),
            0,
        )  # fmt: skip
        products = sorted(data.products, key=lambda p: p.product_id)
        self.product_ids = [p.product_id for p in products]
        self.product_created = {p.product_id: datetime_to_ms(p.created_at) for p in products}
        popularity = list(range(1, len(products) + 1))
        random.Random(config.stream_seed("event-products")).shuffle(popularity)
        self.product_cum = list(accumulate(1.0 / (rank + 4) for rank in popularity))
        self.product_total = self.product_cum[-1]
        self.referrers = {ch: Weighted([_json_str(r) for r, _ in pairs], list(accumulate(w for _, w in pairs)))
                          for ch, pairs in REFERRERS.items()}  # fmt: skip

    # -- helpers ------------------------------------------------------------------------------------------
    def other_timestamp_json(self, ms: int, day: int, second: int) -> str:
        """`occurred_at` in one of the other formats (space instead of T, no milliseconds; or epoch ms), as JSON."""
        self.counts["other_timestamp_format_lines"] += 1
        if self.rng.random() < 0.5:
            return f'"{self.day_names[day]} {_CLOCK[second]}"'
        return str(ms)

    def product_at(self, ms: int) -> int:
        random, product_ids, product_cum = self.rng.random, self.product_ids, self.product_cum
        for _ in range(6):
            pid = product_ids[bisect_right(product_cum, random() * self.product_total)]
            if self.product_created[pid] <= ms:
                return pid
        return product_ids[0]

    def landing(self, channel: str, ms: int) -> tuple[str, str, str]:
        """(page_url, referrer JSON, utm_source JSON) of a session's first page view."""
        rng = self.rng
        referrer = self.referrers[channel].pick(rng.random)
        utm = f'"{channel}"' if channel in PAID_CHANNELS else "null"
        roll = rng.random()
        if channel == "direct" or roll < 0.3:
            url = "/"
        elif roll < 0.65:
            url = f"/category/{choice(rng.getrandbits, CATEGORIES)}"
        else:
            url = f"/products/{self.product_at(ms)}"
        return url, referrer, utm

    # -- one event ----------------------------------------------------------------------------------------
    def session(self, anon: str, agent: str, human: bool) -> None:
        """Who the next events come from."""
        self.anon, self.agent, self.human = anon, agent, human

    def emit(
        self, ms: int, event_type: str, customer: str, url: str, referrer: str = "null", utm: str = "null",
        product: str = "null", order: str = "null",
    ) -> None:  # fmt: skip
        """One event: its JSON line (values already JSON-encoded), its arrival day, and the mess.

        Runs once per line (a million times at scale 1), so it keeps to local names and precomputed text.
        The event id is splitmix64 of salt + sequence number (a bijection of 64-bit integers: unique,
        random-looking ids from a counter). `occurred_at` is ISO 8601 with milliseconds, or now and then
        (`other_timestamp_json`) another format.
        """
        rng, counts, human = self.rng, self.counts, self.human
        random = rng.random
        seq = self.seq
        self.seq = seq + 1
        day, rest = divmod(ms - self.first_day_ms, MS_PER_DAY)
        extra = self.human_extra if human and day >= self.drift_day else ""
        x = (self.salt + seq + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
        x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
        second, milli = divmod(rest, 1000)
        if random() >= RATE_OTHER_TIMESTAMP:
            occurred = f'"{self.prefixes[day]}{_CLOCK[second]}.{_MILLIS[milli]}Z"'
        else:
            occurred = self.other_timestamp_json(ms, day, second)
        line = (
            f'{{"event_id":"evt_{x ^ (x >> 31):016x}","event_type":"{event_type}","occurred_at":{occurred},'
            f'"anonymous_id":"{self.anon}","customer_id":{customer},"page_url":"{url}","referrer":{referrer},'
            f'"utm_source":{utm},"user_agent":"{self.agent}","product_id":{product},"order_id":{order}{extra}}}'
        )
        arrival, late = day, random() < RATE_LATE
        if late:
            arrival = day + randint(rng.getrandbits, 1, 3)
            counts["late_lines"] += 1
        duplicate = random() < RATE_DUPLICATE
        if self.malformed_at and seq >= self.malformed_at[0] and event_type != "purchase" and not duplicate:
            self.malformed_at.pop(0)
            line = line[: randint(rng.getrandbits, 12, len(line) - 12)]  # a write cut in the middle: the event is lost
            counts["malformed_lines"] += 1
        else:
            counts["valid_distinct_events"] += 1
            if extra:
                counts["lines_with_extra_fields"] += 1
            if event_type == "purchase":
                counts["purchase_events"] += 1
            if not human:
                counts["bot_events"] += 1
        again = None
        if duplicate:
            again = arrival if random() < 0.7 else min(day + 3, arrival + randint(rng.getrandbits, 1, 2))
            counts["duplicate_lines"] += 1
        if self.dropping:  # a session that never happened: drawn (see `drop`), not written
            return
        bucket = self.bucket(arrival)
        (bucket[1] if late else bucket[0]).append((ms, seq, line))
        if again is not None:
            self.bucket(again)[1].append((ms, seq, line))

    def bucket(self, day: int) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        found = self.buckets.get(day)
        if found is None:
            if day < self.flushed_before:
                raise AssertionError(f"day {self.day_names[day]} was already written")
            found = self.buckets[day] = ([], [])
        return found

    # -- sessions -----------------------------------------------------------------------------------------
    def buy(self, purchase_ms: int, payload: tuple[Any, ...]) -> None:
        order_id, cid, views, extra, channel, (anon, agent), login = payload
        bits = self.rng.getrandbits
        # Walk back from the purchase: checkout, add_to_cart, product views, the landing page view.
        gaps = [randint(bits, 30_000, 300_000), randint(bits, 20_000, 240_000)]
        gaps += [randint(bits, 10_000, 180_000) for _ in range(len(views) + extra)]
        gaps.append(randint(bits, 5_000, 120_000))
        span = sum(gaps)
        room = purchase_ms - self.config.start_ms
        if span > room:  # right at the window start: squeeze the session into the window
            gaps = [g * room // span for g in gaps]
        times = list(accumulate(gaps))
        t_checkout, t_cart = purchase_ms - times[0], purchase_ms - times[1]
        t_views = [purchase_ms - t for t in times[2:-1]][::-1]
        t_land = purchase_ms - times[-1]
        known = "null" if cid is None else str(cid)
        early = known if login == _LOGGED_IN else "null"
        self.session(anon, agent, True)
        url, referrer, utm = self.landing(channel, t_land)
        self.emit(t_land, "page_view", early, url, referrer, utm)
        viewed = [self.product_at(t_views[0]) for _ in range(extra)] + list(views)
        for t, pid in zip(t_views, viewed, strict=True):
            self.emit(t, "product_view", early, f"/products/{pid}", product=str(pid))
        self.emit(t_cart, "add_to_cart", early, f"/products/{views[0]}", product=str(views[0]))
        self.emit(t_checkout, "checkout", known, "/checkout")
        self.emit(purchase_ms, "purchase", known, "/checkout/confirmation", order=str(order_id))

    def browse(self, start_ms: int, n: int, payload: tuple[Any, ...]) -> None:
        (anon, agent), cid, channel = payload
        rng = self.rng
        random, bits = rng.random, rng.getrandbits
        customer = "null" if cid is None else str(cid)
        self.session(anon, agent, True)
        url, referrer, utm = self.landing(channel, start_ms)
        self.emit(start_ms, "page_view", customer, url, referrer, utm)
        t, in_cart, last_product = start_ms, False, None
        for _ in range(n - 1):
            t += randint(bits, 5_000, 240_000)
            if t > self.end_ms:
                return
            roll = random()
            if roll < 0.55 or (roll >= 0.85 and last_product is None):
                last_product = self.product_at(t)
                self.emit(t, "product_view", customer, f"/products/{last_product}", product=str(last_product))
            elif roll < 0.85:
                self.emit(t, "page_view", customer, f"/category/{choice(bits, CATEGORIES)}")
            elif not in_cart or roll < 0.95:
                in_cart = True
                self.emit(t, "add_to_cart", customer, f"/products/{last_product}", product=str(last_product))
            else:  # reached the checkout and left
                self.emit(t, "checkout", customer, "/checkout")

    def bot(self, start_ms: int, n: int, payload: tuple[str, str]) -> None:
        anon, agent = payload
        rng = self.rng
        random, bits = rng.random, rng.getrandbits
        self.session(anon, agent, False)
        t = start_ms
        for _ in range(n):
            if t > self.end_ms:
                return
            roll = random()
            if roll < 0.7:
                url = f"/products/{choice(bits, self.product_ids)}"
            elif roll < 0.92:
                url = f"/category/{choice(bits, CATEGORIES)}"
            else:
                url = "/"
            self.emit(t, "page_view", "null", url)
            t += randint(bits, 400, 8_000)

    # -- files --------------------------------------------------------------------------------------------
    def flush(self, before_day: int) -> None:
        if before_day <= self.flushed_before:
            return  # days before `flushed_before` are written already, and no line can arrive on them any more
        self.flushed_before = before_day
        for day in sorted(d for d in self.buckets if d < before_day):
            on_time, appended = self.buckets.pop(day)
            on_time.sort()
            appended.sort()
            lines = [line for _, _, line in on_time] + [line for _, _, line in appended]
            path = self.events_dir / self.day_names[day] / EVENTS_FILE
            data = ("\n".join(lines) + "\n").encode("utf-8")
            self.written_files.add(path)
            self.counts["files"] += 1
            self.counts["lines"] += len(lines)
            if write_if_changed(path, data):
                self.counts["files_written"] += 1
            else:
                self.counts["files_unchanged"] += 1

    def drop(self, purchase_ms: int, payload: tuple[Any, ...]) -> None:
        """Anomaly `half_orders_day`: the buying session of an order that never happened. Drawn like any
        other (so the random streams and event ids of the rest stay as without the anomaly), then forgotten:
        no line, no count."""
        kept = dict(self.counts)
        self.dropping = True
        try:
            self.buy(purchase_ms, payload)
        finally:
            self.dropping = False
            self.counts.update(kept)

    def spike_bot(self, start_ms: int, n: int, payload: tuple[str, str]) -> None:
        """Anomaly `bot_spike`: a bot session from the spike's own random stream and event-id range, so the
        lines of every other session stay as without the anomaly. No truncated line among them."""
        saved = self.rng, self.seq, self.malformed_at
        self.rng, self.seq, self.malformed_at = self.spike_rng, self.spike_seq, []
        try:
            self.bot(start_ms, n, payload)
        finally:
            self.spike_seq = self.seq
            self.rng, self.seq, self.malformed_at = saved

    def run(self, sessions: list[tuple[Any, ...]]) -> dict[str, int]:
        counts = self.counts
        for anchor, _, kind, n, payload in sessions:
            # Sessions come in anchor order; a buying session reaches back at most ~30 minutes into the
            # previous day and late lines only go forward, so every day before yesterday is complete.
            self.flush((anchor - self.first_day_ms) // MS_PER_DAY - 1)
            if kind == _BUY and payload[0] in self.lost_order_ids:
                self.drop(anchor, payload)
                continue
            counts["sessions"] += 1
            if kind == _BUY:
                counts["buying_sessions"] += 1
                self.buy(anchor, payload)
            elif kind == _BROWSE:
                self.browse(anchor, n, payload)
            elif kind == _BOT:
                counts["bot_sessions"] += 1
                self.bot(anchor, n, payload)
            else:
                counts["bot_sessions"] += 1
                self.spike_bot(anchor, n, payload)
        self.flush(len(self.day_names))
        counts["stale_files_removed"] = self.remove_stale_files()
        return counts

    def remove_stale_files(self) -> int:
        """Day files of an earlier run (other seed or scale) that this run did not produce."""
        removed = 0
        for path in sorted(self.events_dir.glob(f"*/{EVENTS_FILE}")):
            if path not in self.written_files and re.fullmatch(r"\d{4}-\d{2}-\d{2}", path.parent.name):
                path.unlink()
                removed += 1
                if not any(path.parent.iterdir()):
                    path.parent.rmdir()
        return removed


def write_events(landing_dir: Path, data: AppData, config: GenerationConfig) -> dict[str, int]:
    """Write `<landing_dir>/events/<YYYY-MM-DD>/events.jsonl` (only changed files); return counts."""
    sessions = _Planner(config).plan(data)
    return _Writer(data, config, Path(landing_dir) / EVENTS_FOLDER).run(sessions)
