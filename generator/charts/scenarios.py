"""What-if charts: a scenario's projected lead-time distribution against the measured one."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from generator.charts.compare import ecdf_line
from generator.charts.spec import Chart
from generator.charts.theme import MUTED, SERIES, add_level_line, layout
from generator.metrics.compare import ecdf


def lead_time_chart(
    chart_id: str,
    name: str,
    period_label: str,
    current_days: np.ndarray,
    projected_days: np.ndarray,
    figures: dict[str, Any],
    download: str,
) -> Chart:
    """Both distributions as cumulative shares, the 50% and 85% lines, and the 95% intervals of the
    projected median and p85 as bands on those lines (where the projected curve crosses them)."""
    lead = figures["lead_time"]
    series = (
        (f"measured, {period_label}", current_days, MUTED, "dot"),
        (f"projected: {name}", projected_days, SERIES[0], "solid"),
    )
    data: list[dict[str, Any]] = []
    labels, xs, ys = [], [], []
    for label, values, colour, dash in series:
        x, y = ecdf(values)
        data.append(ecdf_line(label, x, y, colour, dash))
        labels += [label] * len(x)
        xs.append(np.asarray(x, dtype=np.float64))
        ys.append(np.asarray(y, dtype=np.float64))
    band_x: list[float | None] = []
    band_y: list[float | None] = []
    for key, share in (("p50_interval", 0.5), ("p85_interval", 0.85)):
        if lead.get(key):
            band_x += [lead[key][0], lead[key][1], None]
            band_y += [share, share, None]
    if band_x:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": "95% interval of the projected median and p85",
                "x": band_x,
                "y": band_y,
                "line": {"color": SERIES[0], "width": 9},
                "opacity": 0.3,
                "hoverinfo": "skip",
            }
        )
    lay = layout(
        "Lead time: share of items done within N days",
        "share of completed items",
        x_type="linear",
        hovermode="closest",
    )
    lay["yaxis"]["tickformat"] = ".0%"
    lay["yaxis"]["range"] = [0, 1.02]
    lay["xaxis"]["title"] = {"text": "days", "font": {"size": 12, "color": MUTED}}
    spec = {"data": data, "layout": lay}
    add_level_line(spec, 0.5, MUTED, "50% (median)", dash="dot", width=1)
    add_level_line(spec, 0.85, MUTED, "85%", dash="dot", width=1)
    now, then = lead["current"], lead["projected"]
    finding = (
        f"Projected lead time p85 {then['p85']:.1f} days against {now['p85']:.1f} measured; "
        f"median {then['p50']:.1f} against {now['p50']:.1f}."
        if now["p85"] is not None and then["p85"] is not None
        else "No completed items to project."
    )
    return Chart(
        id=chart_id,
        title=f"{name}: projected lead time",
        caption=(
            f"For each number of days (x), the share of {period_label}'s completed items done within "
            "it: as measured (dotted) and as projected (solid). Where a curve crosses the 85% line is "
            "its p85; the band on the line is the projected p85's 95% interval. A curve further left "
            "is faster."
        ),
        finding=finding,
        spec=spec,
        table=pd.DataFrame(
            {"series": labels, "days": np.concatenate(xs), "share_within": np.concatenate(ys)},
            columns=["series", "days", "share_within"],
        ),
        download=download,
        columns={"series": "series", "days": "days", "share_within": "share done within"},
    )
