"""Forecast charts: the trials' outcomes with their percentile lines, back-tests, the SLE."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from generator.charts.spec import Chart
from generator.charts.theme import GRID, MUTED, SERIES, add_level_line, layout, text
from generator.forecast.backtest import LINE, Backtest
from generator.forecast.montecarlo import PERCENTS
from generator.forecast.plan import HowManyForecast, WhenForecast
from generator.forecast.sle import AT_RISK, RISK_WORDS, RISKS, WATCH

LINE_COLOURS = {50: "#1f5f8b", 70: "#4a8fa8", 85: "#c98a1b", 95: "#b3412f"}
RISK_STYLE = {  # colour and marker: never colour alone
    "on_track": ("#2e7d4f", "circle"),
    "watch": ("#c98a1b", "square"),
    "at_risk": ("#d2561e", "diamond"),
    "breached": ("#9b1c1c", "x"),
}


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


def sle_monthly(monthly: pd.DataFrame, sle_days: float) -> Chart:
    """Share of each month's completed items that finished within the SLE."""
    data = []
    for met, name, colour in (
        (True, "85% or more within", SERIES[0]),
        (False, "below 85%", "#c98a1b"),
    ):
        rows = monthly[(monthly["share"] >= 0.85) == met] if len(monthly) else monthly
        data.append(
            {
                "type": "bar",
                "name": name,
                "x": [m.isoformat() for m in rows["month"]],
                "y": rows["share"].astype(float).tolist(),
                "customdata": rows["count"].astype(int).tolist(),
                "marker": {"color": colour, "pattern": {"shape": "" if met else "/"}},
                "hovertemplate": "%{x|%b %Y}: %{y:.0%} of %{customdata} items<extra></extra>",
            }
        )
    lay = layout(
        "Items finished within the SLE, per month",
        "share of completed items",
        hovermode="closest",
        barmode="overlay",
    )
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis"]["range"] = [0, 1.05]
    spec: dict[str, Any] = {"data": data, "layout": lay}
    add_level_line(spec, 0.85, LINE_COLOURS[85], "expected: 85%", dash="dash", side="left")
    below = int((monthly["share"] < 0.85).sum()) if len(monthly) else 0
    return Chart(
        id="forecast-sle-monthly",
        title="Items finished within the SLE, per month",
        caption=(
            f"Share of the items completed each month (local months, each item as known at the end of its calendar quarter) "
            f"whose cycle time was at most the SLE of {sle_days:.1f} days. The dashed line is the expectation: 85%."
        ),
        finding=f"{below} of {len(monthly)} months fell short of 85% within {sle_days:.1f} days.",
        spec=spec,
        table=monthly[["month", "count", "within", "share"]].copy()
        if len(monthly)
        else pd.DataFrame(columns=["month", "count", "within", "share"]),
        download="sle-per-month.csv",
        columns={
            "month": "month",
            "count": "items completed",
            "within": "within the SLE",
            "share": "share within",
        },
    )


def aging_by_risk(
    aging: pd.DataFrame, stages: list[tuple[str, str]], sle_days: float | None, privacy: bool
) -> Chart:
    """Age of each item in progress by its stage, coloured and shaped by its risk of breaching the SLE."""
    names = dict(stages)
    present = set(aging["stage"]) if len(aging) else set()
    order = [sid for sid, _ in stages if sid in present] + (
        ["unmapped"] if "unmapped" in present else []
    )
    position = {sid: i for i, sid in enumerate(order)}
    jitter = np.random.default_rng(7).uniform(-0.25, 0.25, len(aging))
    data = []
    for risk in RISKS:
        rows = (
            np.flatnonzero((aging["risk"] == risk).to_numpy()) if len(aging) else np.zeros(0, int)
        )
        colour, symbol = RISK_STYLE[risk]
        sub = aging.iloc[rows]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{RISK_WORDS[risk]} ({len(rows)})",
                "x": [position[s] + jitter[i] for s, i in zip(sub["stage"], rows, strict=True)],
                "y": sub["age_days"].round(3).tolist(),
                "text": [
                    text(i) if privacy or not isinstance(t, str) else text(f"{i}: {t}")
                    for i, t in zip(sub["item_id"], sub["title"], strict=True)
                ],
                "customdata": [text(names.get(s, s)) for s in sub["stage"]],
                "marker": {
                    "size": 8,
                    "color": colour,
                    "symbol": symbol,
                    "line": {"width": 0.5, "color": "#fff"},
                },
                "hovertemplate": "%{text}<br>%{customdata}: %{y:.1f} d since commitment<extra>"
                + RISK_WORDS[risk]
                + "</extra>",
            }
        )
    lay = layout(
        "Aging work in progress against the SLE",
        "age since commitment (days)",
        x_type="linear",
        hovermode="closest",
    )
    # the legend above the plot: on a phone the stage names turn sideways under it
    lay["legend"] = {
        "orientation": "h",
        "x": 0,
        "y": 1.02,
        "yanchor": "bottom",
        "font": {"size": 12},
    }
    lay["margin"] = {**lay["margin"], "t": 100}
    lay["height"] = 400
    lay["xaxis"].update(
        {
            "tickmode": "array",
            "tickvals": list(range(len(order))),
            "ticktext": [text(names.get(s, s)) for s in order],
            "range": [-0.6, max(len(order) - 0.4, 0.6)],
            "showgrid": False,
            "gridcolor": GRID,
        }
    )
    spec: dict[str, Any] = {"data": data, "layout": lay}
    if sle_days:
        for share, label, colour in (
            (WATCH, "50% of the SLE", RISK_STYLE["watch"][0]),
            (AT_RISK, "85% of the SLE", RISK_STYLE["at_risk"][0]),
            (1.0, f"SLE {sle_days:.1f} d", RISK_STYLE["breached"][0]),
        ):
            add_level_line(spec, share * sle_days, colour, text(label), dash="dash")
    counts = {r: int((aging["risk"] == r).sum()) if len(aging) else 0 for r in RISKS}
    table = (
        aging[["item_id", "stage", "age_days", "sle_share", "risk"]].copy()
        if len(aging)
        else pd.DataFrame(columns=["item_id", "stage", "age_days", "sle_share", "risk"])
    )
    return Chart(
        id="forecast-aging-risk",
        title="Aging work in progress against the SLE",
        caption=(
            "Each mark is an item in progress at the forecast's start: its stage (x, spread sideways) and its age since "
            "commitment (y). Under 50% of the SLE it is on track (circle), from 50% watch (square), from 85% at risk "
            "(diamond), beyond the SLE breached (cross)."
        ),
        finding=", ".join(f"{counts[r]} {RISK_WORDS[r]}" for r in RISKS) + " (items in progress).",
        spec=spec,
        table=table,
        download="aging-by-risk.csv",
        columns={
            "item_id": "item",
            "stage": "stage",
            "age_days": "age (days)",
            "sle_share": "share of the SLE",
            "risk": "risk",
        },
    )
