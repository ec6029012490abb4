"""A stream's forecasts: the window, "how many by a date", "when will N be done", back-tests, SLE.

`forecast_stream` makes everything for the stream's own as_of; `forecast_at` makes the two kinds
of forecast at any earlier instant (reports, frozen at their period's as_of).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from generator.errors import Location, Problem
from generator.forecast import backtest as bt
from generator.forecast import montecarlo as mc
from generator.forecast.history import Inputs
from generator.forecast.sle import ServiceLevel, service_level, window_cycle_days
from generator.forecast.window import Window, window
from generator.metrics.aggregates import PeriodResult
from generator.metrics.engine import ItemResult
from generator.metrics.periods import local_date
from generator.validate.schema import HowMany as HowManyDef
from generator.validate.schema import StreamDef
from generator.validate.schema import WhenDone as WhenDef

SCOPE_WORDS = {"committed": "in progress", "all": "open"}


@dataclass(frozen=True)
class HowManyForecast:
    label: str
    date: dt.date  # the last day counted
    result: mc.HowMany


@dataclass(frozen=True)
class WhenForecast:
    label: str
    scope: str | None  # committed | all; None for a fixed number of items
    start_day: dt.date
    result: mc.When

    def date(self, day: int | None) -> dt.date | None:
        """The date of forecast day `day` (1 = start_day); day 0 (nothing to do) is the day before."""
        return None if day is None else self.start_day + dt.timedelta(days=day - 1)


@dataclass
class Forecast:
    """Everything forecast for one stream as of the start of `start_day` (`start`, ns)."""

    inputs: Inputs
    start: int
    start_day: dt.date
    trials: int
    window: Window | None
    how_many: list[HowManyForecast] = field(default_factory=list)
    when: list[WhenForecast] = field(default_factory=list)
    backtests: list[bt.Backtest] = field(default_factory=list)
    sle: ServiceLevel | None = None
    problems: list[Problem] = field(default_factory=list)


def start_of(inputs: Inputs, as_of: int) -> tuple[int, dt.date]:
    """A forecast starts at the local midnight that begins as_of's day (whole days only)."""
    day = local_date(as_of, inputs.definition.timezone)
    return int(inputs.grid.bounds[inputs.grid.index(day)]), day


def horizon_end(entry: HowManyDef, start_day: dt.date) -> dt.date:
    if entry.date is not None:
        return entry.date
    days = 7 * entry.weeks if entry.weeks is not None else int(entry.days or 0)
    return start_day + dt.timedelta(days=days - 1)


def how_many_label(entry: HowManyDef, end: dt.date) -> str:
    if entry.label:
        return entry.label
    if entry.weeks is not None:
        return f"in the next {entry.weeks} week{'s' if entry.weeks != 1 else ''}"
    if entry.days is not None:
        return f"in the next {entry.days} day{'s' if entry.days != 1 else ''}"
    return f"by {end.day} {end:%b} {end.year}"


def when_label(entry: WhenDef, n: int) -> str:
    if entry.label:
        return entry.label
    if entry.items is not None:
        return f"{n:,} item{'s' if n != 1 else ''}"
    scope = entry.scope or "committed"
    return f"the {n:,} item{'s' if n != 1 else ''} {SCOPE_WORDS[scope]}"


def forecast_at(
    inputs: Inputs,
    as_of: int,
    how_many: tuple[HowManyDef, ...],
    when: tuple[WhenDef, ...],
    yaml_path: str = "",
) -> Forecast:
    """The window before as_of's day and the given forecasts, from what was known at its start."""
    settings = inputs.definition.forecast
    start, start_day = start_of(inputs, as_of)
    win = window(inputs.completions, inputs.grid, start_day, settings.window_weeks)
    out = Forecast(inputs, start, start_day, settings.trials, win)
    if win is None:
        return out
    sid = inputs.stream_id
    for i, entry in enumerate(how_many):
        end = horizon_end(entry, start_day)
        horizon = (end - start_day).days + 1
        if horizon < 1:
            out.problems.append(
                Problem(
                    "W310",
                    "warning",
                    Location(yaml_path),
                    f"forecast.how_many[{i}]: {end} is before the forecast's first day ({start_day}); not forecast",
                    "give a later date, or a horizon in weeks",
                )
            )
            continue
        seed = mc.seed_for(sid, f"how_many:{end.isoformat()}", win.start, win.end)
        result = mc.how_many(win.daily, horizon, settings.trials, seed)
        out.how_many.append(HowManyForecast(how_many_label(entry, end), end, result))
    for when_entry in when:
        scope = None if when_entry.items is not None else (when_entry.scope or "committed")
        n = (
            when_entry.items
            if when_entry.items is not None
            else len(inputs.open_at(start, scope or "").rows)
        )
        seed = mc.seed_for(sid, f"when:{n}:{scope or 'items'}", win.start, win.end)
        result_when = mc.when(win.daily, n, settings.trials, seed)
        out.when.append(WhenForecast(when_label(when_entry, n), scope, start_day, result_when))
    return out


def forecast_stream(
    stream_id: str,
    definition: StreamDef,
    yaml_path: str,
    result: ItemResult,
    periods: dict[str, PeriodResult],
    history: pd.DataFrame | None,
    as_of: int,
) -> Forecast:
    """The stream's forecasts as of its as_of, with back-tests and the service level expectation."""
    settings = definition.forecast
    inputs = Inputs.make(stream_id, definition, result)
    out = forecast_at(inputs, as_of, settings.how_many, settings.when, yaml_path)
    b = settings.backtest
    weeks = settings.window_weeks
    out.backtests.append(
        bt.how_many(inputs, out.start_day, weeks, b.horizon_days, b.every_days, b.trials)
    )
    first = settings.when[0] if settings.when else WhenDef()
    out.backtests.append(
        bt.when(
            inputs,
            out.start_day,
            weeks,
            first.items,
            first.scope or "committed",
            b.every_days,
            b.trials,
        )
    )
    win = out.window
    cycles = (
        window_cycle_days(inputs.completions, inputs.committed, win.start, win.end)
        if win is not None
        else np.zeros(0)
    )
    now = inputs.open_at(out.start, "committed")
    out.sle = service_level(
        settings.sle_days,
        definition.targets.cycle_time_p85_days,
        cycles,
        periods,
        history,
        definition.timezone,
        now,
        result.attrs(now.rows),
    )
    return out
