"""The value stream map of one period as page HTML: the SVG and its equivalent table."""

from __future__ import annotations

from typing import Any

from generator.metrics.aggregates import PeriodResult
from generator.metrics.stream import StreamMetrics
from generator.render.format import instant
from generator.render.vsm_map import map_model, map_table, render_map


def process_events_for(
    metrics: StreamMetrics, period: PeriodResult, lead_days: float = 30
) -> list[dict[str, Any]]:
    """The stream's `events:` that fall in the period or up to `lead_days` before it."""
    first = period.span.first_day
    last = period.span.last_day
    out = []
    for e in metrics.config.definition.events:
        if (first - e.date).days <= lead_days and e.date <= last:
            out.append({"date": e.date, "label": e.label, "stage": e.stage})
    return out


def period_map(
    metrics: StreamMetrics,
    period: PeriodResult,
    *,
    baseline: PeriodResult | None = None,
    comparison: dict[str, Any] | None = None,
    id_prefix: str = "vsm",
    root: str = "",
) -> dict[str, str]:
    """SVG and table of the map for `period`, with baseline figures beside each number when given."""
    d = metrics.config.definition
    s = period.summary
    stages = s["stages"]
    skipped = sum(metrics.quality.get("skipped", {}).values()) if metrics.quality else 0
    unmapped = bool(metrics.quality.get("unmapped_states")) if metrics.quality else False
    model = map_model(
        d,
        s,
        baseline.summary if baseline else None,
        comparison,
        stream_name=d.name,
        owner=d.owner,
        period_label=period.span.label,
        period_dates=(period.span.first_day, period.span.last_day),
        as_of_text=instant(period.span.as_of, d.timezone),
        items_link=f"{root}streams/{metrics.config.id}/items/",
        quality_link=f"{root}streams/{metrics.config.id}/quality/"
        if (skipped or unmapped)
        else None,
        process_events=process_events_for(metrics, period),
        wip_by_stage={sid: v.get("wip_now", 0) for sid, v in stages.items() if sid != "unmapped"},
        blocked_by_stage={
            sid: v["blocked_mean_days"]
            for sid, v in stages.items()
            if v.get("blocked_mean_days") is not None
        },
        rework=[(m["from"], m["to"], m["share"]) for m in s.get("rework_moves", [])],
    )
    return {"svg": render_map(model, id_prefix=id_prefix), "table": map_table(model)}
