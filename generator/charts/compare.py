"""Comparison charts: overlaid distributions (ECDF) and the per-stage waterfall of the change in mean lead time."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from generator.charts.spec import Chart
from generator.charts.theme import MUTED, SERIES, layout, text
from generator.metrics.compare import ecdf
from generator.metrics.periods import DAY_NS


def ecdf_line(label: str, x: np.ndarray, y: np.ndarray, colour: str, dash: str) -> dict[str, Any]:
    """One cumulative distribution as a step line: share of items within x days."""
    return {
        "type": "scatter",
        "mode": "lines",
        "name": text(label),
        "x": np.round(x, 3).tolist(),
        "y": np.round(y, 4).tolist(),
        "line": {"color": colour, "width": 2.2, "shape": "hv", "dash": dash},
        "hovertemplate": f"{text(label)}: %{{y:.0%}} within %{{x:.1f}} d<extra></extra>",
    }


def ecdf_chart(
    kind: str, baseline: pd.DataFrame, current: pd.DataFrame, labels: tuple[str, str]
) -> Chart:
    """Lead or cycle time distributions of both periods' completed items, as cumulative shares."""
    column = {"lead": "lead_ns", "cycle": "cycle_ns"}[kind]
    name = {"lead": "Lead time", "cycle": "Cycle time"}[kind]
    data = []
    rows = []
    for (label, frame), colour, dash in zip(
        ((labels[0], baseline), (labels[1], current)),
        (MUTED, SERIES[0]),
        ("dot", "solid"),
        strict=True,
    ):
        values = (
            frame[column].to_numpy(dtype=np.float64, na_value=np.nan) / DAY_NS
            if len(frame)
            else np.zeros(0)
        )
        x, y = ecdf(values)
        data.append(ecdf_line(label, x, y, colour, dash))
        rows += [
            {"period": label, "days": float(a), "share_within": float(b)}
            for a, b in zip(x, y, strict=True)
        ]
    lay = layout(
        f"{name}: share of items completed within N days",
        "share of completed items",
        x_type="linear",
        hovermode="closest",
    )
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis"]["range"] = [0, 1.02]
    lay["xaxis"]["title"] = {"text": "days", "font": {"size": 12, "color": MUTED}}
    spec = {"data": data, "layout": lay}
    table = pd.DataFrame(rows, columns=["period", "days", "share_within"])
    start = "created" if kind == "lead" else "commitment"
    return Chart(
        id=f"compare-{kind}-time-ecdf",
        title=f"{name} distributions",
        caption=f"For each number of days (x), the share of the period's completed items whose {name.lower()} (from {start} to done) was at most that long. A curve further left is faster.",
        finding=f"{name} distributions of {labels[0]} and {labels[1]} overlaid.",
        spec=spec,
        table=table,
        download=f"{kind}-time-distributions.csv",
        columns={"period": "period", "days": "days", "share_within": "share completed within"},
    )


def waterfall(
    rows: list[dict[str, Any]],
    names: dict[str, str],
    lead_before: float | None,
    lead_after: float | None,
) -> Chart:
    """Each stage's contribution to the change in mean lead time, from baseline to current."""
    shown = [
        r
        for r in rows
        if r["change_days"] is not None
        and (abs(r["change_days"]) > 1e-9 or r["stage"] != "unmapped")
    ]
    x = ["baseline"] + [text(names.get(r["stage"], r["stage"])) for r in shown] + ["current"]
    y = [lead_before or 0.0] + [r["change_days"] for r in shown] + [lead_after or 0.0]
    measure = ["absolute"] + ["relative"] * len(shown) + ["total"]
    data = [
        {
            "type": "waterfall",
            "orientation": "v",
            "x": x,
            "y": np.round(np.array(y, dtype=float), 3).tolist(),
            "measure": measure,
            "connector": {"line": {"color": MUTED, "width": 1}},
            "increasing": {"marker": {"color": "#b3412f"}},
            "decreasing": {"marker": {"color": "#2e7d4f"}},
            "totals": {"marker": {"color": SERIES[0]}},
            "texttemplate": "%{delta:+.1f} d",
            "textposition": "outside",
            "hovertemplate": "%{x}: %{y:+.2f} d<extra></extra>",
        }
    ]
    lay = layout(
        "Where the change in mean lead time came from",
        "mean days per completed item",
        x_type="category",
        hovermode="closest",
    )
    spec = {"data": data, "layout": lay}
    table = pd.DataFrame(
        [
            {
                "stage": names.get(r["stage"], r["stage"]),
                "baseline_days": r["baseline_days"],
                "current_days": r["current_days"],
                "change_days": r["change_days"],
                "share_of_change": r["share_of_change"],
            }
            for r in rows
        ]
    )
    biggest = max(shown, key=lambda r: abs(r["change_days"])) if shown else None
    finding = (
        f"The largest contribution came from {names.get(biggest['stage'], biggest['stage'])}: {biggest['change_days']:+.1f} days per item."
        if biggest
        else "No change to explain."
    )
    return Chart(
        id="compare-waterfall",
        title="Contribution of each stage",
        caption="Mean lead time of the baseline's completed items, each stage's change in mean time per item (green shorter, red longer; the sign is printed too), and the current mean. The steps add up exactly.",
        finding=finding,
        spec=spec,
        table=table,
        download="stage-contributions.csv",
        columns={
            "stage": "stage",
            "baseline_days": "baseline mean (days)",
            "current_days": "current mean (days)",
            "change_days": "change (days)",
            "share_of_change": "share of the change",
        },
    )
