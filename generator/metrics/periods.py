"""Periods: whole local days [start 00:00, end + 1 day 00:00) in the stream's zone, as UTC instants."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from generator.validate.schema import StreamDef

DAY_NS = 86_400 * 10**9
DEFAULT_DAYS = 90


@dataclass(frozen=True)
class PeriodSpan:
    """One period resolved to instants; `as_of` is min(end, the stream's as_of)."""

    name: str  # baseline, current, another periods: key, or a quarter slug like 2026-q3
    label: str
    first_day: dt.date
    last_day: dt.date
    start: int  # ns, local midnight of first_day
    end: int  # ns, local midnight after last_day (exclusive)
    as_of: int  # ns
    kind: str  # "named" | "quarter"

    @property
    def complete(self) -> bool:
        """True when the period has ended by the stream's as_of."""
        return self.as_of >= self.end

    def as_dict(self) -> dict[str, object]:
        return {
            "start": self.first_day.isoformat(),
            "end": self.last_day.isoformat(),
            "label": self.label,
        }


def local_midnight(day: dt.date, timezone: str) -> int:
    """The first instant of a local day in ns (where midnight does not exist, the day's first instant)."""
    stamp = pd.Timestamp(dt.datetime(day.year, day.month, day.day)).tz_localize(
        timezone, ambiguous=True, nonexistent="shift_forward"
    )
    return int(stamp.tz_convert("UTC").as_unit("ns").value)


def local_midnights(first: dt.date, days: int, timezone: str, step: int = 1) -> np.ndarray:
    """local_midnight of `days` days from `first`, `step` days apart, at once (int64 ns)."""
    naive = pd.date_range(pd.Timestamp(first), periods=days, freq=f"{step}D", unit="ns")
    local = naive.tz_localize(
        timezone, ambiguous=np.ones(days, dtype=bool), nonexistent="shift_forward"
    )
    return np.asarray(local.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


def local_date(ns: int, timezone: str) -> dt.date:
    return pd.Timestamp(ns, tz="UTC").tz_convert(ZoneInfo(timezone)).date()


def span(
    name: str,
    label: str,
    first: dt.date,
    last: dt.date,
    timezone: str,
    as_of: int,
    kind: str = "named",
) -> PeriodSpan:
    start = local_midnight(first, timezone)
    end = local_midnight(last + dt.timedelta(days=1), timezone)
    return PeriodSpan(name, label, first, last, start, end, min(end, as_of), kind)


def _fmt(day: dt.date) -> str:
    return f"{day.day} {day:%b} {day.year}"


def named_periods(definition: StreamDef, as_of: int) -> list[PeriodSpan]:
    """baseline and current (defaults: the two 90-day spans before as_of's date), then other named periods."""
    tz = definition.timezone
    out: dict[str, PeriodSpan] = {}
    last = local_date(as_of, tz) - dt.timedelta(days=1)
    defaults = {
        "current": (last - dt.timedelta(days=DEFAULT_DAYS - 1), last),
        "baseline": (
            last - dt.timedelta(days=2 * DEFAULT_DAYS - 1),
            last - dt.timedelta(days=DEFAULT_DAYS),
        ),
    }
    for name in ("baseline", "current"):
        if name in definition.periods:
            p = definition.periods[name]
            out[name] = span(
                name, p.label or f"{_fmt(p.start)} – {_fmt(p.end)}", p.start, p.end, tz, as_of
            )
        else:
            first, end = defaults[name]
            label = f"{name.capitalize()}: {DEFAULT_DAYS} days to {_fmt(end)}"
            out[name] = span(name, label, first, end, tz, as_of)
    for name, p in definition.periods.items():
        if name not in out:
            out[name] = span(name, p.label or name, p.start, p.end, tz, as_of)
    return list(out.values())


def quarters(first_ns: int, as_of: int, timezone: str) -> list[PeriodSpan]:
    """Calendar quarters (local) from the one holding first_ns to the one holding as_of."""
    first = local_date(first_ns, timezone)
    last = local_date(as_of, timezone)
    out = []
    year, q = first.year, (first.month - 1) // 3
    while (year, q) <= (last.year, (last.month - 1) // 3):
        start = dt.date(year, 3 * q + 1, 1)
        end = (dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)) - dt.timedelta(days=1)
        s = span(
            f"{year}-q{q + 1}", f"Q{q + 1} {year}", start, end, timezone, as_of, kind="quarter"
        )
        if s.as_of - s.start >= DAY_NS:  # at least one whole day of data, or the quarter is noise
            out.append(s)
        year, q = (year + 1, 0) if q == 3 else (year, q + 1)
    return out


def report_period(
    definition: StreamDef, as_of: int, named: dict[str, PeriodSpan], report: Any
) -> PeriodSpan:
    """A report's period (validate/reports.py ReportDef): a named period of stream.yaml, or its
    own start/end; cut at the report's as_of (never later than the stream's)."""
    front = report.front
    if front.as_of is not None:
        stamp = pd.Timestamp(front.as_of)
        stamp = stamp.tz_localize(definition.timezone) if stamp.tzinfo is None else stamp
        as_of = min(as_of, int(stamp.tz_convert("UTC").as_unit("ns").value))
    if front.period:
        chosen = named[front.period]
        first, last, label = chosen.first_day, chosen.last_day, front.label or chosen.label
    elif front.start and front.end:
        first, last = front.start, front.end
        label = front.label or f"{first:%-d %b %Y} – {last:%-d %b %Y}"
    else:
        chosen = named["current"]
        first, last, label = chosen.first_day, chosen.last_day, front.label or chosen.label
    return span(f"report-{report.slug}", label, first, last, definition.timezone, as_of)
