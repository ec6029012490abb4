"""Baseline versus current: every metric with its change, interval and verdict; distributions; waterfall; both maps."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.charts.compare import ecdf_chart, waterfall
from generator.metrics.compare import stage_contributions
from generator.metrics.stream import StreamMetrics
from generator.render.charts_view import chart_view
from generator.render.map_context import period_map

if TYPE_CHECKING:
    from generator.render.context import SiteContext

LABELS = {
    "lead_time_p50": "Lead time p50",
    "lead_time_p85": "Lead time p85",
    "cycle_time_p50": "Cycle time p50",
    "cycle_time_p85": "Cycle time p85",
    "throughput_per_week": "Throughput per week",
    "flow_efficiency": "Flow efficiency",
}


def metric_label(key: str, names: dict[str, str]) -> str:
    if key in LABELS:
        return LABELS[key]
    _, stage, stat = key.split(":")
    return f"{names.get(stage, stage)}: {'mean' if stat == 'mean' else 'median'} time"


def rows(comparison: dict[str, Any], names: dict[str, str]) -> list[dict[str, Any]]:
    return [{"key": k, "label": metric_label(k, names), **v} for k, v in comparison.items()]


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    d = metrics.config.definition
    folder = f"streams/{metrics.config.id}/compare"
    base, cur = metrics.periods["baseline"], metrics.periods["current"]
    names = {s.id: s.label for s in d.stages} | {"unmapped": "Unmapped states"}
    contributions = stage_contributions(base, cur, [s.id for s in d.stages])
    charts = [
        ecdf_chart("lead", base.completed, cur.completed, (base.span.label, cur.span.label)),
        ecdf_chart("cycle", base.completed, cur.completed, (base.span.label, cur.span.label)),
        waterfall(
            contributions,
            names,
            base.summary["lead_time"]["mean"],
            cur.summary["lead_time"]["mean"],
        ),
    ]
    views = [chart_view(c, ctx, folder) for c in charts]
    maps = {}
    for name, period in (("baseline", base), ("current", cur)):
        if period.summary["lead_time"]["count"]:
            maps[name] = period_map(metrics, period, id_prefix=f"vsm-{name}", root="../../../")
    all_rows = rows(metrics.comparison, names)
    ctx.page(
        f"{folder}/index.html",
        "compare.html",
        title=f"Baseline vs current · {d.name}",
        definition=d,
        nav=nav,
        active="compare",
        headline=[r for r in all_rows if not r["key"].startswith("stage:")],
        stages=[r for r in all_rows if r["key"].startswith("stage:")],
        baseline=base,
        current=cur,
        charts=views,
        maps=maps,
        little=metrics.littles_law,
        as_of=metrics.as_of,
        significant=[r for r in all_rows if r["verdict"] in ("improved", "worse")],
    )
