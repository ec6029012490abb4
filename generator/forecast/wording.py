"""The plain sentences of the forecasts, shared by the page, the home card, reports and metrics.json."""

from __future__ import annotations

import datetime as dt

from generator.forecast.backtest import LINE, Backtest
from generator.forecast.montecarlo import MAX_DAYS
from generator.forecast.plan import Forecast, HowManyForecast, WhenForecast
from generator.forecast.sle import ServiceLevel
from generator.forecast.window import Window


def day(value: dt.date | None) -> str:
    return "–" if value is None else f"{value.day} {value:%b} {value.year}"


def items(n: int) -> str:
    return f"{n:,} item{'s' if n != 1 else ''}"


def caveat(win: Window | None) -> str:
    """The lowered-confidence clause when throughput was not stable in the window ('' when it was)."""
    if win is None or win.stability.stable:
        return ""
    s = win.stability
    return (
        f" Throughput was not stable in the window ({s.first_per_day:.1f} items a day in its first half, "
        f"{s.second_per_day:.1f} in its second), so the real chance is less certain than the percentage says."
    )


def when_sentence(f: WhenForecast, win: Window | None, line: int = LINE) -> str:
    r = f.result
    if r.items == 0:
        what = "in progress" if f.scope == "committed" else "open"
        return f"Nothing to forecast: no items were {what} at the start of {day(f.start_day)}."
    d = r.lines[line]
    if d is None:
        share = 100 * (r.trials - r.never) / r.trials
        return (
            f"Fewer than {line}% of the trials finish {f.label} within {MAX_DAYS // 365} years "
            f"({share:.0f}% do): at the window's throughput there is no {line}% date."
        )
    half = r.lines[50]
    return (
        f"{line}% of trials finish {f.label} by {day(f.date(d))}"
        + (f"; half of them by {day(f.date(half))}" if half is not None and half != d else "")
        + "."
        + caveat(win)
    )


def how_many_sentence(f: HowManyForecast, win: Window | None, line: int = LINE) -> str:
    r = f.result
    horizon = f"by {day(f.date)}" if f.label.startswith("by ") else f"{f.label} (to {day(f.date)})"
    n = r.lines[line]
    return (
        f"In {line}% of trials at least {items(n)} {'is' if n == 1 else 'are'} done {horizon}"
        + (
            f"; half of the trials finish {r.lines[50]:,} or more"
            if r.lines[50] != r.lines[line]
            else ""
        )
        + "."
        + caveat(win)
    )


def backtest_sentence(b: Backtest) -> str:
    n = len(b.points)
    what = (
        f"how many items would be done in the next {b.horizon_days} days"
        if b.kind == "how_many"
        else "when the items then "
        + ("in progress" if b.scope == "committed" else "open")
        + " would be done"
        if b.scope
        else "when the same number of items would be done"
    )
    if not n:
        return f"No back-test of {what}: the history is too short for a full window and a known outcome."
    inside = b.inside
    return f"Of {n} back-tested forecasts of {what}, {inside} ({100 * inside / n:.0f}%) landed inside the {LINE}% range."


def calibration_verdict(b: Backtest) -> str:
    """How the count inside compares with what an honest 85% line would give."""
    expected = b.expected_range()
    if expected is None:
        return ""
    low, high = expected
    n, inside = len(b.points), b.inside
    if inside < low:
        return (
            f"An honest {LINE}% line would land inside {low} to {high} times out of {n}: "
            "these forecasts were too optimistic here, so read their dates and counts with caution."
        )
    if inside > high:
        return (
            f"An honest {LINE}% line would land inside {low} to {high} times out of {n}: "
            "these forecasts were more cautious than they needed to be."
        )
    return f"That is what an honest {LINE}% line gives ({low} to {high} times out of {n} would be usual)."


SOURCES = {
    "sle_days": "set in stream.yaml as forecast.sle_days",
    "target": "the cycle-time p85 target",
    "window": "the p85 of the cycle times in the forecast window",
}


def sle_sentence(s: ServiceLevel, current_label: str | None, current_share: float | None) -> str:
    if s.days is None:
        return "No service level expectation: no cycle-time target and no completed items in the window."
    out = f"85% of items finish within {s.days:.1f} days of commitment ({SOURCES[s.source]})."
    if current_label and current_share is not None:
        out += f" In {current_label}, {100 * current_share:.0f}% did."
    counts = s.risk_counts()
    total = sum(counts.values())
    if total:
        parts = []
        if counts["at_risk"]:
            parts.append(
                f"{counts['at_risk']} {'is' if counts['at_risk'] == 1 else 'are'} at risk of breaching it"
            )
        if counts["breached"]:
            parts.append(
                f"{counts['breached']} {'is' if counts['breached'] == 1 else 'are'} already beyond it"
            )
        out += (
            f" Of the {items(total)} in progress, {' and '.join(parts)}."
            if parts
            else f" None of the {items(total)} in progress is at risk of breaching it."
        )
    return out


def headline(f: Forecast) -> str:
    """The stream's main forecast line (the home card): its first 'when' forecast, else its first
    'how many'; '' when there is none."""
    if f.when:
        return when_sentence(f.when[0], f.window)
    if f.how_many:
        return how_many_sentence(f.how_many[0], f.window)
    return ""
