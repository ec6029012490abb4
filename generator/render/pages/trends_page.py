"""The trends page: percentiles, scatter, throughput, WIP, CFD, efficiency, blocked, rework, distribution, aging, bottleneck history."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.charts import trends as charts
from generator.metrics import trends
from generator.metrics.stream import StreamMetrics, buckets
from generator.render.charts_view import chart_view

if TYPE_CHECKING:
    from generator.render.context import SiteContext


def process_events(metrics: StreamMetrics) -> list[dict[str, Any]]:
    return [
        {"date": e.date, "label": e.label, "stage": e.stage}
        for e in metrics.config.definition.events
    ]


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    d = metrics.config.definition
    tz = d.timezone
    folder = f"streams/{metrics.config.id}/trends"
    events = process_events(metrics)
    hist = metrics.history if metrics.history is not None else trends.history(metrics.quarters)
    weeks = buckets(metrics, hist, "W")
    months = buckets(metrics, hist, "M")
    current = metrics.periods["current"].summary if "current" in metrics.periods else None
    ct = current["cycle_time"] if current else {}
    pcts = {q: ct.get(q) for q in ("p50", "p85", "p95")}
    stages = [(s.id, s.label) for s in d.stages if s.kind != "cancelled"]
    t = d.targets
    aging_frame = metrics.periods["current"].aging if "current" in metrics.periods else None
    built = [
        charts.percentiles(weeks, "lead", "W", events, t.lead_time_p85_days, t.lead_time_p50_days),
        charts.percentiles(months, "lead", "M", events, t.lead_time_p85_days, t.lead_time_p50_days),
        charts.percentiles(
            weeks, "cycle", "W", events, t.cycle_time_p85_days, t.cycle_time_p50_days
        ),
        charts.percentiles(
            months, "cycle", "M", events, t.cycle_time_p85_days, t.cycle_time_p50_days
        ),
        charts.scatter(
            hist,
            tz,
            events,
            pcts,
            t.cycle_time_p85_days,
            ctx.options.privacy,
            metrics.prepared.items if metrics.prepared is not None else None,
        ),
        charts.throughput(
            trends.whole_weeks(weeks, metrics.as_of or 0, tz), events, t.throughput_per_week
        ),
        charts.wip(metrics.daily, tz, events, t.wip_mean) if metrics.daily is not None else None,
        charts.cfd(metrics.daily, stages, tz, events) if metrics.daily is not None else None,
        charts.ratio(
            months,
            "flow_efficiency",
            "trends-flow-efficiency",
            "Flow efficiency",
            "Process time / (process + wait) over the items completed each month, a ratio of sums; process time is time in active stages while not blocked.",
            "flow efficiency",
            events,
            t.flow_efficiency,
        ),
        charts.ratio(
            months,
            "blocked_mean_days",
            "trends-blocked",
            "Blocked time",
            "Mean time blocked (flag or blocked state) per item completed in each month, from created to done.",
            "days blocked per item",
            events,
            as_percent=False,
        ),
        charts.ratio(
            months,
            "rework_rate",
            "trends-rework",
            "Rework rate",
            "Share of the month's completed items that were sent back to an earlier stage at least once.",
            "share reworked",
            events,
        ),
        charts.distribution(months, events),
        charts.aging(aging_frame, stages, pcts, ctx.options.privacy)
        if aging_frame is not None
        else None,
    ]
    views = [chart_view(c, ctx, folder) for c in built if c is not None]
    ctx.page(
        f"{folder}/index.html",
        "trends.html",
        title=f"Trends · {d.name}",
        definition=d,
        nav=nav,
        active="trends",
        charts=views,
        bottlenecks=trends.bottleneck_history(metrics.quarters).to_dict("records"),
        stage_names={s.id: s.label for s in d.stages},
        as_of=metrics.as_of,
        events=events,
    )
