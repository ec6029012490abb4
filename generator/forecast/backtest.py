"""Back-tests: the same forecast made from earlier dates, checked against what then happened.

From every `every_days` days back through the history (each with a full window before it), the
forecast is made from the completions known at that date only, and the outcome is read from the
completions known at the end of its horizon. A forecast "lands inside the 85% range" when the
outcome is on the safe side of its 85% line: at least the 85% line's items for "how many", all
N items done by the 85% line's date for "when". Which dates are tested depends only on the
forecasts, never on the outcomes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from generator.forecast import montecarlo as mc
from generator.forecast.history import Inputs

LINE = 85


@dataclass(frozen=True)
class Point:
    """One back-tested forecast, made at the start of `day`."""

    day: dt.date
    window_completed: int
    lines: dict[int, int | None]  # p -> items (how many) or day number (when)
    target: int  # how many: the horizon in days; when: N items
    actual: (
        int | None
    )  # how many: items done in the horizon; when: the day N were done (None: not yet)
    inside: bool

    def date(self, n: int | None) -> dt.date | None:
        return None if n is None else self.day + dt.timedelta(days=n - 1)

    def as_dict(self, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "as_of": self.day.isoformat(),
            "window_completed": self.window_completed,
        }
        if kind == "how_many":
            out.update({"p50": self.lines[50], "p85": self.lines[LINE], "actual": self.actual})
        else:
            out["items"] = self.target
            for key, n in (
                ("p50", self.lines[50]),
                ("p85", self.lines[LINE]),
                ("actual", self.actual),
            ):
                d = self.date(n)
                out[key] = d.isoformat() if d else None
        out["inside"] = self.inside
        return out


@dataclass(frozen=True)
class Backtest:
    kind: str  # how_many | when
    every_days: int
    trials: int
    horizon_days: int | None  # how many
    scope: str | None  # when: committed | all, or None for a fixed N
    points: list[Point] = field(default_factory=list)
    no_forecast: int = 0  # when: dates where fewer than 85% of the trials finished within MAX_DAYS
    pending: int = 0  # when: dates whose 85% line falls after the forecast's start (not known yet)

    @property
    def inside(self) -> int:
        return sum(p.inside for p in self.points)

    def expected_range(self) -> tuple[int, int] | None:
        """Central 95% range of the count inside for a forecaster whose 85% line is right
        (binomial; the back-tests overlap, so it is a guide, not a test)."""
        n = len(self.points)
        if not n:
            return None
        from scipy.stats import binom

        low, high = binom.ppf([0.025, 0.975], n, LINE / 100)
        return int(low), int(high)


def candidate_days(
    start_day: dt.date, history_first: dt.date, weeks: int, every: int, gap: int
) -> list[dt.date]:
    """start_day - gap, then every `every` days back, while a full window fits; oldest first."""
    last = start_day - dt.timedelta(days=gap)
    earliest = history_first + dt.timedelta(days=7 * weeks)
    n = (last - earliest).days // every + 1 if last >= earliest else 0
    return [last - dt.timedelta(days=every * j) for j in range(n)][::-1]


def _windows(inputs: Inputs, days: list[dt.date], weeks: int) -> list[tuple[np.ndarray, int, int]]:
    """For each day: the daily throughput of the `weeks` before it as known at its start, and
    the window's bounds (every window counted in one pass: one row of day bounds per date)."""
    if not days:
        return []
    bounds = np.stack(
        [inputs.grid.days(day - dt.timedelta(days=7 * weeks), 7 * weeks) for day in days]
    )
    daily = inputs.completions.count(bounds[:, :-1], bounds[:, 1:], bounds[:, -1:])
    return [(daily[i], int(b[0]), int(b[-1])) for i, b in enumerate(bounds)]


def how_many(
    inputs: Inputs, start_day: dt.date, weeks: int, horizon: int, every: int, trials: int
) -> Backtest:
    """'How many in the next `horizon` days', from every `every` days whose horizon has passed."""
    days = candidate_days(start_day, inputs.grid.first, weeks, every, horizon)
    out = Backtest("how_many", every, trials, horizon, None)
    if not days:
        return out
    b = inputs.grid.bounds
    k = np.array([inputs.grid.index(d) for d in days])
    lo, hi = b[k], b[k + horizon]
    actual = inputs.completions.count(lo, hi, hi)  # done in the horizon, as known at its end
    windows = _windows(inputs, days, weeks)
    for day, outcome, (daily, w_start, w_end) in zip(days, actual, windows, strict=True):
        # a few dozen dates, each vectorised over its trials
        seed = mc.seed_for(inputs.stream_id, f"backtest:how_many:{horizon}", w_start, w_end)
        result = mc.how_many(daily, horizon, trials, seed)
        out.points.append(
            Point(
                day,
                int(daily.sum()),
                dict(result.lines),
                horizon,
                int(outcome),
                int(outcome) >= result.lines[LINE],
            )
        )
    return out


def when(
    inputs: Inputs,
    start_day: dt.date,
    weeks: int,
    items: int | None,
    scope: str,
    every: int,
    trials: int,
) -> Backtest:
    """'When will the open items (or N items) be done', from every `every` days back."""
    days = candidate_days(start_day, inputs.grid.first, weeks, every, every)
    out = Backtest("when", every, trials, None, None if items is not None else scope)
    b = inputs.grid.bounds
    last = inputs.grid.index(start_day)
    ks = [inputs.grid.index(day) for day in days]
    open_then = inputs.open_counts(b[ks], scope) if items is None else np.full(len(ks), items)
    no_forecast = pending = 0
    windows = _windows(inputs, days, weeks)
    for day, k, n_open, (daily, w_start, w_end) in zip(days, ks, open_then, windows, strict=True):
        n = int(n_open)  # a few dozen dates, each vectorised over its trials
        if n == 0:  # nothing open: nothing to forecast
            continue
        what = f"backtest:when:{n if items is not None else scope}"
        forecast = mc.when(daily, n, trials, mc.seed_for(inputs.stream_id, what, w_start, w_end))
        d85 = forecast.lines[LINE]
        if d85 is None:
            no_forecast += 1
            continue
        if k + d85 > last:  # the 85% date ends after the forecast's start: not known yet
            pending += 1
            continue
        # items done since `day`, as known at the end of each later day up to the forecast's start
        ends = b[k + 1 : last + 1]
        done = inputs.completions.count(np.full(len(ends), b[k]), ends, ends)
        reached = np.flatnonzero(done >= n)
        actual = int(reached[0]) + 1 if len(reached) else None
        out.points.append(
            Point(day, int(daily.sum()), dict(forecast.lines), n, actual, bool(done[d85 - 1] >= n))
        )
    return Backtest(out.kind, every, trials, None, out.scope, out.points, no_forecast, pending)
