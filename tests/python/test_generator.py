"""The source generator (tidewater.generate): deterministic, to the contract, with every kind of mess."""

from __future__ import annotations

import csv
import io
import json
import os
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tidewater.generate import GenerationConfig, build_app_data, generate
from tidewater.generate.advance import advance
from tidewater.generate.app_db import AppData, _build_products, _build_suppliers, copy_payloads, fingerprint
from tidewater.generate.config import ANOMALIES, combined_anomaly
from tidewater.generate.draws import Weighted, below, choice, randint
from tidewater.generate.events import EVENT_KEYS
from tidewater.generate.run import FILES_RECORD, GENERATOR_VERSION
from tidewater.generate.seasonality import demand_factor
from tidewater.generate.spreadsheet import CSV_HEADER
from tidewater.generate.vocabulary import FIRST_NAMES, LAST_NAMES, SUPPLIER_BRANDS
from tidewater.orchestrate.cli import main

SCALE = 0.01
SEED = 42
BOT_MARKERS = ("bot", "crawler", "spider", "headlesschrome")
LAST_DAY = "2026-10-31"  # the last day of the window: the day the anomalies hit
EVE = "2026-10-30"  # a buying session of the last day may start before midnight


@pytest.fixture(scope="module")
def config() -> GenerationConfig:
    return GenerationConfig(seed=SEED, scale=SCALE)


@pytest.fixture(scope="module")
def data(config: GenerationConfig) -> AppData:
    return build_app_data(config)


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory, config: GenerationConfig) -> Path:
    """The landing zone of one run at scale 0.01 (files only, no database)."""
    landing_dir = tmp_path_factory.mktemp("landing")
    generate(config, landing_dir, None)
    return landing_dir


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _event_lines(landing: Path) -> list[tuple[str, int, str]]:
    """(day folder, 1-based line number, line) for every line of every events file."""
    out = []
    for path in sorted((landing / "events").glob("*/events.jsonl")):
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            out.append((path.parent.name, number, line))
    return out


def _parsed_events(landing: Path) -> tuple[list[tuple[str, dict]], list[str]]:
    good, bad = [], []
    for folder, _, line in _event_lines(landing):
        try:
            good.append((folder, json.loads(line)))
        except json.JSONDecodeError:
            bad.append(line)
    return good, bad


def _occurred(value: str | int) -> datetime:
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC)
    if value.endswith("Z"):
        return datetime.fromisoformat(value[:-1] + "+00:00")
    return datetime.fromisoformat(value + "+00:00")


def _sessions(events: list[dict]) -> list[list[dict]]:
    """Sessions the way dbt makes them: per anonymous_id, a new one after 30 minutes of inactivity."""
    by_visitor: dict[str, dict[str, tuple[datetime, dict]]] = defaultdict(dict)
    for event in events:
        by_visitor[event["anonymous_id"]][event["event_id"]] = (_occurred(event["occurred_at"]), event)
    sessions: list[list[dict]] = []
    for visits in by_visitor.values():
        last = None
        for occurred, event in sorted(visits.values(), key=lambda v: (v[0], v[1]["event_id"])):
            if last is None or (occurred - last).total_seconds() > 1800:
                sessions.append([])
            sessions[-1].append(event)
            last = occurred
    return sessions


def _line_amounts(data: AppData) -> dict[int, Decimal]:
    totals: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    for item in data.order_items:
        totals[item.order_id] += item.quantity * item.unit_price - item.discount_amount
    return totals


# -- determinism --
def test_same_seed_and_scale_give_identical_rows_and_bytes(
    config: GenerationConfig, data: AppData, landing: Path, tmp_path: Path
) -> None:
    assert build_app_data(config) == data
    generate(config, tmp_path, None)
    assert _files(tmp_path) == _files(landing)


def test_another_seed_gives_other_data(config: GenerationConfig, data: AppData) -> None:
    other = build_app_data(GenerationConfig(seed=SEED + 1, scale=SCALE))
    assert other.customers != data.customers
    assert len(other.orders) == len(data.orders)


def test_counts_scale_with_scale() -> None:
    small, larger = GenerationConfig(scale=0.01), GenerationConfig(scale=0.05)
    assert (small.n_customers, small.n_orders, small.n_events) == (100, 1_000, 10_000)
    assert (larger.n_customers, larger.n_orders, larger.n_events) == (500, 5_000, 50_000)
    assert GenerationConfig(scale=1.0).n_orders == 100_000
    tiny = GenerationConfig(scale=0.0001)  # floors keep every kind of mess possible
    assert tiny.n_guest_orders >= 1 and tiny.n_malformed_lines >= 1 and tiny.n_customers >= 50
    big = build_app_data(larger)
    assert (len(big.customers), len(big.orders)) == (500, 5_000)
    assert 2.3 <= len(big.order_items) / len(big.orders) <= 2.8


def test_invalid_scale_is_refused() -> None:
    for scale in (0, -1, float("nan")):
        with pytest.raises(ValueError):
            GenerationConfig(scale=scale)


def test_fast_draws_are_the_draws_of_random() -> None:
    """`draws` stands in for Random's methods in the hot loops: the same values from the same stream."""
    ours, theirs = random.Random("draws"), random.Random("draws")
    items = tuple("abcdefghijklm")
    weighted = Weighted(list(items), [1.0, 3, 3.5, 4, 10, 10, 12, 20, 20, 21, 40, 41, 41])
    for n in (*range(1, 70), 2**31 - 1, 2**31, 2**40 + 3):
        for _ in range(20):
            assert below(ours.getrandbits, n) == theirs.randrange(n)
            assert randint(ours.getrandbits, -3, n) == theirs.randint(-3, n)
            assert choice(ours.getrandbits, items[: n % len(items) + 1]) == theirs.choice(items[: n % len(items) + 1])
            assert weighted.pick(ours.random) == theirs.choices(items, cum_weights=weighted.cum_weights)[0]
    assert ours.random() == theirs.random()


# -- the app database --
def test_keys_are_1_to_n_and_timestamps_in_the_window(config: GenerationConfig, data: AppData) -> None:
    for rows in data.tables().values():
        assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    for rows in (data.customers, data.orders, data.order_items, data.payments):
        for row in rows:
            assert config.start <= row.created_at <= row.updated_at <= config.end


def test_orders_follow_their_customer_and_status_history(data: AppData) -> None:
    created = {c.customer_id: c.created_at for c in data.customers}
    for order in data.orders:
        assert order.currency == "USD" and order.created_at == order.ordered_at
        if order.customer_id is not None:
            assert order.ordered_at >= created[order.customer_id]
    statuses = Counter(o.order_status for o in data.orders)
    assert set(statuses) <= {"placed", "paid", "shipped", "delivered", "cancelled", "returned"}
    assert 0.06 <= (statuses["cancelled"] + statuses["returned"]) / len(data.orders) <= 0.15
    assert sum(1 for o in data.orders if o.updated_at > o.created_at) > 0.9 * len(data.orders)


def test_line_amounts_and_payments_reconcile_to_the_cent(data: AppData) -> None:
    for item in data.order_items:
        for amount in (item.unit_price, item.discount_amount):
            assert amount.as_tuple().exponent == -2
        assert item.quantity >= 1 and item.quantity * item.unit_price - item.discount_amount >= 0
    totals = _line_amounts(data)
    payments: dict[int, list] = defaultdict(list)
    for p in data.payments:
        assert p.amount > 0 and p.amount.as_tuple().exponent == -2
        assert p.payment_method in ("card", "paypal", "gift_card")
        payments[p.order_id].append(p)
    for order in data.orders:
        captured = [p.amount for p in payments[order.order_id] if p.payment_type == "payment"]
        refunded = [p.amount for p in payments[order.order_id] if p.payment_type == "refund"]
        total = totals[order.order_id]
        if order.order_status == "placed":
            assert not captured and not refunded
        elif order.order_status == "cancelled":
            assert (captured, refunded) in (([], []), ([total], [total]))
        else:
            assert captured == [total]
            if order.order_status == "returned":
                assert len(refunded) == 1 and 0 < refunded[0] <= total
            else:
                assert not refunded
    partial = [o for o in data.orders if o.order_status == "returned"]
    assert any(
        sum(p.amount for p in payments[o.order_id] if p.payment_type == "refund") < totals[o.order_id] for o in partial
    ), "some returns are refunded partially"


def test_source_totals_add_up(data: AppData) -> None:
    totals = data.source_totals()
    assert Decimal(totals["revenue"]) == sum(_line_amounts(data).values())
    assert totals["orders"] == len(data.orders) and totals["order_items"] == len(data.order_items)
    refunds = sum(p.amount for p in data.payments if p.payment_type == "refund")
    assert Decimal(totals["refunds_total"]) == refunds


def test_app_database_mess_is_present(data: AppData) -> None:
    customers = data.customers
    assert any(c.email != c.email.strip() for c in customers) or any(c.email != c.email.lower() for c in customers)
    assert len({c.email.strip().lower() for c in customers}) == len(customers), "emails unique once cleaned"
    assert any(c.country_code.islower() for c in customers)
    nulls = sum(1 for c in customers if c.phone is None) / len(customers)
    assert 0.15 <= nulls <= 0.45
    assert sum(1 for o in data.orders if o.customer_id is None) >= 1
    assert {c.acquisition_channel for c in customers} <= {
        "organic", "direct", "referral", "paid_search", "paid_social", "display", "email", "affiliate",
    }  # fmt: skip


# -- marketing consent (the app database is its system of record) --
def test_marketing_consent_is_drawn_at_signup_from_its_own_stream(
    config: GenerationConfig, data: AppData, monkeypatch: pytest.MonkeyPatch
) -> None:
    consents = Counter(c.marketing_consent for c in data.customers)
    assert consents == {"granted": 60, "withheld": 31, "withdrawn": 9}, consents
    changed = [c for c in data.customers if c.marketing_consent_updated_at != c.created_at]
    assert len(changed) == 13 and {c.marketing_consent for c in changed} == {"granted", "withdrawn"}
    for c in data.customers:
        assert c.created_at <= c.marketing_consent_updated_at <= c.updated_at <= config.end, c.customer_id
    withdrawn = [c for c in data.customers if c.marketing_consent == "withdrawn"]
    assert all(c.marketing_consent_updated_at > c.created_at for c in withdrawn), "withdrawn after signing up"
    # Another consent stream: other consents, every other column (but updated_at, which a change moves) as it was.
    seed_of = GenerationConfig.stream_seed
    monkeypatch.setattr(
        GenerationConfig,
        "stream_seed",
        lambda self, name: seed_of(self, "other-" + name if name == "marketing-consent" else name),
    )
    other = build_app_data(config)
    assert [c.marketing_consent for c in other.customers] != [c.marketing_consent for c in data.customers]
    assert [c[:11] for c in other.customers] == [c[:11] for c in data.customers]
    assert other.orders == data.orders and other.order_items == data.order_items and other.payments == data.payments


def test_the_daily_advance_withdraws_and_grants_marketing_consent(
    app_db_conninfo: str, config: GenerationConfig, data: AppData, tmp_path: Path
) -> None:
    generate(config, tmp_path, app_db_conninfo)
    days = advance(config, tmp_path, app_db_conninfo, 2)
    assert [(d["counts"]["consent_withdrawals"], d["counts"]["consent_grants"]) for d in days] == [(1, 1), (1, 1)]
    before = {c.customer_id: c for c in data.customers}
    with psycopg.connect(app_db_conninfo) as conn:
        now = conn.execute(
            "select customer_id, marketing_consent, marketing_consent_updated_at, updated_at, deleted_at "
            "from public.customers order by customer_id"
        ).fetchall()
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("update public.customers set marketing_consent = 'maybe' where customer_id = 1")
    changes = Counter(
        (before[cid].marketing_consent, consent)
        for cid, consent, _, _, _ in now
        if cid in before and consent != before[cid].marketing_consent
    )
    assert changes == {("granted", "withdrawn"): 2, ("withheld", "granted"): 2}, changes
    for cid, consent, consent_at, updated_at, deleted_at in now:
        if cid in before and consent != before[cid].marketing_consent:
            assert config.end < consent_at == updated_at and deleted_at is None, cid
        elif cid in before:
            assert consent_at == before[cid].marketing_consent_updated_at, cid
    signed_up = Counter(consent for cid, consent, *_ in now if cid not in before)
    assert set(signed_up) <= {"granted", "withheld"} and sum(signed_up.values()) >= 2


def test_advanced_days_continue_the_level_the_window_ended_at(app_db_conninfo: str, tmp_path: Path) -> None:
    """The window grows through its year: the days after it keep its last four weeks' orders and events per unit of
    demand (weekday and retail calendar), not its average day, which Elementary's volume test on the orders flags as
    a drop."""
    config = GenerationConfig(seed=SEED, scale=0.1)  # ~40 orders a day: a level stands out from the draws
    generate(config, tmp_path, app_db_conninfo)
    days = advance(config, tmp_path, app_db_conninfo, 3)
    recent = [date.fromisoformat(LAST_DAY) - timedelta(days=i) for i in range(28)]
    advanced = [date.fromisoformat(d["date"]) for d in days]
    with psycopg.connect(app_db_conninfo) as conn:
        orders = dict(
            conn.execute(
                "select cast(created_at as date), count(*) from public.orders where created_at >= %s group by 1",
                (datetime.combine(recent[-1], datetime.min.time(), tzinfo=UTC),),
            ).fetchall()
        )
    lines = {d: len((tmp_path / "events" / d.isoformat() / "events.jsonl").read_bytes().splitlines()) for d in recent}

    def per_demand(counts: dict[date, int], over: list[date]) -> float:
        return sum(counts[d] for d in over) / sum(demand_factor(d) for d in over)

    orders_ratio = per_demand(orders, advanced) / per_demand(orders, recent)
    advanced_lines = {d: day["counts"]["event_lines"] for d, day in zip(advanced, days, strict=True)}
    lines_ratio = per_demand(advanced_lines, advanced) / per_demand(lines, recent)
    assert 0.85 <= orders_ratio <= 1.15, orders_ratio
    assert 0.9 <= lines_ratio <= 1.1, lines_ratio


# -- suppliers (the brands, tenants of the supplier portal) --
def test_supplier_count_grows_slowly_with_the_catalogue() -> None:
    counts = {scale: GenerationConfig(scale=scale).n_suppliers for scale in (0.0001, 0.01, 0.1, 1.0, 2.0, 20.0)}
    assert counts == {0.0001: 4, 0.01: 4, 0.1: 4, 1.0: 12, 2.0: 20, 20.0: 20}


def test_every_supplier_is_a_brand_with_products_that_sell(config: GenerationConfig, data: AppData) -> None:
    suppliers = {s.supplier_id: s for s in data.suppliers}
    assert len(suppliers) == config.n_suppliers
    names = [s.supplier_name for s in data.suppliers]
    assert len(set(names)) == len(names) and set(names) <= set(SUPPLIER_BRANDS)
    people = {name.lower() for name in FIRST_NAMES + LAST_NAMES}
    assert not [n for n in names if people & set(n.lower().replace("&", " ").replace(".", " ").split())], names
    for product in data.products:
        supplier = suppliers[product.supplier_id]
        assert supplier.created_at == supplier.updated_at < product.created_at, product.product_id
    status = {o.order_id: o.order_status for o in data.orders}
    supplier_of = {p.product_id: p.supplier_id for p in data.products}
    selling = {supplier_of[i.product_id] for i in data.order_items if status[i.order_id] != "cancelled"}
    assert selling == set(suppliers), "every supplier sells something at the smallest scale"
    ranges = Counter(p.supplier_id for p in data.products)
    assert max(ranges.values()) > min(ranges.values()), "brands carry ranges of different sizes"


def test_suppliers_come_from_their_own_random_stream(config: GenerationConfig, data: AppData) -> None:
    """Another seed for the suppliers' stream alone changes who sells what, and nothing else."""
    other_seed = replace(config, seed=config.seed + 1)
    other_suppliers, other_supplier_of = _build_suppliers(
        other_seed, random.Random(other_seed.stream_seed("suppliers"))
    )
    assert [p.supplier_id for p in data.products] != other_supplier_of
    rebuilt = _build_products(config, random.Random(config.stream_seed("products")), other_supplier_of)
    assert [p.product._replace(supplier_id=0) for p in rebuilt] == [p._replace(supplier_id=0) for p in data.products]
    assert [p.product.supplier_id for p in rebuilt] == other_supplier_of and len(other_suppliers) == len(data.suppliers)


# -- the web events --
def test_event_lines_follow_the_contract(landing: Path, data: AppData, config: GenerationConfig) -> None:
    good, bad = _parsed_events(landing)
    assert 1 <= len(bad) <= 5
    for line in bad:
        assert line.startswith("{") and not line.endswith("}")
    orders = {o.order_id: o for o in data.orders}
    purchases: dict[str, int] = {}
    for folder, event in good:
        assert tuple(event)[: len(EVENT_KEYS)] == EVENT_KEYS
        assert event["event_id"].startswith("evt_") and len(event["event_id"]) == 20
        assert event["anonymous_id"].startswith("anon_") and len(event["anonymous_id"]) == 17
        occurred = _occurred(event["occurred_at"])
        assert config.start <= occurred <= config.end
        assert 0 <= (date.fromisoformat(folder) - occurred.date()).days <= 3
        if event["event_type"] == "purchase":
            order = orders[event["order_id"]]
            assert abs((occurred - order.ordered_at).total_seconds()) < 1
            assert event["customer_id"] == order.customer_id
            purchases[event["event_id"]] = event["order_id"]
    assert sorted(purchases.values()) == sorted(orders), "one purchase event per order"


def test_every_purchase_ends_a_converting_session(landing: Path) -> None:
    good, bad = _parsed_events(landing)
    funnel = ["page_view", "product_view", "add_to_cart", "checkout", "purchase"]
    converting, incomplete = 0, 0
    for session in _sessions([e for _, e in good]):
        types = [e["event_type"] for e in session]
        if "purchase" not in types:
            continue
        converting += 1
        steps = iter(types[: types.index("purchase") + 1])
        if not all(step in steps for step in funnel):  # the funnel, in order
            incomplete += 1
    assert incomplete <= len(bad), "only a truncated line may break a funnel"
    purchases = {e["event_id"] for _, e in good if e["event_type"] == "purchase"}
    assert converting >= 0.98 * len(purchases)


def test_event_lines_are_compact_json_sorted_within_a_file(landing: Path) -> None:
    times: dict[str, list[datetime]] = defaultdict(list)
    for folder, _, line in _event_lines(landing):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        assert json.dumps(event, separators=(",", ":")) == line
        times[folder].append(_occurred(event["occurred_at"]).replace(microsecond=0))
    for folder, seq in times.items():
        # On-time lines in time order, then the late and duplicate lines that landed here, in time order.
        descents = sum(1 for i in range(1, len(seq)) if seq[i] < seq[i - 1])
        assert descents <= 1, folder


def test_event_mess_is_present(landing: Path) -> None:
    good, bad = _parsed_events(landing)
    assert bad, "at least one malformed line"
    ids = Counter(event["event_id"] for _, event in good)
    lines_of: dict[str, set] = defaultdict(set)
    folders_of: dict[str, set] = defaultdict(set)
    for folder, event in good:
        lines_of[event["event_id"]].add(json.dumps(event, separators=(",", ":")))
        folders_of[event["event_id"]].add(folder)
    duplicated = [i for i, n in ids.items() if n > 1]
    assert 0.01 <= len(duplicated) / len(ids) <= 0.035
    assert all(len(lines_of[i]) == 1 for i in duplicated), "a duplicate is an identical line"
    assert any(len(folders_of[i]) > 1 for i in duplicated), "some duplicates land in a later folder"
    late = [e for folder, e in good if _occurred(e["occurred_at"]).date().isoformat() < folder]
    assert 0.004 <= len({e["event_id"] for e in late}) / len(ids) <= 0.03
    formats = Counter(
        "epoch" if isinstance(e["occurred_at"], int) else "iso" if e["occurred_at"].endswith("Z") else "space"
        for _, e in good
    )
    assert formats["epoch"] >= 1 and formats["space"] >= 1
    assert (formats["epoch"] + formats["space"]) / len(good) < 0.02
    bots = [e for _, e in good if any(m in e["user_agent"].lower() for m in BOT_MARKERS)]
    assert bots and all(e["event_type"] == "page_view" and e["customer_id"] is None for e in bots)
    sessions = _sessions([e for _, e in good])
    bot_sessions = [s for s in sessions if any(m in s[0]["user_agent"].lower() for m in BOT_MARKERS)]
    assert 0.04 <= len(bot_sessions) / len(sessions) <= 0.06
    assert any(e["customer_id"] is None for _, e in good) and any(e["customer_id"] for _, e in good)
    assert {e["event_type"] for _, e in good} == {
        "page_view",
        "product_view",
        "add_to_cart",
        "checkout",
        "purchase",
    }


def test_event_volume_is_near_the_target(landing: Path, config: GenerationConfig) -> None:
    summary = json.loads((landing / "_generation.json").read_text())
    distinct = summary["source_totals"]["valid_distinct_events"]
    assert 0.95 * config.n_events <= distinct <= 1.05 * config.n_events
    good, bad = _parsed_events(landing)
    assert distinct == len({e["event_id"] for _, e in good})
    assert summary["counts"]["events"]["lines"] == len(good) + len(bad)
    assert summary["counts"]["events"]["malformed_lines"] == len(bad)


# -- the marketing spreadsheet --
def test_marketing_csv_has_the_exact_header_and_human_mess(landing: Path, config: GenerationConfig) -> None:
    text = (landing / "marketing" / "marketing_spend.csv").read_text("utf-8")
    assert text.split("\n", 1)[0] == "Spend Date,Channel,Amount Spent (USD),Clicks,Impressions,Notes"
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_HEADER
    body = rows[1:]
    assert sum(1 for r in body if not any(c.strip() for c in r)) == 1, "one blank row"
    filled = [r for r in body if any(c.strip() for c in r)]
    assert len(filled) == 5 * config.n_days
    amounts = [r[2] for r in filled]
    assert amounts.count("TBD") == 1
    assert any(a.startswith("$") and "," in a for a in amounts) or any(a.startswith("$") for a in amounts)
    assert any(a != a.strip() for a in amounts)
    assert any(a.replace(".", "", 1).isdigit() for a in amounts)
    us_dates = sum(1 for r in filled if "/" in r[0])
    assert 0.05 <= us_dates / len(filled) <= 0.15
    channels = Counter(r[1] for r in filled)
    assert {"paid_search", "paid_social", "display", "email", "affiliate"} <= set(channels)
    assert {"Paid Serach", "paid social", "Facebok Ads", " Email "} <= set(channels)


def test_marketing_spend_drives_acquisition_at_a_plausible_cost(tmp_path: Path) -> None:
    config = GenerationConfig(scale=0.1)
    generate(config, tmp_path, None)
    totals = json.loads((tmp_path / "_generation.json").read_text())["source_totals"]
    for channel, spend in totals["marketing_spend_by_channel"].items():
        new_customers = totals["new_customers_by_channel"][channel]
        assert 15 <= Decimal(spend) / new_customers <= 150, channel


# -- idempotence and the summary --
def test_unchanged_files_keep_their_mtime(config: GenerationConfig, tmp_path: Path) -> None:
    generate(config, tmp_path, None)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    old = 1_000_000_000
    for p in files:
        os.utime(p, (old, old))
    victim = sorted(tmp_path.glob("events/*/events.jsonl"))[10]
    victim.write_bytes(b"tampered\n")
    os.utime(victim, (old, old))
    stale = tmp_path / "events" / "2031-01-01" / "events.jsonl"
    stale.parent.mkdir()
    stale.write_text("{}\n")
    summary = generate(config, tmp_path, None)
    assert summary.events["files_written"] == 1 and summary.events["stale_files_removed"] == 1
    assert not stale.exists()
    for p in files:
        if p != victim:
            assert p.stat().st_mtime == old, p
    assert victim.stat().st_mtime != old and victim.read_bytes() != b"tampered\n"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_generation_summary_records_the_source_totals(landing: Path, data: AppData) -> None:
    summary = json.loads((landing / "_generation.json").read_text())
    assert (summary["seed"], summary["scale"]) == (SEED, SCALE)
    totals = summary["source_totals"]
    for key in ("orders", "order_items", "revenue", "revenue_non_cancelled", "refunds_total", "customers",
                "valid_distinct_events", "purchases"):  # fmt: skip
        assert key in totals, key
    assert totals["purchases"] == totals["orders"] == len(data.orders)
    assert totals["revenue"] == data.source_totals()["revenue"]
    assert Decimal(totals["revenue_non_cancelled"]) < Decimal(totals["revenue"])


def cli_main(args: list[str]) -> int:
    """`tidewater generate ARGS` in this process, as the command line runs it."""
    return main(["generate", *args])


def test_cli_writes_files_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["--scale", "0.01", "--landing-dir", str(tmp_path), "--skip-db"])
    out = capsys.readouterr().out
    assert code == 0
    assert [line.split(":")[0] for line in out.splitlines()] == ["app_db", "events", "marketing", "summary"]
    assert (tmp_path / "_generation.json").exists()


def test_cli_explains_an_unreachable_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://someone:secret@127.0.0.1:9/saltbox"
    code = cli_main(["--scale", "0.01", "--landing-dir", str(tmp_path), "--pg-url", url])
    err = capsys.readouterr().err
    assert code == 2
    assert "cannot connect to PostgreSQL at 127.0.0.1:9" in err and "secret" not in err
    assert "Traceback" not in err


# -- the database --
def test_load_into_postgres_is_complete_and_skipped_when_current(
    app_db_conninfo: str, config: GenerationConfig, data: AppData, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    first = generate(config, landing, app_db_conninfo)
    assert first.database == "loaded"
    expected = {table: len(rows) for table, rows in data.tables().items()}
    assert first.app_db == expected
    with psycopg.connect(app_db_conninfo) as conn:
        for table, count in expected.items():
            assert conn.execute(f"select count(*) from public.{table}").fetchone() == (count,)
        ((revenue,),) = conn.execute("select sum(quantity * unit_price - discount_amount) from order_items")
        assert f"{revenue:.2f}" == data.source_totals()["revenue"]
        ((refunds,),) = conn.execute("select sum(amount) from payments where payment_type = 'refund'")
        assert f"{refunds:.2f}" == data.source_totals()["refunds_total"]
        ((no_customer,),) = conn.execute("select count(*) from orders where customer_id is null")
        assert no_customer >= 1
        row = conn.execute("select * from orders where order_id = 1").fetchone()
        assert row == tuple(data.orders[0])
        assert conn.execute("select seed, scale from public._generation").fetchall() == [(SEED, Decimal("0.01"))]

    second = generate(config, landing, app_db_conninfo)
    assert second.database == "unchanged"
    assert "reload skipped" in str(second)
    forced = generate(config, landing, app_db_conninfo, force_reload=True)
    assert forced.database == "loaded"
    other = generate(GenerationConfig(seed=SEED, scale=0.02), landing, app_db_conninfo)
    assert other.database == "loaded"
    with psycopg.connect(app_db_conninfo) as conn:
        assert conn.execute("select count(*) from orders").fetchone() == (2_000,)


def test_a_generation_in_place_is_not_built_again_unless_part_of_it_changed(
    app_db_conninfo: str, config: GenerationConfig, tmp_path: Path
) -> None:
    """The check before an incremental day: the same generation, untouched, is recognised from the files' sizes and
    mtimes and the database's fingerprint, without building it again; a changed file sends it down the full path."""
    landing = tmp_path / "landing"
    first = generate(config, landing, app_db_conninfo)
    again = generate(config, landing, app_db_conninfo)
    assert "app_data" not in again.seconds, "the generation was built again"
    assert again.database == "unchanged"
    assert (again.app_db, again.source_totals, again.marketing["rows"]) == (
        first.app_db,
        first.source_totals,
        first.marketing["rows"],
    )
    assert again.events == {**first.events, "files_written": 0, "files_unchanged": first.events["files"]}

    one_file = sorted((landing / "events").glob("*/events.jsonl"))[3]
    original = one_file.read_bytes()
    one_file.write_bytes(original + b'{"event_id": "not generated"}\n')
    repaired = generate(config, landing, app_db_conninfo)
    assert "app_data" in repaired.seconds
    assert (repaired.database, repaired.events["files_written"]) == ("unchanged", 1)
    assert one_file.read_bytes() == original

    with psycopg.connect(app_db_conninfo) as conn:
        conn.execute("delete from public.payments where payment_id = 1")
    reloaded = generate(config, landing, app_db_conninfo)
    assert reloaded.database == "loaded"


def test_suppliers_reach_the_database_and_the_daily_advance_keeps_them(
    app_db_conninfo: str, config: GenerationConfig, data: AppData, tmp_path: Path
) -> None:
    generate(config, tmp_path, app_db_conninfo)
    products = "select product_id, supplier_id from public.products order by product_id"
    with psycopg.connect(app_db_conninfo) as conn:
        assert conn.execute("select * from public.suppliers order by supplier_id").fetchall() == [
            tuple(s) for s in data.suppliers
        ]
        assert conn.execute(products).fetchall() == [(p.product_id, p.supplier_id) for p in data.products]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("update public.products set supplier_id = 999 where product_id = 1")
    advance(config, tmp_path, app_db_conninfo, 2)  # new orders and a price change (an update of a product) a day
    with psycopg.connect(app_db_conninfo) as conn:
        assert conn.execute(products).fetchall() == [(p.product_id, p.supplier_id) for p in data.products]
        ((changed,),) = conn.execute("select count(*) from public.products where updated_at > %s", (config.end,))
        assert changed >= 1, "the advance changed a product"
        ((sold,),) = conn.execute(
            "select count(distinct p.supplier_id) from public.order_items as i "
            "join public.orders as o using (order_id) join public.products as p using (product_id) "
            "where o.ordered_at > %s",
            (config.end,),
        )
        assert sold >= 1


def test_a_generation_recorded_by_an_older_generator_is_built_again(
    app_db_conninfo: str, config: GenerationConfig, tmp_path: Path
) -> None:
    """A folder generated before products had a supplier (the same seed and scale, other rows): the record of its
    files still matches, but it is not taken as current, so the app database gets its suppliers."""
    landing = tmp_path / "landing"
    generate(config, landing, app_db_conninfo)
    record_path = landing / FILES_RECORD
    record = json.loads(record_path.read_text())
    assert record.pop("generator_version") == GENERATOR_VERSION
    record_path.write_text(json.dumps(record, indent=1) + "\n")
    again = generate(config, landing, app_db_conninfo)
    assert "app_data" in again.seconds, "an older generator's record was taken as current"
    assert json.loads(record_path.read_text())["generator_version"] == GENERATOR_VERSION


# -- anomalies on purpose (for the observability tests) --
@pytest.fixture(scope="module")
def anomaly_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[AppData, Path]]:
    """The rows and landing zone of a run at scale 0.01 with one anomaly (files only), made once per anomaly."""
    runs: dict[str, tuple[AppData, Path]] = {}

    def run(anomaly: str) -> tuple[AppData, Path]:
        if anomaly not in runs:
            config = GenerationConfig(seed=SEED, scale=SCALE, anomaly=anomaly)
            landing_dir = tmp_path_factory.mktemp(anomaly)
            generate(config, landing_dir, None)
            runs[anomaly] = (build_app_data(config), landing_dir)
        return runs[anomaly]

    return run


def _is_bot(event: dict) -> bool:
    return any(m in event["user_agent"].lower() for m in BOT_MARKERS)


def _before_the_eve(files: dict[str, bytes]) -> dict[str, bytes]:
    """The event files of the days before the eve of the last day (late lines only land later)."""
    return {k: v for k, v in files.items() if k.startswith("events/") and k.split("/")[1] < EVE}


def _on_last_day(rows: tuple) -> list:
    return [r for r in rows if r.ordered_at.date().isoformat() == LAST_DAY]


def test_anomaly_must_be_known() -> None:
    assert GenerationConfig().anomaly is None and GenerationConfig().anomalies == ()
    for name in ANOMALIES:
        assert GenerationConfig(anomaly=name).anomalies == (name,)
    both = GenerationConfig(anomaly=combined_anomaly(["bot_spike", "half_orders_day"]))
    assert both.anomaly == "half_orders_day+bot_spike" and both.anomalies == ("half_orders_day", "bot_spike")
    assert combined_anomaly([]) is None
    for wrong in ("", "half_orders", "BOT_SPIKE", 1, "bot_spike+bot_spike", "bot_spike+", "bot_spike+nope"):
        with pytest.raises(ValueError, match="anomaly"):
            GenerationConfig(anomaly=wrong)  # type: ignore[arg-type]


def test_anomalies_together_do_what_each_does_alone(anomaly_run: Callable[[str], tuple[AppData, Path]]) -> None:
    """Half the last day's orders and the bot spike in one generation: the rows of the first, the bots of the
    second (the observability drill injects both in one run)."""
    both, both_landing = anomaly_run("half_orders_day+bot_spike")
    halved, halved_landing = anomaly_run("half_orders_day")
    _, spiked_landing = anomaly_run("bot_spike")
    assert both.tables() == halved.tables()

    def bots(landing_dir: Path) -> set[str]:
        return {e["event_id"] for folder, e in _parsed_events(landing_dir)[0] if folder == LAST_DAY and _is_bot(e)}

    assert bots(both_landing) == bots(spiked_landing) > bots(halved_landing)


@pytest.mark.parametrize("anomaly", ANOMALIES)
def test_an_anomaly_is_deterministic_and_its_own_generation(
    anomaly: str, anomaly_run: Callable[[str], tuple[AppData, Path]], data: AppData, landing: Path, tmp_path: Path
) -> None:
    anomalous, first = anomaly_run(anomaly)
    config = anomalous.config
    assert build_app_data(config) == anomalous
    generate(config, tmp_path, None)
    assert _files(tmp_path) == _files(first), "the same anomaly twice gives the same bytes"
    summary = json.loads((first / "_generation.json").read_text())
    assert summary["anomaly"] == anomaly
    assert "anomaly" not in json.loads((landing / "_generation.json").read_text())
    assert summary["source_totals"]["orders"] == summary["source_totals"]["purchases"] == len(anomalous.orders)
    with_anomaly = fingerprint(copy_payloads(anomalous), anomaly)
    assert with_anomaly == fingerprint(copy_payloads(build_app_data(config)), anomaly)
    assert with_anomaly != fingerprint(copy_payloads(data)), "another generation than the normal one"
    assert anomalous.customers == data.customers and anomalous.products == data.products
    assert _before_the_eve(_files(first)) == _before_the_eve(_files(landing)), "the other days are unchanged"


def test_half_orders_day_loses_every_second_order_of_the_last_day(
    anomaly_run: Callable[[str], tuple[AppData, Path]], data: AppData, landing: Path
) -> None:
    halved, halved_landing = anomaly_run("half_orders_day")
    normal_day, halved_day = _on_last_day(data.orders), _on_last_day(halved.orders)
    assert len(normal_day) >= 4
    assert halved_day == normal_day[::2], "every second order of the day is gone"
    assert len(halved_day) == (len(normal_day) + 1) // 2
    lost = {o.order_id for o in normal_day} - {o.order_id for o in halved_day}
    assert {o.order_id for o in halved.lost_orders} == lost
    # Other days identical; the lost orders' lines and payments are gone, every other row is as it was.
    assert [o for o in data.orders if o.order_id not in lost] == list(halved.orders)
    assert [i for i in data.order_items if i.order_id not in lost] == list(halved.order_items)
    assert [p for p in data.payments if p.order_id not in lost] == list(halved.payments)
    assert not {i.order_id for i in halved.order_items} & lost and not {p.order_id for p in halved.payments} & lost
    # The web events: the lost orders' sessions are gone, nothing else changed (lines removed, none added).
    good, _ = _parsed_events(halved_landing)
    purchases = sorted({e["event_id"]: e["order_id"] for _, e in good if e["event_type"] == "purchase"}.values())
    assert purchases == sorted(o.order_id for o in halved.orders), "one purchase event per remaining order"
    normal_lines = Counter(line for _, _, line in _event_lines(landing))
    halved_lines = Counter(line for _, _, line in _event_lines(halved_landing))
    assert not halved_lines - normal_lines, "no line added"
    gone = [json.loads(line) for line in (normal_lines - halved_lines) if line.endswith("}")]
    assert {e["order_id"] for e in gone if e["event_type"] == "purchase"} == lost
    lost_visitors = {e["anonymous_id"] for e in gone if e["event_type"] == "purchase"}
    eve_evening = datetime.fromisoformat(LAST_DAY).replace(tzinfo=UTC) - timedelta(hours=1)
    assert all(e["anonymous_id"] in lost_visitors and _occurred(e["occurred_at"]) >= eve_evening for e in gone)


def test_new_column_adds_gift_message_to_orders_only(
    anomaly_run: Callable[[str], tuple[AppData, Path]], data: AppData, landing: Path
) -> None:
    changed, changed_landing = anomaly_run("new_column")
    rows = changed.tables()["orders"]
    assert [row[:-1] for row in rows] == [tuple(o) for o in data.orders], "the other columns are unchanged"
    messages = [row[-1] for row in rows]
    share = sum(1 for m in messages if m is not None) / len(messages)
    assert 0.02 <= share <= 0.09, share
    assert all(m is None or (isinstance(m, str) and 0 < len(m) <= 60) for m in messages)
    for table in ("customers", "products", "order_items", "payments"):
        assert changed.tables()[table] == data.tables()[table], table
    assert {k: v for k, v in _files(changed_landing).items() if k != "_generation.json"} == {
        k: v for k, v in _files(landing).items() if k != "_generation.json"
    }, "no file but the summary changes"


def test_bot_spike_gives_ten_times_the_bot_events_on_the_last_day(
    anomaly_run: Callable[[str], tuple[AppData, Path]], data: AppData, landing: Path, config: GenerationConfig
) -> None:
    spiked, spiked_landing = anomaly_run("bot_spike")
    assert spiked.tables() == data.tables(), "the app database is unchanged"
    good, _ = _parsed_events(spiked_landing)
    bots_by_folder: dict[str, set[str]] = defaultdict(set)
    for folder, event in good:
        if _is_bot(event):
            bots_by_folder[folder].add(event["event_id"])
    days = [(config.start.date() + timedelta(days=i)).isoformat() for i in range(config.n_days)]
    assert days[-1] == LAST_DAY
    other = [len(bots_by_folder[day]) for day in days[:-1]]
    mean = sum(other) / len(other)
    assert len(bots_by_folder[LAST_DAY]) >= 8 * mean > 0, (len(bots_by_folder[LAST_DAY]), mean)
    # Human events are unchanged (same lines, same ids); the added lines are bot page views on the last day.
    normal_lines = Counter(line for _, _, line in _event_lines(landing))
    spiked_lines = Counter(line for _, _, line in _event_lines(spiked_landing))
    assert not normal_lines - spiked_lines, "no line removed or changed"
    added = [json.loads(line) for line in spiked_lines - normal_lines]
    assert added and all(_is_bot(e) and e["event_type"] == "page_view" and e["customer_id"] is None for e in added)
    assert all(_occurred(e["occurred_at"]).date().isoformat() == LAST_DAY for e in added)
    normal_ids = {e["event_id"] for _, e in _parsed_events(landing)[0]}
    assert not {e["event_id"] for e in added} & normal_ids, "new events have new ids"


def test_new_column_and_anomalies_reach_the_database(
    app_db_conninfo: str, config: GenerationConfig, data: AppData, tmp_path: Path
) -> None:
    def orders_columns() -> list[str]:
        with psycopg.connect(app_db_conninfo) as conn:
            rows = conn.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'public' and table_name = 'orders' order by ordinal_position"
            ).fetchall()
        return [r[0] for r in rows]

    landing = tmp_path / "landing"
    assert generate(config, landing, app_db_conninfo).database == "loaded"
    assert "gift_message" not in orders_columns()
    new_column = GenerationConfig(seed=SEED, scale=SCALE, anomaly="new_column")
    assert generate(new_column, landing, app_db_conninfo).database == "loaded"
    assert orders_columns()[-1] == "gift_message"
    expected = sum(1 for row in build_app_data(new_column).tables()["orders"] if row[-1] is not None)
    with psycopg.connect(app_db_conninfo) as conn:
        assert conn.execute("select count(gift_message), count(*) from orders").fetchone() == (
            expected,
            len(data.orders),
        )
    assert generate(new_column, landing, app_db_conninfo).database == "unchanged"
    # Same rows, but another generation: the fingerprint tells them apart.
    bot_spike = GenerationConfig(seed=SEED, scale=SCALE, anomaly="bot_spike")
    assert generate(bot_spike, landing, app_db_conninfo).database == "loaded"
    assert "gift_message" not in orders_columns()
    assert generate(bot_spike, landing, app_db_conninfo).database == "unchanged"
    assert generate(config, landing, app_db_conninfo).database == "loaded"


def test_cli_takes_an_anomaly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli_main(["--scale", "0.01", "--landing-dir", str(tmp_path), "--skip-db", "--anomaly", "bot_spike"])
    assert code == 0
    assert "anomaly bot_spike" in capsys.readouterr().out
    assert json.loads((tmp_path / "_generation.json").read_text())["anomaly"] == "bot_spike"
    assert cli_main(["--scale", "0.01", "--landing-dir", str(tmp_path), "--skip-db", "--anomaly", "nope"]) == 2
    assert "'nope' is not one of 'half_orders_day', 'new_column', 'bot_spike'" in capsys.readouterr().err
