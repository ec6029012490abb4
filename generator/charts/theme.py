"""The site's one chart theme: calm colours, readable type, no plotly default template."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

INK = "#1d2329"
MUTED = "#5b6670"
GRID = "#e6e9ec"
ACCENT = "#1f5f8b"
SERIES = ["#1f5f8b", "#c98a1b", "#2e7d4f", "#8a4fb3", "#b3412f", "#4a8fa8", "#7a7a3a", "#5b6670"]
PERCENTILE_COLOURS = {"p50": "#1f5f8b", "p85": "#c98a1b", "p95": "#b3412f"}
FLOW_COLOURS = {
    "feature": "#1f5f8b",
    "defect": "#b3412f",
    "risk": "#c98a1b",
    "debt": "#8a4fb3",
    "other": "#9aa5af",
}
TARGET = "#2e7d4f"
FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif'


def text(value: Any) -> str:
    """Untrusted text for chart labels and hovers: escaped so plotly shows it and never parses tags."""
    return html.escape("" if value is None else str(value), quote=True)


def layout(
    title: str, y_title: str = "", *, x_type: str = "date", height: int = 360, **extra: Any
) -> dict[str, Any]:
    base: dict[str, Any] = {
        "title": {
            "text": text(title),
            "x": 0,
            "xanchor": "left",
            "font": {"size": 15, "color": INK},
        },
        "font": {"family": FONT, "size": 13, "color": INK},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "height": height,
        "margin": {"l": 56, "r": 16, "t": 44, "b": 44},
        "hovermode": "x unified" if x_type == "date" else "closest",
        "legend": {"orientation": "h", "y": -0.18, "x": 0, "font": {"size": 12}},
        "xaxis": {
            "type": x_type,
            "gridcolor": GRID,
            "linecolor": GRID,
            "zeroline": False,
            "automargin": True,
        },
        "yaxis": {
            "title": {"text": text(y_title), "font": {"size": 12, "color": MUTED}},
            "gridcolor": GRID,
            "zeroline": False,
            "rangemode": "tozero",
            "automargin": True,
        },
        "colorway": SERIES,
        "shapes": [],
        "annotations": [],
    }
    base.update(extra)
    return base


def add_events(spec: dict[str, Any], events: list[dict[str, Any]]) -> None:
    """Process changes as dashed vertical lines with their label (the stream's `events:`)."""
    for i, event in enumerate(events):
        day = (
            event["date"].isoformat() if isinstance(event["date"], dt.date) else str(event["date"])
        )
        spec["layout"]["shapes"].append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": day,
                "x1": day,
                "y0": 0,
                "y1": 1,
                "line": {"color": MUTED, "width": 1.2, "dash": "dot"},
            }
        )
        spec["layout"]["annotations"].append(
            {
                "x": day,
                "xref": "x",
                "y": 1.0 - 0.07 * (i % 3),
                "yref": "paper",
                "text": text(event["label"]),
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "top",
                "font": {"size": 11, "color": MUTED},
                "bgcolor": "rgba(255,255,255,0.7)",
            }
        )


def add_level_line(
    spec: dict[str, Any],
    value: float,
    colour: str,
    label: str,
    *,
    width: float = 1.3,
    dash: str | None = None,
    side: str = "right",
) -> None:
    """A horizontal line across the plot at `value`, labelled at the left or right end."""
    line: dict[str, Any] = {"color": colour, "width": width}
    if dash:
        line["dash"] = dash
    spec["layout"]["shapes"].append(
        {
            "type": "line",
            "xref": "paper",
            "yref": "y",
            "x0": 0,
            "x1": 1,
            "y0": value,
            "y1": value,
            "line": line,
        }
    )
    spec["layout"]["annotations"].append(
        {
            "x": 0 if side == "left" else 1,
            "xref": "paper",
            "y": value,
            "yref": "y",
            "text": label,
            "showarrow": False,
            "xanchor": side,
            "yanchor": "bottom",
            "font": {"size": 11, "color": colour},
        }
    )


def add_target(spec: dict[str, Any], value: float | None, label: str) -> None:
    """A target as a dashed horizontal line with its label."""
    if value is None:
        return
    add_level_line(spec, value, TARGET, text(f"target {label}"), width=1.5, dash="dash")
