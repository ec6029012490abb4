"""The home page: one card per stream, grouped by `group:` when streams have one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.metrics.stream import StreamMetrics
from generator.render.markdown_text import render_inline

if TYPE_CHECKING:
    from generator.render.site import SiteContext


def card(metrics: StreamMetrics) -> dict[str, Any]:
    d = metrics.config.definition
    current = metrics.periods.get("current")
    summary = current.summary if current else None
    return {
        "id": metrics.config.id,
        "name": d.name,
        "owner": d.owner,
        "group": d.group,
        "description": render_inline(d.description) if d.description else "",
        "as_of": metrics.as_of,
        "timezone": d.timezone,
        "period_label": current.span.label if current else None,
        "lead_p85": summary["lead_time"]["p85"] if summary else None,
        "throughput": summary["throughput_per_week"] if summary else None,
        "wip": summary["wip_now"] if summary else None,
        "efficiency": summary["flow_efficiency"] if summary else None,
        "item_count": metrics.quality.get("items", 0),
        "warnings": sum(1 for p in metrics.problems if p.severity == "warning"),
    }


def render(ctx: SiteContext, slug_of: Any) -> None:
    cards = [card(m) for m in ctx.streams]
    groups: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(cards, key=lambda c: ((c["group"] or "\uffff"), c["name"].casefold())):
        groups.setdefault(c["group"] or "", []).append(c)
    ctx.page("index.html", "home.html", title=ctx.options.title, groups=groups, cards=cards, group_slugs={g: slug_of(g) for g in groups if g})
