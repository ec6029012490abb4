"""The data-quality page: every problem grouped by kind, what was skipped, coverage."""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, Any

from generator.metrics.stream import StreamMetrics

if TYPE_CHECKING:
    from generator.render.context import SiteContext

KIND_TITLES = {
    "E": "Errors",
    "W2": "Rows and values in the data files",
    "W3": "Items and periods",
}
CODE_TITLES = {
    "W201": "States not mapped to a stage",
    "W202": "Timestamps that could not be read",
    "W203": "Rows without an item key",
    "W204": "Rows without a state",
    "W205": "Blocked values that are not true/false",
    "W206": "Rows with the wrong number of fields",
    "W207": "Duplicate events",
    "W208": "Local times that occur twice (DST)",
    "W209": "Local times that do not exist (DST)",
    "W210": "Links that are not http or https",
    "W211": "Rows that are not valid UTF-8 text",
    "W212": "Items listed twice",
    "W213": "Columns named twice",
    "W220": "Malformed JSON records",
    "W221": "Truncated histories",
    "W222": "Ignored records",
    "W223": "Negative or zero durations",
    "W224": "Status categories that disagree with stages",
    "W225": "Duplicate records across files",
    "W230": "Invalid time zone offsets in commits",
    "W232": "Deployments without a usable status",
    "W233": "Incidents resolved before they opened",
    "W234": "Unreleased commits",
    "W235": "Commits listed twice",
    "W301": "Events before the item was created",
    "W302": "Items with no events",
    "W303": "Items that never reach a mapped stage",
    "W304": "Periods without completed items",
    "W305": "Empty stream",
    "W306": "Events after as_of",
    "W307": "Items created after as_of",
}


def problem_groups(metrics: StreamMetrics) -> list[dict[str, Any]]:
    out = []
    ordered = sorted(
        metrics.problems, key=lambda p: (p.code, p.location.path, p.location.line or 0)
    )
    for code, members in groupby(ordered, key=lambda p: p.code):
        rows = list(members)
        out.append(
            {
                "code": code,
                "title": CODE_TITLES.get(code, code),
                "severity": rows[0].severity,
                "count": sum(p.count for p in rows),
                "problems": rows,
            }
        )
    return out


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    d = metrics.config.definition
    q = metrics.quality
    ctx.page(
        f"streams/{metrics.config.id}/quality/index.html",
        "quality.html",
        title=f"Data quality · {d.name}",
        definition=d,
        nav=nav,
        active="quality",
        groups=problem_groups(metrics),
        quality=q,
        skipped=q.get("skipped", {}),
        as_of=metrics.as_of,
        unmapped=q.get("unmapped_states", []),
        notes=metrics.config.sources,
        unavailable=q.get("unavailable", []),
    )
