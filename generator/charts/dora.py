"""DORA trend charts from the weekly series of metrics/dora.py."""

from __future__ import annotations

from typing import Any

import pandas as pd

from generator.charts.spec import Chart
from generator.charts.theme import SERIES, add_events, layout


def _x(weekly: pd.DataFrame, timezone: str) -> list[str]:
    return (
        pd.to_datetime(weekly["start"], unit="ns", utc=True)
        .dt.tz_convert(timezone)
        .dt.strftime("%Y-%m-%d")
        .tolist()
        if len(weekly)
        else []
    )


def weekly_chart(
    weekly: pd.DataFrame,
    column: str,
    chart_id: str,
    title: str,
    y_title: str,
    caption: str,
    timezone: str,
    events: list[dict[str, Any]],
    kind: str = "bar",
    percent: bool = False,
) -> Chart:
    x = _x(weekly, timezone)
    y = weekly[column].tolist() if len(weekly) else []
    trace: dict[str, Any] = {
        "type": kind,
        "name": title,
        "x": x,
        "y": y,
        "marker": {"color": SERIES[0]},
        "hovertemplate": ("%{y:.0%}" if percent else "%{y:.2f}") + "<extra></extra>",
    }
    if kind == "scatter":
        trace.update(
            {
                "mode": "lines+markers",
                "line": {"color": SERIES[0], "width": 2},
                "marker": {"size": 4},
                "connectgaps": False,
            }
        )
    lay = layout(title, y_title)
    if percent:
        lay["yaxis"]["tickformat"] = ".0%"
    spec = {"data": [trace], "layout": lay}
    add_events(spec, events)
    table = (
        weekly[["week", column]].copy() if len(weekly) else pd.DataFrame(columns=["week", column])
    )
    values = [v for v in y if v is not None and v == v]
    finding = (
        f"{title}: {len(values)} weeks with a value; latest {values[-1]:.2f}."
        if values
        else f"{title}: no data."
    )
    return Chart(
        id=chart_id,
        title=title,
        caption=caption,
        finding=finding,
        spec=spec,
        table=table,
        download=f"{chart_id.removeprefix('dora-')}.csv",
        columns={"week": "ISO week", column: y_title},
    )
