"""The value stream map of one period as page HTML: the SVG and its equivalent table."""

from __future__ import annotations

from typing import Any

from generator.metrics.aggregates import PeriodResult
from generator.metrics.stream import StreamMetrics
from generator.render.format import instant
from generator.render.vsm_map import map_model, map_table, render_map
from generator.validate.schema import Scenario


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


def _captions(metrics: StreamMetrics, period: PeriodResult, root: str) -> dict[str, Any]:
    """What a measured map and a future-state map of the same period both say about it."""
    d = metrics.config.definition
    return {
        "stream_name": d.name,
        "owner": d.owner,
        "period_label": period.span.label,
        "period_dates": (period.span.first_day, period.span.last_day),
        "as_of_text": instant(period.span.as_of, d.timezone),
        "items_link": f"{root}streams/{metrics.config.id}/items/",
    }


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
        **_captions(metrics, period, root),
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


def projected_map(
    metrics: StreamMetrics,
    period: PeriodResult,
    projected: dict[str, Any],
    scenario: Scenario,
    *,
    id_prefix: str,
    root: str = "",
) -> dict[str, str]:
    """The future-state map of a scenario: the same renderer, the projected summary, the measured
    period beside each figure; removed queues are not drawn and WIP limits are the scenario's."""
    d = metrics.config.definition
    removed = {c.stage for c in scenario.changes if c.remove_stage is not None}
    limits = {c.stage: c.wip_limit.limit for c in scenario.changes if c.wip_limit is not None}
    stages = tuple(
        s.model_copy(update={"wip_limit": limits.get(s.id)})
        for s in d.stages
        if s.id not in removed
    )
    commitment = d.commitment
    if commitment in removed:  # the commitment point moves to the next stage that is left
        ids = [s.id for s in d.stages]
        later = [s.id for s in stages if ids.index(s.id) > ids.index(commitment)]
        commitment = later[0] if later else commitment
    future = d.model_copy(update={"stages": stages, "commitment": commitment})
    model = map_model(
        future,
        projected,
        period.summary,
        None,
        **_captions(metrics, period, root),
        blocked_by_stage={
            sid: v["blocked_mean_days"]
            for sid, v in projected["stages"].items()
            if v.get("blocked_mean_days") is not None and sid not in removed
        },
        rework=[(m["from"], m["to"], m["share"]) for m in projected.get("rework_moves", [])],
        projection=scenario.name,
    )
    return {"svg": render_map(model, id_prefix=id_prefix), "table": map_table(model)}
