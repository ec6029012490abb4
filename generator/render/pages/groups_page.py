"""Portfolio and program pages: streams with a `group:` path rolled up, side by side, with their combined flow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from generator.charts import trends as charts
from generator.metrics import trends
from generator.metrics.aggregates import day_ends, wip_at
from generator.metrics.periods import local_date, span
from generator.metrics.stream import StreamMetrics
from generator.presentation import CARDS, shown
from generator.render.charts_view import chart_view
from generator.render.memo import unit
from generator.render.pages.home import card

if TYPE_CHECKING:
    from generator.render.context import SiteContext


def group_tree(streams: list[StreamMetrics]) -> dict[str, list[StreamMetrics]]:
    """Every group path and each of its ancestors -> the streams under it (descendants included)."""
    out: dict[str, list[StreamMetrics]] = {}
    for m in streams:
        group = m.config.definition.group
        if not group:
            continue
        parts = group.split("/")
        for depth in range(1, len(parts) + 1):
            out.setdefault("/".join(parts[:depth]), []).append(m)
    return dict(sorted(out.items()))


def _common_zone(members: list[StreamMetrics]) -> str:
    zones = {m.config.timezone for m in members}
    return zones.pop() if len(zones) == 1 else "UTC"


def combined_weekly(members: list[StreamMetrics], tz: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    frames = [m.history if m.history is not None else trends.history(m.quarters) for m in members]
    frames = [f for f in frames if len(f)]
    if not frames:
        empty = pd.DataFrame(columns=["start", "count"])
        return empty, empty
    hist = pd.concat(frames, ignore_index=True)
    return trends.per_bucket(hist, tz, "W"), trends.per_bucket(hist, tz, "M")


def combined_daily(members: list[StreamMetrics], tz: str) -> pd.DataFrame:
    computed = [m for m in members if m.result is not None and m.as_of is not None]
    if not computed:
        return pd.DataFrame(columns=["day_end", "wip"])
    first = min(int(m.result.items["created"].min()) for m in computed)  # type: ignore[union-attr]
    as_of = max(int(m.as_of) for m in computed)  # type: ignore[arg-type]
    whole = span("group", "group", local_date(first, tz), local_date(as_of, tz), tz, as_of)
    ends = day_ends(whole, tz)
    total = np.zeros(len(ends), dtype=np.int64)
    for m in computed:
        mine = ends <= int(m.as_of)  # type: ignore[arg-type]
        total[mine] += wip_at(m.result, m.config.definition, ends[mine])  # type: ignore[arg-type]
    return pd.DataFrame({"day_end": ends, "wip": total})


def render(ctx: SiteContext, slug_of: Any, site: object = None) -> list[dict[str, Any]]:
    """Every group's page, each one render unit: an edit re-renders the groups the stream is in."""
    tree = group_tree(ctx.streams)
    index = []
    for path, members in tree.items():
        slug = slug_of(path)
        children = sorted(
            {p for p in tree if p.startswith(path + "/") and p.count("/") == path.count("/") + 1}
        )
        key = (
            site,
            path,
            tuple((m.config.id, shown(m.config.definition, *CARDS)) for m in members),
            tuple((c, len(tree[c])) for c in children),
        )

        def page(path: str = path, members: list[StreamMetrics] = members) -> None:
            _render_group(ctx, slug_of, tree, path, members)

        unit(ctx, f"group:{slug}", key, tuple(members), page)
        index.append({"path": path, "slug": slug, "streams": len(members)})
    return index


def _render_group(
    ctx: SiteContext,
    slug_of: Any,
    tree: dict[str, list[StreamMetrics]],
    path: str,
    members: list[StreamMetrics],
) -> None:
    folder = f"groups/{slug_of(path)}"
    tz = _common_zone(members)
    weeks, months = combined_weekly(members, tz)
    daily = combined_daily(members, tz)
    built = [
        charts.throughput(weeks, [], None),
        charts.wip(daily, tz, [], None),
        charts.distribution(months, []),
    ]
    for c in built:
        c.id = c.id.replace("trends-", "group-")
    views = [chart_view(c, ctx, folder) for c in built]
    children = sorted(
        {p for p in tree if p.startswith(path + "/") and p.count("/") == path.count("/") + 1}
    )
    parts = path.split("/")
    crumbs = [
        ("/".join(parts[: i + 1]), slug_of("/".join(parts[: i + 1]))) for i in range(len(parts) - 1)
    ]
    ctx.page(
        f"{folder}/index.html",
        "group.html",
        title=path,
        group=path,
        name=parts[-1],
        crumbs=crumbs,
        cards=[card(m) for m in sorted(members, key=lambda m: m.config.definition.name.casefold())],
        children=[(c, slug_of(c), len(tree[c])) for c in children],
        charts=views,
        timezone=tz,
        mixed_zones=len({m.config.timezone for m in members}) > 1,
    )
