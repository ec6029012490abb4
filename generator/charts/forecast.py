"""Forecast charts: the trials' outcomes with their percentile lines and the back-tests
(the service level expectation's charts are in charts/sle.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from generator.charts.spec import Chart
from generator.charts.theme import MUTED, SERIES, layout, text
from generator.forecast.backtest import LINE, Backtest
from generator.forecast.montecarlo import PERCENTS
from generator.forecast.plan import HowManyForecast, WhenForecast

LINE_COLOURS = {50: "#1f5f8b", 70: "#4a8fa8", 85: "#c98a1b", 95: "#b3412f"}


def _vline(spec: dict[str, Any], x: Any, colour: str, label: str, row: int) -> None:
    """A labelled vertical line across the plot at x (labels staggered by `row`)."""
    spec["layout"]["shapes"].append(
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": x,
            "x1": x,
            "y0": 0,
            "y1": 1,
            "line": {"color": colour, "width": 1.6, "dash": "dash"},
        }
    )
    spec["layout"]["annotations"].append(
        {
            "x": x,
            "xref": "x",
            "y": 1.0 - 0.08 * row,
            "yref": "paper",
            "text": text(label),
            "showarrow": False,
            "xanchor": "left",
            "yanchor": "top",
            "font": {"size": 11, "color": colour},
            "bgcolor": "rgba(255,255,255,0.75)",
        }
    )


def _share_axis(lay: dict[str, Any], title: str) -> None:
    lay["yaxis2"] = {
        "title": {"text": text(title), "font": {"size": 12, "color": MUTED}},
        "overlaying": "y",
        "side": "right",
        "range": [0, 1.02],
        "tickformat": ".0%",
        "tickmode": "array",
        "tickvals": [0, 0.25, 0.5, 0.75, 1.0],
        "showgrid": False,
        "zeroline": False,
        "automargin": True,
    }
    lay["yaxis"]["tickformat"] = ".1%"
    lay["margin"]["r"] = 56


def how_many(f: HowManyForecast, chart_id: str, download: str) -> Chart:
    """Items done by the date in each trial: a histogram, the share finishing at least n, the lines."""
    r = f.result
    n = np.arange(len(r.counts))
    shown = np.flatnonzero(r.counts)
    lo, hi = (int(shown[0]), int(shown[-1])) if len(shown) else (0, 0)
    n = n[lo : hi + 1]
    share = r.counts[lo : hi + 1] / r.trials
    at_least = (r.trials - np.concatenate(([0], np.cumsum(r.counts)))[lo : hi + 1]) / r.trials
    data = [
        {
            "type": "bar",
            "name": "trials finishing exactly n items",
            "x": n.tolist(),
            "y": share.tolist(),
            "marker": {"color": SERIES[0], "opacity": 0.55},
            "hovertemplate": "%{x} items: %{y:.1%} of trials<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "trials finishing at least n items",
            "x": n.tolist(),
            "y": at_least.tolist(),
            "yaxis": "y2",
            "line": {"color": "#1d2329", "width": 2, "shape": "hv"},
            "hovertemplate": "at least %{x} items: %{y:.1%} of trials<extra></extra>",
        },
    ]
    lay = layout(f"Items done {f.label}", "share of trials", x_type="linear", hovermode="x unified")
    lay["xaxis"]["title"] = {"text": "items done", "font": {"size": 12, "color": MUTED}}
    lay["bargap"] = 0.05
    _share_axis(lay, "share finishing at least n")
    spec: dict[str, Any] = {"data": data, "layout": lay}
    for row, p in enumerate(sorted(PERCENTS, reverse=True)):
        _vline(spec, r.lines[p], LINE_COLOURS[p], f"{p}%: ≥ {r.lines[p]:,}", row)
    table = pd.DataFrame({"items": n, "trials": r.counts[lo : hi + 1], "share_at_least": at_least})
    return Chart(
        id=chart_id,
        title=f"Items done {f.label}",
        caption=(
            f"Each of {r.trials:,} trials adds up {r.horizon_days} days, each drawn at random from the window's days. "
            "Bars: the share of trials that finished exactly that many items; line: the share that finished at least "
            "that many. A dashed p% line marks the most items that at least p% of the trials reached."
        ),
        finding=(
            f"In 85% of trials at least {r.lines[85]:,} items are done; in 50%, at least {r.lines[50]:,}; "
            f"in 95%, at least {r.lines[95]:,}."
        ),
        spec=spec,
        table=table,
        download=download,
        table_caption="Trials by items done",
        columns={
            "items": "items done",
            "trials": "trials",
            "share_at_least": "share finishing at least this many",
        },
    )


def when(f: WhenForecast, chart_id: str, download: str) -> Chart:
    """The day each trial finished: a histogram by date, the share finished by each date, the lines."""
    r = f.result
    days = np.arange(1, len(r.counts) + 1)
    shown = np.flatnonzero(r.counts)
    lo, hi = (int(shown[0]), int(shown[-1])) if len(shown) else (0, -1)
    days = days[lo : hi + 1]
    dates = [(f.start_day + dt.timedelta(days=int(d) - 1)).isoformat() for d in days]
    share = r.counts[lo : hi + 1] / r.trials
    by = np.cumsum(r.counts)[lo : hi + 1] / r.trials
    data = [
        {
            "type": "bar",
            "name": "trials finishing that day",
            "x": dates,
            "y": share.tolist(),
            "marker": {"color": SERIES[0], "opacity": 0.55},
            "hovertemplate": "%{x|%d %b %Y}: %{y:.1%} of trials finish<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "trials finished by that day",
            "x": dates,
            "y": by.tolist(),
            "yaxis": "y2",
            "line": {"color": "#1d2329", "width": 2, "shape": "hv"},
            "hovertemplate": "by %{x|%d %b %Y}: %{y:.1%} of trials<extra></extra>",
        },
    ]
    lay = layout(f"When {f.label} will be done", "share of trials", hovermode="x unified")
    lay["bargap"] = 0.05
    _share_axis(lay, "share finished by the date")
    spec: dict[str, Any] = {"data": data, "layout": lay}
    for row, p in enumerate(PERCENTS):
        d = f.date(r.lines[p])
        if d is not None and r.items > 0:
            _vline(spec, d.isoformat(), LINE_COLOURS[p], f"{p}%: {d.day} {d:%b}", row)
    never = (
        f" {r.never:,} trials had not finished within the simulated three years." if r.never else ""
    )
    p85 = f.date(r.lines[85])
    table = pd.DataFrame({"date": dates, "trials": r.counts[lo : hi + 1], "share_by": by})
    return Chart(
        id=chart_id,
        title=f"When {f.label} will be done",
        caption=(
            f"Each of {r.trials:,} trials draws one day of throughput after another from the window's days until "
            f"{r.items:,} items are done. Bars: the share of trials finishing on each date; line: the share finished "
            f"by then. A dashed p% line marks the first date by which at least p% of the trials had finished.{never}"
        ),
        finding=(
            f"85% of trials finish by {p85.day} {p85:%b %Y}."
            if p85 is not None and r.items > 0
            else "Fewer than 85% of the trials finish within three years."
        ),
        spec=spec,
        table=table,
        download=download,
        table_caption="Trials by finishing date",
        columns={
            "date": "date",
            "trials": "trials finishing that day",
            "share_by": "share finished by then",
        },
    )


def backtest(b: Backtest, chart_id: str, download: str) -> Chart:
    """Each back-tested forecast's 85% line against what happened."""
    pts = b.points
    x = [p.day.isoformat() for p in pts]
    if b.kind == "how_many":
        line = [p.lines[LINE] for p in pts]
        half = [p.lines[50] for p in pts]
        actual: list[int | None] = [p.actual for p in pts]
        y_title, unit = f"items done in the next {b.horizon_days} days", "items"
    else:
        line = [p.lines[LINE] for p in pts]
        half = [p.lines[50] for p in pts]
        actual = [p.actual for p in pts]
        y_title, unit = "days until all were done", "days"
    inside = [p.inside for p in pts]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": f"{LINE}% line",
            "x": x,
            "y": line,
            "marker": {
                "symbol": "line-ew-open",
                "size": 16,
                "color": LINE_COLOURS[LINE],
                "line": {"width": 3, "color": LINE_COLOURS[LINE]},
            },
            "hovertemplate": f"{LINE}% line: %{{y}} {unit}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "name": "50% line",
            "x": x,
            "y": half,
            "marker": {
                "symbol": "line-ew-open",
                "size": 10,
                "color": LINE_COLOURS[50],
                "line": {"width": 2, "color": LINE_COLOURS[50]},
            },
            "hovertemplate": f"50% line: %{{y}} {unit}<extra></extra>",
        },
    ]
    for flag, name, colour, symbol in (
        (True, "what happened: inside the 85% range", "#2e7d4f", "circle"),
        (False, "what happened: outside it", "#9b1c1c", "x"),
    ):
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": name,
                "x": [xi for xi, ok in zip(x, inside, strict=True) if ok is flag],
                "y": [a for a, ok in zip(actual, inside, strict=True) if ok is flag],
                "marker": {"symbol": symbol, "size": 8, "color": colour},
                "hovertemplate": f"happened: %{{y}} {unit}<extra></extra>",
            }
        )
    lay = layout("Back-tested forecasts", y_title, hovermode="closest")
    table = pd.DataFrame(
        {
            "as_of": x,
            "p85": line,
            "p50": half,
            "actual": actual,
            "inside": ["yes" if i else "no" for i in inside],
        }
    )
    what = (
        f"items done in the {b.horizon_days} days after each date"
        if b.kind == "how_many"
        else "days from each date until as many items as were then open were done"
    )
    return Chart(
        id=chart_id,
        title="Back-tested forecasts" + (" (how many)" if b.kind == "how_many" else " (when)"),
        caption=(
            f"From every {b.every_days} days back through the history ({b.trials:,} trials each), the forecast of the {what}, "
            f"made from what was known that day, against what happened. Inside the {LINE}% range: "
            + (
                "at least the 85% line's items were done."
                if b.kind == "how_many"
                else "all were done by the 85% line's day."
            )
        ),
        finding=f"{b.inside} of {len(pts)} back-tested forecasts landed inside the {LINE}% range.",
        spec={"data": data, "layout": lay},
        table=table,
        download=download,
        columns={
            "as_of": "forecast made on",
            "p85": f"85% line ({unit})",
            "p50": f"50% line ({unit})",
            "actual": f"happened ({unit})",
            "inside": "inside the 85% range",
        },
    )
