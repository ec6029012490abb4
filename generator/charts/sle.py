"""Service level expectation charts: the share within the SLE per month, and the aging
work in progress coloured (and marked) by its risk of breaching the SLE."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from generator.charts.forecast import LINE_COLOURS
from generator.charts.spec import Chart
from generator.charts.theme import GRID, SERIES, add_level_line, layout, text
from generator.forecast.sle import AT_RISK, RISK_WORDS, RISKS, WATCH

RISK_STYLE = {  # colour and marker: never colour alone
    "on_track": ("#2e7d4f", "circle"),
    "watch": ("#c98a1b", "square"),
    "at_risk": ("#d2561e", "diamond"),
    "breached": ("#9b1c1c", "x"),
}


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
    # each column once, as Python values (what iterating the frame gives), then plain indexing
    risk = aging["risk"].to_numpy(dtype=object) if len(aging) else np.zeros(0, dtype=object)
    stage, item_id, title = (
        aging[c].tolist() if len(aging) else [] for c in ("stage", "item_id", "title")
    )
    age = aging["age_days"].to_numpy(dtype=np.float64) if len(aging) else np.zeros(0)
    data = []
    for r in RISKS:
        rows = np.flatnonzero(risk == r)
        colour, symbol = RISK_STYLE[r]
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"{RISK_WORDS[r]} ({len(rows)})",
                "x": [position[stage[i]] + jitter[i] for i in rows],
                "y": np.round(age[rows], 3).tolist(),
                "text": [
                    text(item_id[i])
                    if privacy or not isinstance(title[i], str)
                    else text(f"{item_id[i]}: {title[i]}")
                    for i in rows
                ],
                "customdata": [text(names.get(stage[i], stage[i])) for i in rows],
                "marker": {
                    "size": 8,
                    "color": colour,
                    "symbol": symbol,
                    "line": {"width": 0.5, "color": "#fff"},
                },
                "hovertemplate": "%{text}<br>%{customdata}: %{y:.1f} d since commitment<extra>"
                + RISK_WORDS[r]
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
    counts = {r: int((risk == r).sum()) for r in RISKS}
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
