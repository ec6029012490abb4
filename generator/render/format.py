"""How numbers read on pages: durations under a day in hours, shares as percentages."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def duration(days: Any, digits: int = 1) -> str:
    """Days as '3.2 d', or '5.0 h' under a day, or '12 min' under an hour; '–' when undefined."""
    if _missing(days):
        return "–"
    d = float(days)
    if abs(d) >= 1:
        return f"{d:,.{digits}f} d"
    hours = d * 24
    if abs(hours) >= 1:
        return f"{hours:.{digits}f} h"
    return f"{hours * 60:.0f} min"


def percent(share: Any, digits: int = 0) -> str:
    if _missing(share):
        return "–"
    return f"{float(share) * 100:.{digits}f}%"


def number(value: Any, digits: int = 1) -> str:
    if _missing(value):
        return "–"
    v = float(value)
    if v.is_integer() and digits <= 1 and abs(v) >= 100:
        return f"{int(v):,}"
    return f"{v:,.{digits}f}"


def integer(value: Any) -> str:
    if _missing(value):
        return "–"
    return f"{int(value):,}"


def day(value: Any) -> str:
    """A date as '5 Mar 2026'."""
    if _missing(value):
        return "–"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%b} {value.year}"


def instant(ns: Any, timezone: str = "UTC") -> str:
    """An instant as '5 Mar 2026 14:30 CET' in the stream's zone."""
    if _missing(ns):
        return "–"
    stamp = pd.Timestamp(int(ns), tz="UTC").tz_convert(timezone)
    return f"{stamp.day} {stamp:%b} {stamp.year} {stamp:%H:%M} {stamp.tzname()}"


def pvalue(value: Any) -> str:
    if _missing(value):
        return "–"
    v = float(value)
    return "< 0.001" if v < 0.001 else f"{v:.3f}"


FILTERS = {
    "pvalue": pvalue,
    "duration": duration,
    "percent": percent,
    "number": number,
    "integer": integer,
    "day": day,
    "instant": instant,
}
