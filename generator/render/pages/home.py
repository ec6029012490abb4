"""The home page: one card per stream, grouped by `group:` when streams have one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from generator.forecast.wording import headline
from generator.metrics import trends
from generator.metrics.stream import StreamMetrics, buckets
from generator.render.markdown_text import render_inline
from generator.render.sparkline import sparkline

if TYPE_CHECKING:
    from generator.render.context import SiteContext

# target key -> (summary path, better direction, label)
TARGETS = {
    "lead_time_p85_days": (("lead_time", "p85"), "lower", "lead time p85"),
    "lead_time_p50_days": (("lead_time", "p50"), "lower", "lead time p50"),
    "cycle_time_p85_days": (("cycle_time", "p85"), "lower", "cycle time p85"),
    "cycle_time_p50_days": (("cycle_time", "p50"), "lower", "cycle time p50"),
    "flow_efficiency": (("flow_efficiency",), "higher", "flow efficiency"),
    "throughput_per_week": (("throughput_per_week",), "higher", "throughput"),
    "wip_mean": (("wip_mean",), "lower", "mean WIP"),
}


def target_status(metrics: StreamMetrics, summary: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Each target of stream.yaml against the current period: met or missed."""
    out: list[dict[str, Any]] = []
    if summary is None:
        return out
    for key, target in metrics.config.definition.targets.model_dump().items():
        if target is None:
            continue
        path, better, label = TARGETS[key]
        value: Any = summary
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        met = None if value is None else (value <= target if better == "lower" else value >= target)
        out.append(
            {
                "key": key,
                "label": label,
                "target": target,
                "value": value,
                "met": met,
                "better": better,
            }
        )
    return out


def sparks(metrics: StreamMetrics) -> dict[str, str]:
    """Sparklines of the last 12 months (lead p85, efficiency), 26 weeks (throughput) and 90 days (WIP)."""
    if metrics.result is None:
        return {}
    tz = metrics.config.timezone
    hist = metrics.history if metrics.history is not None else trends.history(metrics.quarters)
    months = buckets(metrics, hist, "M").tail(12)
    weeks = trends.whole_weeks(buckets(metrics, hist, "W"), metrics.as_of or 0, tz).tail(26)
    daily = metrics.daily.tail(90) if metrics.daily is not None else None
    return {
        "lead": sparkline(
            months["lead_p85"].tolist() if len(months) else [],
            "lead time p85 per month, last 12 months",
        ),
        "throughput": sparkline(
            weeks["count"].astype(float).tolist() if len(weeks) else [],
            "items completed per week, last 26 weeks",
        ),
        "wip": sparkline(
            daily["wip"].astype(float).tolist() if daily is not None else [],
            "WIP at the end of each day, last 90 days",
        ),
        "efficiency": sparkline(
            months["flow_efficiency"].tolist() if len(months) else [],
            "flow efficiency per month, last 12 months",
        ),
    }


def card(metrics: StreamMetrics, latest_report: dict[str, Any] | None = None) -> dict[str, Any]:
    d = metrics.config.definition
    current = metrics.periods.get("current")
    baseline = metrics.periods.get("baseline")
    summary = current.summary if current else None
    base = baseline.summary if baseline else None
    comparison = metrics.comparison
    wip_change = (summary["wip_now"] - base["wip_now"]) if summary and base else None
    return {
        "id": metrics.config.id,
        "name": d.name,
        "owner": d.owner,
        "group": d.group,
        "description": render_inline(d.description) if d.description else "",
        "as_of": metrics.as_of,
        "timezone": d.timezone,
        "period_label": current.span.label if current else None,
        "baseline_label": baseline.span.label if baseline else None,
        "lead_p85": summary["lead_time"]["p85"] if summary else None,
        "throughput": summary["throughput_per_week"] if summary else None,
        "wip": summary["wip_now"] if summary else None,
        "efficiency": summary["flow_efficiency"] if summary else None,
        "verdicts": {
            k: comparison[k]
            for k in ("lead_time_p85", "throughput_per_week", "flow_efficiency")
            if k in comparison
        },
        "wip_change": wip_change,
        "wip_base": base["wip_now"] if base else None,
        "targets": target_status(metrics, summary),
        "sparks": sparks(metrics),
        "item_count": metrics.quality.get("items", 0),
        "warnings": sum(1 for p in metrics.problems if p.severity == "warning"),
        "latest_report": latest_report,
        "dora_level": (metrics.dora or {}).get("level"),
        "forecast": headline(metrics.forecast) if metrics.forecast is not None else "",
    }


def render(ctx: SiteContext, slug_of: Any) -> None:
    cards = [card(m, next(iter(ctx.reports.get(m.config.id) or []), None)) for m in ctx.streams]
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(cards, key=lambda c: ((c["group"] or "\uffff"), c["name"].casefold())):
        groups.setdefault(c["group"] or "", []).append(c)
    _ = np
    ctx.page(
        "index.html",
        "home.html",
        title=ctx.options.title,
        groups=groups,
        cards=cards,
        group_slugs={g: slug_of(g) for g in groups if g},
    )
