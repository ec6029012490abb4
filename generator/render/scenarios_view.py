"""The what-if section (generator/site_templates/_scenarios.html): its context, for whichever page holds it.

`scenarios_context` gives everything the partial draws: one entry per scenario of the stream with
its sentence, what each change did, a figures table (measured, projected, the projected value's
95% interval), the lead-time chart and the future-state map beside the measured one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from markupsafe import escape

from generator.charts.scenarios import lead_time_chart
from generator.metrics.aggregates import PeriodResult
from generator.metrics.stream import StreamMetrics
from generator.render.charts_view import chart_view
from generator.render.format import duration, percent
from generator.render.map_context import period_map, projected_map
from generator.render.markdown_text import render_inline

if TYPE_CHECKING:
    from generator.forecast.scenarios import ScenarioResult
    from generator.render.context import SiteContext


def _days_range(interval: list[float] | None) -> str:
    """'30.6–36.3 d' (one unit when both ends read in the same one), '–' when there is none."""
    if not interval:
        return "–"
    low, high = duration(interval[0]), duration(interval[1])
    if low.split(" ")[-1] == high.split(" ")[-1]:
        return f"{low.rsplit(' ', 1)[0]}–{high}"
    return f"{low} – {high}"


def _share_range(interval: list[float] | None) -> str:
    return f"{percent(interval[0]).rstrip('%')}–{percent(interval[1])}" if interval else "–"


def figure_rows(figures: dict[str, Any]) -> list[dict[str, str]]:
    """The scenario's headline figures as table rows: measure, measured, projected, interval."""
    lead, cycle, flow = figures["lead_time"], figures["cycle_time"], figures["flow_efficiency"]
    rows = [
        ("Lead time, p85", lead["current"]["p85"], lead["projected"]["p85"], lead["p85_interval"]),
        (
            "Lead time, median",
            lead["current"]["p50"],
            lead["projected"]["p50"],
            lead["p50_interval"],
        ),
        ("Lead time, mean", lead["current"]["mean"], lead["projected"]["mean"], None),
        (
            "Cycle time, p85",
            cycle["current"]["p85"],
            cycle["projected"]["p85"],
            cycle["p85_interval"],
        ),
        (
            "Cycle time, median",
            cycle["current"]["p50"],
            cycle["projected"]["p50"],
            cycle["p50_interval"],
        ),
    ]
    out = [
        {
            "measure": label,
            "measured": duration(now),
            "projected": duration(then),
            "interval": _days_range(interval),
        }
        for label, now, then, interval in rows
    ]
    out.append(
        {
            "measure": "Flow efficiency",
            "measured": percent(flow["current"]),
            "projected": percent(flow["projected"]),
            "interval": _share_range(flow["interval"]),
        }
    )
    for key, label in (
        ("rework_rate", "Items sent back at least once"),
        ("rolled_pct_complete_accurate", "Rolled %C&A"),
    ):
        out.append(
            {
                "measure": label,
                "measured": percent(figures[key]["current"]),
                "projected": percent(figures[key]["projected"]),
                "interval": "–",
            }
        )
    return out


def scenario_view(
    ctx: SiteContext,
    metrics: StreamMetrics,
    period: PeriodResult,
    result: ScenarioResult,
    folder: str,
    root: str,
) -> dict[str, Any]:
    """One scenario's part of the section."""
    sid, f = result.scenario.id, result.figures
    chart = lead_time_chart(
        f"scenario-{sid}-lead-time",
        result.scenario.name,
        period.span.label,
        result.current_lead_days,
        result.lead_days,
        f,
        f"scenario-{sid}-lead-time.csv",
    )
    return {
        "id": sid,
        "name": result.scenario.name,
        "description": render_inline(result.scenario.description)
        if result.scenario.description
        else "",
        "sentence": f["sentence"],
        "changes": [c["text"] for c in f["changes"]],
        "littles_law": any(c["kind"] == "wip_limit" for c in f["changes"]),
        "rows": figure_rows(f),
        "items": f["items"],
        "chart": chart_view(chart, ctx, folder),
        "map": projected_map(
            metrics,
            period,
            result.summary,
            result.scenario,
            id_prefix=f"vsm-scenario-{sid}",
            root=root,
        ),
    }


def scenarios_context(
    ctx: SiteContext, metrics: StreamMetrics, folder: str, root: str
) -> dict[str, Any] | None:
    """The `scenarios` variable of _scenarios.html for a page at `folder` (None: nothing to show).

    `root` is the page's path back to the site root (e.g. "../../../" for streams/<id>/forecast/).
    """
    period = metrics.periods.get("current")
    if not metrics.scenarios or period is None or not period.summary["lead_time"]["count"]:
        return None
    return {
        "period": period.span.label,
        "dates": (period.span.first_day, period.span.last_day),
        "items": period.summary["lead_time"]["count"],
        "csv": f"{root}streams/{metrics.config.id}/data/scenarios.csv",
        "current_map": period_map(metrics, period, id_prefix="vsm-scenario-now", root=root),
        "items_list": [
            scenario_view(ctx, metrics, period, r, folder, root) for r in metrics.scenarios.values()
        ],
    }


def scenario_block(figures: dict[str, Any]) -> str:
    """A report's `{{ scenario <id> }}`: the sentence, what the changes did and the figures table,
    computed from the report's own period (so a closed period's report never changes)."""
    rows = "".join(
        f'<tr><th scope="row">{escape(r["measure"])}</th><td class="num">{escape(r["measured"])}</td>'
        f'<td class="num">{escape(r["projected"])}</td><td class="num">{escape(r["interval"])}</td></tr>'
        for r in figure_rows(figures)
    )
    changes = "".join(f"<li>{escape(c['text'])}</li>" for c in figures["changes"])
    label = figures["period"]["label"]
    return (
        f'<div class="scenario-ref"><p class="scenario-sentence">{escape(figures["sentence"])} '
        f'<span class="tag tag-projection">projection</span></p><ul class="scenario-changes">{changes}</ul>'
        f'<div class="table-wrap"><table class="scenario-figures"><caption>{escape(figures["name"])}: '
        f"measured in {escape(label)} ({figures['items']:,} completed items) and projected; the "
        "interval is the 95% bootstrap interval of the projected value.</caption><thead><tr>"
        '<th scope="col">Measure</th><th scope="col" class="num">Measured</th>'
        '<th scope="col" class="num">Projected</th><th scope="col" class="num">95% interval</th>'
        f"</tr></thead><tbody>{rows}</tbody></table></div></div>"
    )
