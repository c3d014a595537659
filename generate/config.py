"""Generation settings: the seed, the scale, the fixed business window and the counts derived from them."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tidewater.orchestrate.settings import Settings

WINDOW_START = datetime(2025, 11, 1, 0, 0, 0, tzinfo=UTC)
WINDOW_END = datetime(2026, 10, 31, 23, 59, 59, tzinfo=UTC)

# Floors so that even a tiny scale (0.01 and below) still has every kind of mess of the contract.
MIN_CUSTOMERS = 50
MIN_ORDERS = 300
MIN_EVENTS = 3_000
MIN_PRODUCTS = 30
# Suppliers (brands): a handful that grows slowly with the catalogue (12 at scale 1), at least 4 even at tiny scales
# (the multi-tenant portal needs several tenants to tell apart), at most 20 (a boutique shop, not a marketplace).
MIN_SUPPLIERS = 4
MAX_SUPPLIERS = 20
PRODUCTS_PER_SUPPLIER = 16

MS_PER_DAY = 86_400_000

# Anomalies the generator can inject on purpose, so observability tests can show they are flagged:
#   half_orders_day  on the last day of the window every second order (with its lines, payments and web
#                    session) never happened: a volume drop;
#   new_column       the app database's `orders` table has one more column, `gift_message`: a schema change;
#   bot_spike        on the last day of the window bot traffic is ten times the usual: an event-volume spike.
ANOMALIES = ("half_orders_day", "new_column", "bot_spike")


def combined_anomaly(names: Iterable[str]) -> str | None:
    """Several anomalies as GenerationConfig's one `anomaly` value ("a+b", in ANOMALIES' order; None for none)."""
    chosen = set(names)
    return "+".join(name for name in ANOMALIES if name in chosen) or None


def _scaled(base: int, scale: float, floor: int) -> int:
    return max(floor, round(base * scale))


@dataclass(frozen=True)
class GenerationConfig:
    """What to generate. The same config always produces byte-identical files and identical rows.

    `anomaly` (None, one of ANOMALIES, or several joined by "+", e.g. "half_orders_day+bot_spike") injects
    deliberate anomalies; everything they do not touch is identical to the generation without them (their random
    streams are separate).
    """

    seed: int = 42
    scale: float = 1.0
    start: datetime = WINDOW_START
    end: datetime = WINDOW_END
    anomaly: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ValueError(f"seed must be an integer, got {self.seed!r}")
        if not math.isfinite(self.scale) or not 0 < self.scale <= 20:
            raise ValueError(f"scale must be > 0 and <= 20, got {self.scale!r}")
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("start and end must be timezone-aware (UTC)")
        if self.end - self.start < timedelta(days=7):
            raise ValueError("the window must span at least 7 days")
        names = self.anomaly.split("+") if isinstance(self.anomaly, str) else [self.anomaly]
        if self.anomaly is not None and (not set(names) <= set(ANOMALIES) or len(set(names)) != len(names)):
            raise ValueError(
                f"anomaly must be one of {', '.join(ANOMALIES)}, several joined by '+' (or none), got {self.anomaly!r}"
            )

    @property
    def anomalies(self) -> tuple[str, ...]:
        return tuple(self.anomaly.split("+")) if self.anomaly else ()

    # -- the window ---------------------------------------------------------------------------------
    @property
    def start_ms(self) -> int:
        """Window start as epoch milliseconds (UTC)."""
        return int(self.start.timestamp()) * 1000

    @property
    def end_ms(self) -> int:
        """Window end (inclusive, the snapshot time of the app database) as epoch milliseconds."""
        return int(self.end.timestamp()) * 1000

    @property
    def last_day_start_ms(self) -> int:
        """Midnight UTC of the last day of the window (the day the anomalies hit) as epoch milliseconds."""
        return self.end_ms - self.end_ms % MS_PER_DAY

    @property
    def n_days(self) -> int:
        """Number of calendar days in the window (365 for the contract window)."""
        return (self.end.date() - self.start.date()).days + 1

    # -- derived counts -----------------------------------------------------------------------------
    @property
    def n_customers(self) -> int:
        return _scaled(10_000, self.scale, MIN_CUSTOMERS)

    @property
    def n_orders(self) -> int:
        return _scaled(100_000, self.scale, MIN_ORDERS)

    @property
    def n_products(self) -> int:
        return max(MIN_PRODUCTS, round(200 * max(self.scale, 0.1)))

    @property
    def n_suppliers(self) -> int:
        return min(MAX_SUPPLIERS, max(MIN_SUPPLIERS, self.n_products // PRODUCTS_PER_SUPPLIER))

    @property
    def n_events(self) -> int:
        """Target number of distinct web events (duplicate lines come on top)."""
        return _scaled(1_000_000, self.scale, MIN_EVENTS)

    @property
    def n_guest_orders(self) -> int:
        """Orders that arrive with no customer (~0.2%, at least 1)."""
        return max(1, round(self.n_orders * 0.002))

    @property
    def n_malformed_lines(self) -> int:
        """Truncated JSON lines in the landing zone (~0.01%, at least 1)."""
        return max(1, round(self.n_events * 0.0001))

    def stream_seed(self, name: str) -> str:
        """Seed for one independent random stream (str seeds hash with SHA-512: stable across versions)."""
        return f"tidewater:{self.seed}:{name}"


def folder_generation(
    settings: Settings, seed: int | None, scale: float | None, anomaly: str | None = None
) -> GenerationConfig:
    """What to generate into a data folder: the seed and scale given, else the ones its sources were generated with,
    else the defaults. Raises ValueError for settings the generator refuses."""
    recorded = settings.recorded_generation()
    defaults = GenerationConfig()
    return GenerationConfig(
        seed=seed if seed is not None else recorded.get("seed", defaults.seed),
        scale=scale if scale is not None else recorded.get("scale", defaults.scale),
        anomaly=anomaly,
    )
