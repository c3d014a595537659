"""The marketing team's spend spreadsheet: the spend plan (which also drives customer acquisition) and the
hand-kept CSV it ends up as, with the mess a person makes."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from .config import GenerationConfig
from .files import write_if_changed
from .seasonality import traffic_weights, window_days

CSV_HEADER = ("Spend Date", "Channel", "Amount Spent (USD)", "Clicks", "Impressions", "Notes")
CSV_RELATIVE_PATH = Path("marketing") / "marketing_spend.csv"

UNPAID_CHANNELS = ("organic", "direct", "referral")
PAID_CHANNELS = ("paid_search", "paid_social", "display", "email", "affiliate")
ACQUISITION_CHANNELS = UNPAID_CHANNELS + PAID_CHANNELS

# Share of new customers per acquisition channel (before campaign bursts and noise).
CHANNEL_SHARE = {
    "organic": 0.22,
    "direct": 0.13,
    "referral": 0.07,
    "paid_search": 0.19,
    "paid_social": 0.14,
    "display": 0.05,
    "email": 0.08,
    "affiliate": 0.12,
}
# Cost per acquired customer in USD: spend is set from it, so spend / new customers lands near it.
TARGET_CPA_USD = {
    "paid_search": 48.0,
    "paid_social": 62.0,
    "display": 105.0,
    "email": 24.0,
    "affiliate": 36.0,
}
COST_PER_CLICK_USD = {
    "paid_search": 1.15,
    "paid_social": 0.80,
    "display": 0.55,
    "email": 0.12,
    "affiliate": 0.65,
}
CLICK_THROUGH_RATE = {
    "paid_search": 0.045,
    "paid_social": 0.011,
    "display": 0.0035,
    "email": 0.21,
    "affiliate": 0.018,
}

# How a person misspells channels (each maps to a paid channel code).
CHANNEL_TYPOS = {
    "Paid Serach": "paid_search",
    "paid social": "paid_social",
    "Facebok Ads": "paid_social",
    " Email ": "email",
}
ROUTINE_NOTES = (
    "budget raised",
    "paused 2h for creative review",
    "new creative",
    "invoice pending",
    "test: lookalike audience, 1%",
    "promo code SALTBOX10",
)


@dataclass(frozen=True)
class SpendRow:
    day: date
    channel: str
    amount_cents: int
    clicks: int
    impressions: int


@dataclass(frozen=True)
class MarketingPlan:
    """Daily spend per paid channel and, for every day and channel, the weight of new-customer acquisition."""

    rows: tuple[SpendRow, ...]
    # (day index, channel, weight) for all acquisition channels; weights are expected new customers.
    acquisition_weights: tuple[tuple[int, str, float], ...]


def _campaign_factor(channel: str, day: date) -> float:
    if channel == "paid_social" and (day.month == 11 or (day.month == 12 and day.day <= 20)):
        return 1.35  # holiday social push
    if channel == "display" and day.month in (3, 4):
        return 1.5  # spring brand campaign
    if channel == "email" and day.weekday() == 1:
        return 1.6  # Tuesday newsletter
    return 1.0


def plan_marketing(config: GenerationConfig) -> MarketingPlan:
    """Spend per day and paid channel, scaled so that spend / acquired customers is ~$24-105 per channel."""
    rng = random.Random(config.stream_seed("marketing-plan"))
    weights = traffic_weights(config)
    total_weight = sum(weights)
    n_customers = config.n_customers
    rows: list[SpendRow] = []
    acquisition: list[tuple[int, str, float]] = []
    for i, day in enumerate(window_days(config)):
        base = n_customers * weights[i] / total_weight
        for channel in UNPAID_CHANNELS:
            acquisition.append((i, channel, base * CHANNEL_SHARE[channel]))
        for channel in PAID_CHANNELS:
            expected = base * CHANNEL_SHARE[channel] * _campaign_factor(channel, day)
            spend_usd = expected * TARGET_CPA_USD[channel] * (0.8 + 0.4 * rng.random())
            cents = max(1, round(spend_usd * 100))
            clicks = max(1, round(spend_usd / COST_PER_CLICK_USD[channel] * (0.85 + 0.3 * rng.random())))
            impressions = max(clicks, round(clicks / CLICK_THROUGH_RATE[channel] * (0.9 + 0.2 * rng.random())))
            rows.append(SpendRow(day, channel, cents, clicks, impressions))
            acquisition.append((i, channel, cents / 100 / TARGET_CPA_USD[channel]))
    return MarketingPlan(tuple(rows), tuple(acquisition))


def _format_amount(cents: int, style: int) -> tuple[str, int]:
    """The amount as a person typed it, and its value in cents as written."""
    if style == 1:
        return f"${cents // 100:,}.{cents % 100:02d}", cents
    if style == 2:
        dollars = (cents + 50) // 100
        return f" {dollars} ", dollars * 100
    return f"{cents // 100}.{cents % 100:02d}", cents


def _holiday_note(day: date) -> str:
    if day.month == 11 and 24 <= day.day <= 30 and day.weekday() == 4:
        return "Black Friday push"
    if day.month == 12 and day.day <= 20 and day.weekday() == 0:
        return "holiday gift guide, week " + str((day.day - 1) // 7 + 1)
    return ""


def render_marketing_csv(config: GenerationConfig) -> tuple[bytes, dict[str, int]]:
    """The CSV bytes and counts (rows, mess, spend as written per channel in cents)."""
    plan = plan_marketing(config)
    rng = random.Random(config.stream_seed("marketing-mess"))
    n = len(plan.rows)
    indices = list(range(n))

    rng.shuffle(indices)
    us_dates = set(indices[: max(1, round(n * 0.10))])
    rng.shuffle(indices)
    n_dollar, n_whole = max(1, round(n * 0.30)), max(1, round(n * 0.12))
    amount_style = dict.fromkeys(indices[:n_dollar], 1) | dict.fromkeys(indices[n_dollar : n_dollar + n_whole], 2)
    tbd_row = rng.randrange(n)
    notes_rows = set(rng.sample(range(n), max(1, round(n * 0.02))))
    typo_rows: dict[int, str] = {}
    for typo, channel in CHANNEL_TYPOS.items():
        candidates = [i for i, row in enumerate(plan.rows) if row.channel == channel and i not in typo_rows]
        for i in rng.sample(candidates, min(len(candidates), rng.randint(2, 3))):
            typo_rows[i] = typo
    blank_after = rng.randrange(1, n)

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    spend_written = dict.fromkeys(PAID_CHANNELS, 0)
    for i, row in enumerate(plan.rows):
        if i == blank_after:
            writer.writerow([""] * len(CSV_HEADER))
        day_text = f"{row.day:%m/%d/%Y}" if i in us_dates else row.day.isoformat()
        note = _holiday_note(row.day) if row.channel == "paid_social" else ""
        if i in notes_rows:
            note = rng.choice(ROUTINE_NOTES)
        if i == tbd_row:
            amount_text, note = "TBD", "awaiting invoice from agency"
        else:
            amount_text, written = _format_amount(row.amount_cents, amount_style.get(i, 0))
            spend_written[row.channel] += written
        channel_text = typo_rows.get(i, row.channel)
        writer.writerow([day_text, channel_text, amount_text, row.clicks, row.impressions, note])

    counts = {
        "rows": n + 1,
        "spend_rows": n,
        "blank_rows": 1,
        "us_format_dates": len(us_dates),
        "channel_typos": len(typo_rows),
        "unparseable_amounts": 1,
        "spend_cents_as_written": sum(spend_written.values()),
    }
    counts |= {f"spend_cents_as_written.{channel}": cents for channel, cents in spend_written.items()}
    return out.getvalue().encode("utf-8"), counts


def write_marketing_spend(landing_dir: Path, config: GenerationConfig) -> dict[str, int]:
    """Write `<landing_dir>/marketing/marketing_spend.csv` (only if its bytes change). Returns counts."""
    data, counts = render_marketing_csv(config)
    counts["file_written"] = int(write_if_changed(Path(landing_dir) / CSV_RELATIVE_PATH, data))
    return counts
