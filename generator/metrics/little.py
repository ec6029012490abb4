"""Little's law checks for one period: is the system stable enough for its averages to forecast?

Little's law (average WIP = throughput x average time in the system) holds for any stable
system, and a period's averages describe what new work will take only when the period was
roughly stable. Three checks, each with `holds` and a plain-language `note`:

- arrivals: items committed per week vs items completed per week (flow in = flow out);
- wip: WIP at the period's start vs at its end (as_of);
- littles_law: average WIP vs throughput × mean cycle time (what Little's law predicts).

A check holds when the two figures differ by at most `tolerance` of the larger one (default
0.2, i.e. 20%), or by at most one item (for counts and WIP): one item is noise, not a trend.
A check whose figures are missing has holds = None.
"""

from __future__ import annotations

from typing import Any

from generator.metrics.aggregates import PeriodResult
from generator.metrics.periods import DAY_NS

SLACK_ITEMS = 1.0  # a difference of one item never fails a check


def _gap(a: float, b: float) -> float:
    """|a - b| as a share of the larger magnitude (0 when both are 0)."""
    top = max(abs(a), abs(b))
    return abs(a - b) / top if top else 0.0


def _num(x: float) -> str:
    return f"{x:.1f}".removesuffix(".0")


def _arrivals(summary: dict[str, Any], weeks: float | None, tolerance: float) -> dict[str, Any]:
    arrived = (summary.get("arrivals") or {}).get("committed_per_week")
    left = summary.get("throughput_per_week")
    out: dict[str, Any] = {
        "committed_per_week": arrived,
        "completed_per_week": left,
        "relative_difference": None,
    }
    if arrived is None or left is None:
        return {
            **out,
            "holds": None,
            "note": "Commitments or completions per week are not known for this period, so flow balance cannot be checked.",
        }
    gap = _gap(arrived, left)
    items_apart = abs(arrived - left) * weeks if weeks else None
    holds = gap <= tolerance or (items_apart is not None and items_apart <= SLACK_ITEMS)
    out.update(relative_difference=gap, holds=holds)
    a, d = _num(arrived), _num(left)
    if holds:
        note = f"Commitments ({a} a week) and completions ({d} a week) were balanced within {tolerance:.0%}, as Little's law assumes."
    elif arrived > left:
        note = (
            f"More work was committed ({a} a week) than finished ({d} a week): WIP was building up, "
            "so average times understate what new work will take."
        )
    else:
        note = (
            f"Less work was committed ({a} a week) than finished ({d} a week): the team was draining WIP "
            "started earlier, so this throughput is above what the arrival rate can sustain."
        )
    return {**out, "note": note}


def _wip(summary: dict[str, Any], tolerance: float) -> dict[str, Any]:
    start, end = summary.get("wip_start"), summary.get("wip_now")
    out: dict[str, Any] = {"start": start, "end": end, "change": None, "relative_difference": None}
    if start is None or end is None:
        return {
            **out,
            "holds": None,
            "note": "WIP at the start or end of the period is not known, so its stability cannot be checked.",
        }
    gap = _gap(start, end)
    holds = gap <= tolerance or abs(end - start) <= SLACK_ITEMS
    out.update(change=end - start, relative_difference=gap, holds=holds)
    s, e = _num(start), _num(end)
    if holds:
        note = f"WIP was stable ({s} at the start of the period, {e} at the end)."
    elif end > start:
        note = f"WIP grew from {s} to {e} over the period: more work started than finished, so average times understate what new work will take."
    else:
        note = (
            f"WIP fell from {s} to {e} over the period: more work finished than started, "
            "so throughput was above what the arrival rate can sustain and may fall."
        )
    return {**out, "note": note}


def _law(summary: dict[str, Any], tolerance: float) -> dict[str, Any]:
    wip = summary.get("wip_mean")
    rate = summary.get("throughput_per_week")
    cycle = (summary.get("cycle_time") or {}).get("mean")
    implied = rate / 7 * cycle if rate is not None and cycle is not None else None
    out: dict[str, Any] = {"wip_mean": wip, "implied_wip": implied, "relative_difference": None}
    if wip is None or implied is None or rate is None or cycle is None:
        return {
            **out,
            "holds": None,
            "note": "Average WIP, throughput or mean cycle time is not known, so Little's law cannot be checked.",
        }
    gap = _gap(wip, implied)
    holds = gap <= tolerance or abs(wip - implied) <= SLACK_ITEMS
    out.update(relative_difference=gap, holds=holds)
    w, i = _num(wip), _num(implied)
    per_day, days = f"{rate / 7:.2f}", f"{cycle:.1f}"
    if holds:
        note = f"Average WIP ({w}) matches throughput × mean cycle time ({per_day} a day × {days} days = {i}) within {tolerance:.0%}, as Little's law predicts for a stable system."
    elif wip > implied:
        note = (
            f"Average WIP ({w}) is above throughput × mean cycle time ({per_day} a day × {days} days = {i}): "
            "work is ageing in progress, so the cycle times of finished items understate how long work takes."
        )
    else:
        note = (
            f"Average WIP ({w}) is below throughput × mean cycle time ({per_day} a day × {days} days = {i}): "
            "the period finished work started long before it, so its cycle times reflect older work."
        )
    return {**out, "note": note}


def littles_law_check(period: PeriodResult, tolerance: float = 0.2) -> dict[str, Any]:
    """The three stability checks of one period (see the module docstring); `holds` is True only
    when every check that could be made holds, None when none could be made."""
    summary = period.summary
    span = period.span
    weeks = max(span.as_of - span.start, 0) / (7 * DAY_NS) or None
    checks = {
        "arrivals": _arrivals(summary, weeks, tolerance),
        "wip": _wip(summary, tolerance),
        "littles_law": _law(summary, tolerance),
    }
    made = [c["holds"] for c in checks.values() if c["holds"] is not None]
    return {"tolerance": tolerance, "holds": all(made) if made else None, **checks}
