"""The DORA page: the four delivery measures with formula, counts, level and trend."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from generator.charts.dora import weekly_chart
from generator.metrics.dora_levels import CITATION, DORA_2024
from generator.metrics.stream import StreamMetrics
from generator.render.charts_view import chart_view

if TYPE_CHECKING:
    from generator.render.context import SiteContext


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    assert metrics.dora is not None
    d = metrics.config.definition
    tz = d.timezone
    folder = f"streams/{metrics.config.id}/dora"
    weekly = metrics.dora["weekly"]
    events = [{"date": e.date, "label": e.label} for e in d.events]
    charts = [
        weekly_chart(
            weekly,
            "deployments",
            "dora-deployments",
            "Deployments per week",
            "successful production deployments",
            "Successful production deployments in each local ISO week.",
            tz,
            events,
        ),
        weekly_chart(
            weekly,
            "lead_time_p50_days",
            "dora-lead-time",
            "Lead time for changes, median per week",
            "days",
            "Median time from commit to the first successful production deployment containing it, for changes deployed in each week.",
            tz,
            events,
            kind="scatter",
        ),
        weekly_chart(
            weekly,
            "change_failure_rate",
            "dora-change-failure-rate",
            "Change failure rate per week",
            "share of deployments",
            "Deployments that failed or caused a failure (a linked incident, a rollback or a hotfix) over all production deployments of the week.",
            tz,
            events,
            kind="scatter",
            percent=True,
        ),
        weekly_chart(
            weekly,
            "restore_p50_days",
            "dora-time-to-restore",
            "Time to restore, median per week",
            "days",
            "Median time from opened to resolved of the incidents opened in each week.",
            tz,
            events,
            kind="scatter",
        ),
    ]
    views = [chart_view(c, ctx, folder) for c in charts]
    periods = metrics.dora["periods"]
    labels = {name: p.span.label for name, p in metrics.periods.items()}
    quarters = [
        (metrics.quarters[name].span.label, q) for name, q in metrics.dora["quarters"].items()
    ]
    ctx.page(
        f"{folder}/index.html",
        "dora.html",
        title=f"DORA · {d.name}",
        definition=d,
        nav=nav,
        active="dora",
        charts=views,
        current=periods.get("current"),
        baseline=periods.get("baseline"),
        labels=labels,
        quarters=quarters,
        clusters=DORA_2024,
        citation=CITATION,
        as_of=metrics.as_of,
    )
