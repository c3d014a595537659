"""The shape of demand over the window: weekly rhythm, retail holidays, growth, and the hour of day."""

from __future__ import annotations

import random
from bisect import bisect_right
from datetime import date, timedelta
from itertools import accumulate

from .config import MS_PER_DAY, GenerationConfig
from .draws import below

# Monday .. Sunday: a home-goods shop sells more at the weekend.
WEEKDAY_FACTOR = (0.96, 0.94, 0.95, 0.98, 1.03, 1.12, 1.18)

# UTC hour of day. Most customers are in North America, so the evening peak lands around 00-03 UTC.
HOUR_WEIGHTS = (
    5.0, 5.2, 4.8, 4.0, 2.8, 1.8, 1.2, 1.0, 1.0, 1.2, 1.6, 2.2,
    2.8, 3.4, 3.8, 4.0, 4.2, 4.4, 4.6, 4.6, 4.6, 4.8, 5.0, 5.2,
)  # fmt: skip
_HOUR_CUM = tuple(accumulate(HOUR_WEIGHTS))
_HOUR_MAX = max(HOUR_WEIGHTS)

# Yearly growth of the business from the first to the last day of the window.
GROWTH = 0.6


def _holiday_factor(day: date) -> float:
    """Retail calendar of a US-centred home-goods shop."""
    # Black Friday is the day after the fourth Thursday of November.
    nov1 = date(day.year, 11, 1)
    thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    black_friday = thanksgiving + timedelta(days=1)
    cyber_monday = thanksgiving + timedelta(days=4)
    if day == black_friday:
        return 3.0
    if day == cyber_monday:
        return 2.6
    if black_friday < day < cyber_monday:
        return 1.9
    if day == thanksgiving:
        return 0.8
    if day.month == 12:
        if day.day <= 20:
            return 1.45
        if day.day <= 24:
            return 1.15
        if day.day == 25:
            return 0.55
        return 1.25  # boxing-week sales
    if day.month == 1:
        return 1.2 if day.day <= 10 else 0.9
    if day.month == 2:
        return 0.9
    if day.month in (3, 4, 5):
        return 1.05  # spring refresh
    if day.month == 7 and day.day in (14, 15):
        return 1.7  # mid-summer sale
    if day.month in (7, 8):
        return 0.92
    if day.month == 9 and day.weekday() == 0 and day.day <= 7:
        return 1.35  # Labor Day
    return 1.0


def window_days(config: GenerationConfig) -> list[date]:
    first = config.start.date()
    return [first + timedelta(days=i) for i in range(config.n_days)]


def day_start_ms(config: GenerationConfig, day_index: int) -> int:
    """Epoch milliseconds of midnight UTC of a day of the window (day 0 is the first day)."""
    return config.start_ms - config.start_ms % MS_PER_DAY + day_index * MS_PER_DAY


def demand_factor(day: date) -> float:
    """A day's demand from an existing customer base: weekday rhythm times the retail calendar."""
    return WEEKDAY_FACTOR[day.weekday()] * _holiday_factor(day)


def demand_factors(config: GenerationConfig) -> list[float]:
    """Per-day demand of the window's days."""
    return [demand_factor(d) for d in window_days(config)]


def traffic_weights(config: GenerationConfig) -> list[float]:
    """Per-day weights of new-customer acquisition and of site traffic: demand with growth."""
    n = config.n_days
    return [f * (1.0 + GROWTH * i / max(1, n - 1)) for i, f in enumerate(demand_factors(config))]


def random_ms_in_day(rng: random.Random, day_ms: int) -> int:
    """A moment within a day, following the hour-of-day curve."""
    hour = bisect_right(_HOUR_CUM, rng.random() * _HOUR_CUM[-1])
    return day_ms + min(hour, 23) * 3_600_000 + below(rng.getrandbits, 3_600_000)  # rng.randrange(3_600_000)


def hour_acceptance(ms: int) -> float:
    """Relative likelihood (0..1] of an activity at this UTC hour."""
    return HOUR_WEIGHTS[(ms % MS_PER_DAY) // 3_600_000] / _HOUR_MAX
