"""The throughput window a forecast samples from, and whether throughput was stable in it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np

from generator.forecast.history import Completions, DayGrid, daily_throughput

MIN_DAYS = 14  # fewer days of history than this: no forecast (too little to resample)
STABLE_P = 0.05


@dataclass(frozen=True)
class Stability:
    """Throughput in the window's first half against its second (days in order; an odd middle day
    is left out): mean items per day of each and a two-sided Mann-Whitney U test on the daily counts."""

    first_per_day: float
    second_per_day: float
    relative_change: float | None  # (second - first) / first; None when the first half is 0
    p_value: float | None  # None when every day of both halves had the same count
    stable: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "first_half_per_day": self.first_per_day,
            "second_half_per_day": self.second_per_day,
            "relative_change": self.relative_change,
            "p_value": self.p_value,
            "stable": self.stable,
        }


@dataclass(frozen=True)
class Window:
    """Whole local days [first_day, last_day] before the forecast's start, and the items done in
    each as known at that start (`daily`, zero days included)."""

    first_day: dt.date
    last_day: dt.date
    start: int  # ns, local midnight of first_day
    end: int  # ns, local midnight after last_day: the forecast's start
    daily: np.ndarray
    requested_days: int
    stability: Stability

    @property
    def days(self) -> int:
        return len(self.daily)

    @property
    def total(self) -> int:
        return int(self.daily.sum())

    @property
    def zero_days(self) -> int:
        return int((self.daily == 0).sum())

    @property
    def mean_per_day(self) -> float:
        return float(self.daily.mean()) if len(self.daily) else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.first_day.isoformat(),
            "end": self.last_day.isoformat(),
            "days": self.days,
            "requested_days": self.requested_days,
            "completed": self.total,
            "zero_days": self.zero_days,
            "zero_share": self.zero_days / self.days if self.days else None,
            "mean_per_day": self.mean_per_day,
            "daily": [int(v) for v in self.daily],
            "stability": self.stability.as_dict(),
        }


def stability(daily: np.ndarray) -> Stability:
    half = len(daily) // 2
    first, second = daily[:half], daily[len(daily) - half :]
    m1 = float(first.mean()) if half else 0.0
    m2 = float(second.mean()) if half else 0.0
    p: float | None = None
    if half and np.unique(np.concatenate((first, second))).size > 1:
        from scipy.stats import mannwhitneyu

        p = float(mannwhitneyu(first, second, alternative="two-sided", method="asymptotic").pvalue)
    return Stability(m1, m2, (m2 - m1) / m1 if m1 > 0 else None, p, p is None or p >= STABLE_P)


def window(comp: Completions, grid: DayGrid, start_day: dt.date, weeks: int) -> Window | None:
    """The `weeks` whole weeks of days before start_day (fewer when the history, which starts on
    the grid's first day, is shorter); None when fewer than MIN_DAYS days precede start_day."""
    requested = 7 * weeks
    first = max(start_day - dt.timedelta(days=requested), grid.first)
    days = (start_day - first).days
    if days < MIN_DAYS:
        return None
    bounds = grid.days(first, days)
    daily = daily_throughput(comp, bounds, int(bounds[-1]))
    return Window(
        first,
        start_day - dt.timedelta(days=1),
        int(bounds[0]),
        int(bounds[-1]),
        daily,
        requested,
        stability(daily),
    )
