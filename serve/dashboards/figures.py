"""How figures read on the dashboards: money to the cent in USD (the shop's currency), counts with separators."""

from __future__ import annotations

import math
from typing import Any


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def money(value: Any) -> str:
    return "-" if _missing(value) else f"${float(value):,.2f}"


def count(value: Any) -> str:
    return "-" if _missing(value) else f"{int(value):,}"


def percent(value: Any) -> str:
    return "-" if _missing(value) else f"{float(value):.2%}"


def ratio(value: Any) -> str:
    """A return on ad spend: revenue per dollar spent."""
    return "-" if _missing(value) else f"{float(value):,.2f}x"
