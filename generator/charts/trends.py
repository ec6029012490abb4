"""Trend charts: one pure function per chart, from the series in metrics/trends.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from generator.charts.spec import Chart
from generator.charts.theme import (
    FLOW_COLOURS,
    MUTED,
    PERCENTILE_COLOURS,
    SERIES,
    add_events,
    add_level_line,
    add_target,
    layout,
    text,
)
from generator.load.timestamps import utc_text
from generator.metrics.periods import DAY_NS

SCATTER_GL_ABOVE = 10_000
SCATTER_MAX_POINTS = 20_000


def _dates(values: Any) -> list[str]:
    return [pd.Timestamp(v).date().isoformat() for v in values]


def _local_days(ns: np.ndarray, timezone: str) -> pd.DatetimeIndex:
    return pd.to_datetime(ns, unit="ns", utc=True).tz_convert(timezone).tz_localize(None)


def percentiles(
    buckets: pd.DataFrame,
    kind: str,
    freq: str,
    events: list[dict[str, Any]],
    target_p85: float | None,
    target_p50: float | None,
) -> Chart:
    """Lead or cycle time p50/p85/p95 per week or month of completion."""
    name = {"lead": "Lead time", "cycle": "Cycle time"}[kind]
    per = {"W": "week", "M": "month"}[freq]
    x = _dates(buckets["start"]) if len(buckets) else []
    data = []
    for q in ("p50", "p85", "p95"):
        col = f"{kind}_{q}"
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": q,
                "x": x,
                "y": buckets[col].tolist() if col in buckets else [],
                "line": {
                    "color": PERCENTILE_COLOURS[q],
                    "width": 2 if q == "p85" else 1.5,
                    "shape": "linear",
                },
                "marker": {
                    "size": 4,
                    "symbol": {"p50": "circle", "p85": "diamond", "p95": "square"}[q],
                },
                "hovertemplate": f"{q}: %{{y:.1f}} d<extra></extra>",
            }
        )
    spec: dict[str, Any] = {"data": data, "layout": layout(f"{name} percentiles per {per}", "days")}
    add_events(spec, events)
    add_target(spec, target_p85, f"p85 {target_p85:g} d" if target_p85 else "")
    add_target(spec, target_p50, f"p50 {target_p50:g} d" if target_p50 else "")
    start = "created" if kind == "lead" else "commitment"
    latest = buckets.iloc[-1] if len(buckets) else None
    finding = (
        f"{name} p85 was {latest[f'{kind}_p85']:.1f} days in the {per} of {x[-1]}, across {len(buckets)} {per}s."
        if latest is not None and pd.notna(latest[f"{kind}_p85"])
        else f"No completed items to show {name.lower()} percentiles."
    )
    table = (
        buckets[["start", "count", f"{kind}_p50", f"{kind}_p85", f"{kind}_p95"]].copy()
        if len(buckets)
        else pd.DataFrame(columns=["start", "count"])
    )
    return Chart(
        id=f"trends-{kind}-time-{per}",
        title=f"{name} percentiles per {per}",
        caption=f"{name} is measured from {start} to done; each point is the percentile of the items completed in that {per} (local {per}s, weeks start on Monday).",
        finding=finding,
        spec=spec,
        table=table,
        download=f"{kind}-time-per-{per}.csv",
        columns={
            "start": f"{per} starting",
            "count": "items completed",
            f"{kind}_p50": "p50 (days)",
            f"{kind}_p85": "p85 (days)",
            f"{kind}_p95": "p95 (days)",
        },
    )


def scatter(
    hist: pd.DataFrame,
    timezone: str,
    events: list[dict[str, Any]],
    p: dict[str, float | None],
    target: float | None,
    privacy: bool,
    info: pd.DataFrame | None = None,
) -> Chart:
    """Cycle time of every completed item against its done date, with the percentile lines."""
    frame = hist.dropna(subset=["cycle_days"]) if len(hist) else hist
    n = len(frame)
    step = max(1, int(np.ceil(n / SCATTER_MAX_POINTS)))
    shown = frame.iloc[::step] if n else frame
    x = (
        _local_days(shown["done"].to_numpy(dtype=np.int64), timezone)
        .strftime("%Y-%m-%dT%H:%M")
        .tolist()
        if n
        else []
    )
    titles = (
        info["title"]
        .astype(object)
        .where(info["title"].notna(), None)
        .to_numpy()[shown["code"].to_numpy()]
        if (n and info is not None and not privacy)
        else [None] * len(shown)
    )
    labels = (
        [
            text(i) if t is None else text(f"{i}: {t}")
            for i, t in zip(shown["item_id"].astype(str), titles, strict=True)
        ]
        if n
        else []
    )
    data: list[dict[str, Any]] = [
        {
            "type": "scattergl" if n > SCATTER_GL_ABOVE else "scatter",
            "mode": "markers",
            "name": "items",
            "x": x,
            "y": shown["cycle_days"].round(3).tolist() if n else [],
            "text": labels,
            "marker": {"size": 5, "color": SERIES[0], "opacity": 0.55},
            "hovertemplate": "%{text}<br>%{y:.1f} d<extra></extra>",
        }
    ]
    spec: dict[str, Any] = {
        "data": data,
        "layout": layout("Cycle time of completed items", "days", hovermode="closest"),
    }
    for q in ("p50", "p85", "p95"):
        value = p.get(q)
        if value is not None:
            add_level_line(spec, value, PERCENTILE_COLOURS[q], f"{q} {value:.1f} d", side="left")
    add_events(spec, events)
    add_target(spec, target, f"p85 {target:g} d" if target else "")
    sampled = (
        f" Every {step}th item is drawn ({len(shown):,} of {n:,}); the percentiles use all of them."
        if step > 1
        else ""
    )
    finding = (
        f"{n:,} completed items; 85% finished within {p['p85']:.1f} days of commitment."
        if n and p.get("p85") is not None
        else "No completed items."
    )
    table = (
        frame[["item_id", "done", "cycle_days"]].copy()
        if n
        else pd.DataFrame(columns=["item_id", "done", "cycle_days"])
    )
    if n:
        table["done"] = np.asarray(
            utc_text(table["done"].to_numpy(dtype=np.int64)).to_numpy(zero_copy_only=False),
            dtype=object,
        )
    return Chart(
        id="trends-cycle-scatter",
        title="Cycle time scatterplot",
        caption="Each dot is a completed item: when it was done (x) and its cycle time from commitment to done (y). Lines: cycle time percentiles of the current period's completed items."
        + sampled,
        finding=finding,
        spec=spec,
        table=table,
        download="cycle-time-scatter.csv",
        columns={"item_id": "item", "done": "done (UTC)", "cycle_days": "cycle time (days)"},
    )


def throughput(weekly: pd.DataFrame, events: list[dict[str, Any]], target: float | None) -> Chart:
    """Items completed per ISO week, as a run chart with its median."""
    x = _dates(weekly["start"]) if len(weekly) else []
    counts = weekly["count"].astype(int).tolist() if len(weekly) else []
    median = float(np.median(counts)) if counts else None
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "completed per week",
            "x": x,
            "y": counts,
            "line": {"color": SERIES[0], "width": 2},
            "marker": {"size": 4},
            "hovertemplate": "%{y} items<extra></extra>",
        }
    ]
    spec: dict[str, Any] = {"data": data, "layout": layout("Throughput per week", "items")}
    if median is not None:
        spec["layout"]["shapes"].append(
            {
                "type": "line",
                "xref": "paper",
                "yref": "y",
                "x0": 0,
                "x1": 1,
                "y0": median,
                "y1": median,
                "line": {"color": MUTED, "width": 1.2},
            }
        )
        spec["layout"]["annotations"].append(
            {
                "x": 0,
                "xref": "paper",
                "y": median,
                "yref": "y",
                "text": f"median {median:g}",
                "showarrow": False,
                "xanchor": "left",
                "yanchor": "bottom",
                "font": {"size": 11, "color": MUTED},
            }
        )
    add_events(spec, events)
    add_target(spec, target, f"{target:g}/week" if target else "")
    finding = (
        f"A median week completed {median:g} items, over {len(counts)} weeks with completions."
        if median is not None
        else "No completed items."
    )
    return Chart(
        id="trends-throughput",
        title="Throughput per week",
        caption="Items that reached done in each local ISO week (Monday to Sunday), from the first week with a completion to the last whole week before as_of; weeks without completions count as 0.",
        finding=finding,
        spec=spec,
        table=weekly[["start", "count"]].copy()
        if len(weekly)
        else pd.DataFrame(columns=["start", "count"]),
        download="throughput-per-week.csv",
        columns={"start": "week starting", "count": "items completed"},
    )


def wip(
    daily: pd.DataFrame, timezone: str, events: list[dict[str, Any]], target: float | None
) -> Chart:
    """Work in progress at the end of each day."""
    x = (
        _local_days(daily["day_end"].to_numpy(dtype=np.int64) - 1, timezone)
        .strftime("%Y-%m-%d")
        .tolist()
        if len(daily)
        else []
    )
    data = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "WIP",
            "x": x,
            "y": daily["wip"].astype(int).tolist() if len(daily) else [],
            "line": {"color": SERIES[0], "width": 2, "shape": "hv"},
            "hovertemplate": "%{y} items in progress<extra></extra>",
        }
    ]
    spec: dict[str, Any] = {"data": data, "layout": layout("Work in progress", "items")}
    add_events(spec, events)
    add_target(spec, target, f"mean {target:g}" if target else "")
    last = int(daily["wip"].iloc[-1]) if len(daily) else 0
    table = pd.DataFrame({"day": x, "wip": daily["wip"].astype(int).tolist() if len(daily) else []})
    return Chart(
        id="trends-wip",
        title="Work in progress",
        caption="Items committed and not yet done or cancelled, counted at the end of each local day.",
        finding=f"{last} items were in progress at the end of the last day shown.",
        spec=spec,
        table=table,
        download="wip-per-day.csv",
        columns={"day": "day", "wip": "items in progress at its end"},
    )


def cfd(
    daily: pd.DataFrame, stages: list[tuple[str, str]], timezone: str, events: list[dict[str, Any]]
) -> Chart:
    """Cumulative flow: for each stage, items that reached it or a later stage by each day's end."""
    x = (
        _local_days(daily["day_end"].to_numpy(dtype=np.int64) - 1, timezone)
        .strftime("%Y-%m-%d")
        .tolist()
        if len(daily)
        else []
    )
    data = []
    palette = SERIES * 3
    for i, (sid, name) in enumerate(reversed(stages)):
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": text(name),
                "x": x,
                "y": daily[sid].astype(int).tolist() if len(daily) else [],
                "fill": "tonexty" if i else "tozeroy",
                "line": {"width": 1, "color": palette[len(stages) - 1 - i]},
                "hovertemplate": f"{text(name)}: %{{y}}<extra></extra>",
            }
        )
    spec: dict[str, Any] = {"data": data, "layout": layout("Cumulative flow", "items (cumulative)")}
    add_events(spec, events)
    table = (
        daily[[s for s, _ in stages]].copy()
        if len(daily)
        else pd.DataFrame(columns=[s for s, _ in stages])
    )
    table.insert(0, "day", x)
    return Chart(
        id="trends-cfd",
        title="Cumulative flow diagram",
        caption="For each stage: items whose first entry into that stage or any later one happened by the end of the day. Bands never shrink; a widening band is a growing queue.",
        finding=f"Cumulative arrivals per stage over {len(x)} days; the gap between bands is the work between stages.",
        spec=spec,
        table=table,
        download="cumulative-flow.csv",
        columns={"day": "day", **{s: n for s, n in stages}},
    )


def ratio(
    buckets: pd.DataFrame,
    column: str,
    chart_id: str,
    title: str,
    caption: str,
    y_title: str,
    events: list[dict[str, Any]],
    target: float | None = None,
    as_percent: bool = True,
) -> Chart:
    """A per-month ratio or mean (flow efficiency, rework rate, blocked time)."""
    x = _dates(buckets["start"]) if len(buckets) else []
    y = buckets[column].tolist() if len(buckets) else []
    fmt = "%{y:.0%}" if as_percent else "%{y:.1f} d"
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": text(title),
            "x": x,
            "y": y,
            "line": {"color": SERIES[0], "width": 2},
            "marker": {"size": 5},
            "hovertemplate": fmt + "<extra></extra>",
        }
    ]
    lay = layout(title, y_title)
    if as_percent:
        lay["yaxis"]["tickformat"] = ".0%"
    spec: dict[str, Any] = {"data": data, "layout": lay}
    add_events(spec, events)
    add_target(
        spec,
        target,
        f"{target:.0%}"
        if (target is not None and as_percent)
        else (f"{target:g}" if target else ""),
    )
    valid = [v for v in y if v is not None and not pd.isna(v)]
    last = (f"{valid[-1]:.0%}" if as_percent else f"{valid[-1]:.1f} days") if valid else "–"
    table = (
        buckets[["start", "count", column]].copy()
        if len(buckets)
        else pd.DataFrame(columns=["start", "count", column])
    )
    return Chart(
        id=chart_id,
        title=title,
        caption=caption,
        finding=f"{title}: {last} in the latest month shown.",
        spec=spec,
        table=table,
        download=f"{chart_id.removeprefix('trends-')}.csv",
        columns={"start": "month starting", "count": "items completed", column: y_title},
    )


def distribution(buckets: pd.DataFrame, events: list[dict[str, Any]]) -> Chart:
    """Share of completed items per flow type, per month (stacked)."""
    x = _dates(buckets["start"]) if len(buckets) else []
    data = []
    for flow in ("feature", "defect", "risk", "debt", "other"):
        col = f"share_{flow}"
        data.append(
            {
                "type": "bar",
                "name": flow,
                "x": x,
                "y": buckets[col].tolist() if col in buckets else [],
                "marker": {"color": FLOW_COLOURS[flow]},
                "hovertemplate": f"{flow}: %{{y:.0%}}<extra></extra>",
            }
        )
    lay = layout("Flow distribution per month", "share of completed items", barmode="stack")
    lay["yaxis"]["tickformat"] = ".0%"
    spec: dict[str, Any] = {"data": data, "layout": lay}
    add_events(spec, events)
    cols = ["start", "count"] + [
        f"share_{f}" for f in ("feature", "defect", "risk", "debt", "other")
    ]
    table = buckets[cols].copy() if len(buckets) else pd.DataFrame(columns=cols)
    return Chart(
        id="trends-flow-distribution",
        title="Flow distribution",
        caption="Completed items per month by flow type (from `item_types` in stream.yaml; unlisted types are other).",
        finding="How the month's completed work splits between features, defects, risks and debt.",
        spec=spec,
        table=table,
        download="flow-distribution.csv",
        columns={
            "start": "month starting",
            "count": "items completed",
            **{f"share_{f}": f"{f} share" for f in ("feature", "defect", "risk", "debt", "other")},
        },
    )


def aging(
    aging_frame: pd.DataFrame,
    stages: list[tuple[str, str]],
    p: dict[str, float | None],
    privacy: bool,
) -> Chart:
    """Age of each item in progress by its current stage, against completed items' cycle time percentiles."""
    names = dict(stages)
    order = (
        [sid for sid, _ in stages if sid in set(aging_frame["current_stage"])]
        if len(aging_frame)
        else []
    )
    if len(aging_frame) and "unmapped" in set(aging_frame["current_stage"]):
        order.append("unmapped")
    frame = aging_frame.copy()
    labels = [text(names.get(s, s)) for s in frame["current_stage"]] if len(frame) else []
    rng = np.random.default_rng(7)
    jitter = rng.uniform(-0.25, 0.25, len(frame)) if len(frame) else np.zeros(0)
    position = {sid: i for i, sid in enumerate(order)}
    x = [position[s] + j for s, j in zip(frame.get("current_stage", []), jitter, strict=False)]
    hover = [
        text(i) if privacy else text(f"{i}: {t}" if isinstance(t, str) else i)
        for i, t in zip(frame.get("item_id", []), frame.get("title", []), strict=False)
    ]
    data = [
        {
            "type": "scatter",
            "mode": "markers",
            "name": "items in progress",
            "x": x,
            "y": frame["age_days"].round(3).tolist() if len(frame) else [],
            "text": hover,
            "customdata": labels,
            "marker": {
                "size": 7,
                "color": SERIES[1],
                "opacity": 0.75,
                "line": {"width": 0.5, "color": "#fff"},
            },
            "hovertemplate": "%{text}<br>%{customdata}: %{y:.1f} d old<extra></extra>",
        }
    ]
    lay = layout(
        "Aging work in progress",
        "age since commitment (days)",
        x_type="linear",
        hovermode="closest",
    )
    lay["xaxis"].update(
        {
            "tickmode": "array",
            "tickvals": list(range(len(order))),
            "ticktext": [text(names.get(s, s)) for s in order],
            "range": [-0.6, max(len(order) - 0.4, 0.6)],
            "showgrid": False,
        }
    )
    spec: dict[str, Any] = {"data": data, "layout": lay}
    for q in ("p50", "p85", "p95"):
        value = p.get(q)
        if value is not None:
            add_level_line(
                spec, value, PERCENTILE_COLOURS[q], f"{q} of completed {value:.1f} d", dash="dash"
            )
    over = (
        int((frame["age_days"] > p["p85"]).sum()) if len(frame) and p.get("p85") is not None else 0
    )
    finding = (
        f"{len(frame)} items in progress; {over} are already older than the p85 cycle time of completed items."
        if len(frame)
        else "No items in progress."
    )
    table = (
        frame[["item_id", "current_stage", "age_days"]].copy()
        if len(frame)
        else pd.DataFrame(columns=["item_id", "current_stage", "age_days"])
    )
    return Chart(
        id="trends-aging-wip",
        title="Aging work in progress",
        caption="Each dot is an item in progress at as_of: its current stage (x, spread sideways to avoid overlap) and its age since commitment (y). Dashed lines: cycle time percentiles of the current period's completed items.",
        finding=finding,
        spec=spec,
        table=table,
        download="aging-wip.csv",
        columns={"item_id": "item", "current_stage": "current stage", "age_days": "age (days)"},
    )


__all__ = [
    "DAY_NS",
    "aging",
    "cfd",
    "distribution",
    "percentiles",
    "ratio",
    "scatter",
    "throughput",
    "wip",
]
