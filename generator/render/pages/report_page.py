"""Report pages: a Markdown narrative with the report period's figures embedded by reference.

Everything inside <article class="report"> comes from the report period as of
its own as_of and from the baseline as of its end, so events after the report's
as_of never change it; its fingerprint is a hash of the numbers it shows.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pandas as pd
from markupsafe import Markup, escape

from generator.charts import trends as charts
from generator.charts.spec import Chart
from generator.charts.theme import SERIES, layout, text
from generator.forecast.scenarios import scenario_results
from generator.metrics import trends
from generator.metrics.aggregates import PeriodResult
from generator.metrics.compare import compare_periods
from generator.metrics.periods import PeriodSpan, report_period
from generator.metrics.stream import StreamMetrics
from generator.render.charts_view import chart_view
from generator.render.format import duration, instant, number, percent
from generator.render.map_context import period_map
from generator.render.markdown_text import render_markdown
from generator.render.report_forecast import forecast_reference
from generator.render.scenarios_view import scenario_block
from generator.render.tables import clean
from generator.validate.reports import ReportDef

if TYPE_CHECKING:
    from generator.render.context import SiteContext

PERCENT_METRICS = {"flow_efficiency", "rolled_pct_complete_accurate", "rework_rate"}
COUNT_METRICS = {"count", "items_through", "wip_now", "wip_mean"}


def report_span(metrics: StreamMetrics, report: ReportDef) -> PeriodSpan:
    """The report's period: a named period of stream.yaml, or its own start/end; cut at its as_of."""
    assert metrics.as_of is not None
    named = {name: p.span for name, p in metrics.periods.items()}
    return report_period(metrics.config.definition, metrics.as_of, named, report)


def _metric_value(summary: dict[str, Any], path: str) -> tuple[Any, str]:
    value: Any = summary
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    last = path.split(".")[-1]
    if value is None:
        return None, "–"
    if (
        (path.startswith(("lead_time.", "cycle_time.")) and last != "count")
        or last.endswith("_days")
        or path.endswith("days_mean")
    ):
        return value, duration(value)
    if (
        last in PERCENT_METRICS
        or path.startswith("flow_distribution.")
        or last == "pct_complete_accurate"
    ):
        return value, percent(value)
    if last == "throughput_per_week":
        return value, f"{number(value)} items a week"
    if last in COUNT_METRICS or path.endswith(".count"):
        return value, number(value, 0) if float(value).is_integer() else number(value)
    return value, number(value)


def _verdict_badge(entry: dict[str, Any]) -> str:
    v = entry["verdict"]
    cls = {
        "improved": "good",
        "worse": "bad",
        "no significant change": "flat",
        "not enough data": "none",
    }[v]
    sign = {"improved": "▲", "worse": "▼", "no significant change": "=", "not enough data": "?"}[v]
    return f'<span class="verdict verdict-{cls}">{sign} {escape(v)}</span>'


def _stages_chart(base: PeriodResult | None, period: PeriodResult, names: dict[str, str]) -> Chart:
    ids = [sid for sid, v in period.summary["stages"].items() if v["kind"] in ("wait", "active")]
    data = []
    rows = []
    for label, p, colour in (
        (base.span.label if base else None, base, "#9aa5af"),
        (period.span.label, period, SERIES[0]),
    ):
        if p is None:
            continue
        values = [p.summary["stages"][sid]["mean_days"] for sid in ids]
        data.append(
            {
                "type": "bar",
                "name": text(label),
                "x": [text(names[s]) for s in ids],
                "y": values,
                "marker": {"color": colour},
                "hovertemplate": "%{x}: %{y:.1f} d<extra></extra>",
            }
        )
        rows += [
            {"period": label, "stage": names[s], "mean_days": v}
            for s, v in zip(ids, values, strict=True)
        ]
    lay = layout(
        "Mean time per stage",
        "days per completed item",
        x_type="category",
        hovermode="closest",
        barmode="group",
    )
    return Chart(
        id="report-stages",
        title="Mean time per stage",
        caption="Mean time per completed item in each wait and active stage (0 for items that skipped it).",
        finding="Where the period's completed items spent their time, stage by stage.",
        spec={"data": data, "layout": lay},
        table=pd.DataFrame(rows, columns=["period", "stage", "mean_days"]),
        download="stages.csv",
        columns={"period": "period", "stage": "stage", "mean_days": "mean (days)"},
    )


def _period_charts(
    metrics: StreamMetrics, period: PeriodResult, base: PeriodResult | None
) -> dict[str, Chart]:
    d = metrics.config.definition
    tz = d.timezone
    hist = trends.history(
        {period.span.name: period},
        metrics.prepared.item_dtype if metrics.prepared is not None else None,
    )
    weeks = trends.per_bucket(hist, tz, "W")
    events = [
        {"date": e.date, "label": e.label}
        for e in d.events
        if period.span.first_day <= e.date <= period.span.last_day
    ]
    cycle = period.summary["cycle_time"]
    names = {s.id: s.label for s in d.stages}
    t = d.targets
    out = {
        "throughput": charts.throughput(weeks, events, t.throughput_per_week),
        "lead_time": charts.percentiles(
            weeks, "lead", "W", events, t.lead_time_p85_days, t.lead_time_p50_days
        ),
        "cycle_time": charts.percentiles(
            weeks, "cycle", "W", events, t.cycle_time_p85_days, t.cycle_time_p50_days
        ),
        "scatter": charts.scatter(
            hist,
            tz,
            events,
            {q: cycle[q] for q in ("p50", "p85", "p95")},
            t.cycle_time_p85_days,
            True,
        ),
        "wip": charts.wip(period.wip_daily, tz, events, t.wip_mean),
        "distribution": _distribution(period),
        "stages": _stages_chart(base, period, names),
    }
    for key, chart in out.items():
        chart.id = f"report-{key}"
    return out


def _distribution(period: PeriodResult) -> Chart:
    shares = period.summary["flow_distribution"]
    data = [
        {
            "type": "bar",
            "x": list(shares),
            "y": list(shares.values()),
            "marker": {"color": SERIES[0]},
            "hovertemplate": "%{x}: %{y:.0%}<extra></extra>",
        }
    ]
    lay = layout(
        "Flow distribution", "share of completed items", x_type="category", hovermode="closest"
    )
    lay["yaxis"]["tickformat"] = ".0%"
    return Chart(
        id="report-distribution",
        title="Flow distribution",
        caption="Share of the period's completed items per flow type.",
        finding=", ".join(f"{k} {v:.0%}" for k, v in shares.items() if v),
        spec={"data": data, "layout": lay},
        table=pd.DataFrame({"flow_type": list(shares), "share": list(shares.values())}),
        download="flow-distribution.csv",
    )


def fingerprint(numbers: Any) -> str:
    """A short, stable hash of the numbers a report shows."""
    blob = json.dumps(clean(numbers), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _same_span(a: PeriodResult, b: PeriodResult) -> bool:
    """Whether two periods are the same items as of the same instant under the same label (a
    report on the current period reuses the stream's comparison and scenario results: the same figures)."""
    keys = ("start", "end", "as_of", "label")
    return all(getattr(a.span, k) == getattr(b.span, k) for k in keys)


def build_report(
    ctx: SiteContext, metrics: StreamMetrics, report: ReportDef, folder: str
) -> dict[str, Any]:
    """The report's content (HTML of the narrative with references filled in) and its facts."""
    assert metrics.period_for is not None
    d = metrics.config.definition
    the_span = report_span(metrics, report)
    period = metrics.period_for(the_span)
    base = metrics.periods.get("baseline")
    use_base = (
        base is not None and base.span.end <= the_span.as_of and base.span.start != the_span.start
    )
    current = metrics.periods.get("current")
    same = current is not None and _same_span(current, period)
    comparison = (
        metrics.comparison  # the stream's own comparison: the same periods, the same figures
        if use_base and same
        else compare_periods(
            metrics.config.id,
            base,
            period,
            [s.id for s in d.stages if s.kind in ("wait", "active")],
            stage_names={s.id: s.label for s in d.stages},
        )
        if use_base and base is not None
        else {}
    )
    chart_objs = _period_charts(metrics, period, base if use_base else None)
    wanted = {ref.arg for ref in report.references if ref.kind == "scenario"}
    scenarios = (
        {sid: r for sid, r in metrics.scenarios.items() if sid in wanted}
        if same
        else scenario_results(
            metrics.config.id,
            d,
            metrics.result,
            period,
            tuple(s for s in d.scenarios if s.id in wanted),
        )
        if wanted and metrics.result is not None
        else {}
    )
    shown: dict[str, Any] = {"period": period.span.as_dict(), "as_of": the_span.as_of}
    placeholders: dict[str, str] = {}
    body = report.body
    pieces = []
    last = 0
    for i, ref in enumerate(report.references):
        token = f"VSMREF{i:04d}X"
        pieces.append(body[last : ref.start])
        pieces.append(token)
        last = ref.end
        if ref.kind == "metric":
            value, shown_text = _metric_value(period.summary, ref.arg)
            shown[f"metric:{ref.arg}"] = value
            placeholders[token] = (
                f'<span class="figure" title="{escape(ref.arg)}">{escape(shown_text)}</span>'
            )
        elif ref.kind in ("compare", "verdict"):
            entry = comparison.get(ref.arg)
            if entry is None:
                placeholders[token] = '<span class="muted">(no baseline to compare with)</span>'
                continue
            shown[f"compare:{ref.arg}"] = {
                k: entry[k]
                for k in (
                    "baseline",
                    "current",
                    "change",
                    "ci_low",
                    "ci_high",
                    "p_value",
                    "verdict",
                )
            }
            sentence = entry["sentence"]
            placeholders[token] = _verdict_badge(entry) + (
                " " + str(escape(sentence)) if ref.kind == "compare" else ""
            )
        elif ref.kind == "chart":
            view = chart_view(chart_objs[ref.arg], ctx, folder)
            shown[f"chart:{ref.arg}"] = view["spec_json"]
            placeholders[token] = ctx.env.get_template("_chart.html").module.chart(view, lazy=True)  # type: ignore[attr-defined]
        elif ref.kind == "scenario":
            found = scenarios.get(ref.arg)
            if found is None:
                placeholders[token] = (
                    '<span class="muted">(no completed items in the period to project)</span>'
                )
                continue
            shown[f"scenario:{ref.arg}"] = found.figures
            placeholders[token] = scenario_block(found.figures)
        elif ref.kind == "forecast":
            html_text, figures = forecast_reference(metrics, ref.arg, the_span.as_of)
            shown[f"forecast:{ref.arg}"] = figures
            placeholders[token] = html_text
        elif ref.kind == "map":
            vsm = period_map(
                metrics,
                period,
                baseline=base if use_base else None,
                comparison=comparison or None,
                id_prefix=f"vsm-{report.slug}",
                root="../../../../",
            )
            shown["map"] = vsm["svg"]
            placeholders[token] = (
                f'<div class="vsm">{vsm["svg"]}</div><details class="map-table"><summary>The map as a table</summary>{vsm["table"]}</details>'
            )
    pieces.append(body[last:])
    html = render_markdown("".join(pieces))
    block = {
        f"VSMREF{i:04d}X"
        for i, ref in enumerate(report.references)
        if ref.kind in ("chart", "map", "scenario")
    }
    for token, value in placeholders.items():
        # a chart or map alone on its line became a paragraph: block content must not sit in a <p>
        if token in block:
            html = html.replace(f"<p>{token}</p>", str(value))
        html = html.replace(token, str(value))
    title = report.front.title or the_span.label
    return {
        "slug": report.slug,
        "title": title,
        "period": f"{the_span.label} ({the_span.first_day:%-d %b %Y} – {the_span.last_day:%-d %b %Y})",
        "as_of": the_span.as_of,
        "as_of_text": instant(the_span.as_of, d.timezone),
        "complete": the_span.complete,
        "html": Markup(html),
        "fingerprint": fingerprint(shown),
        "completed": period.summary["lead_time"]["count"],
        "baseline_label": base.span.label if use_base and base else None,
        "end": the_span.end,
    }


def render_one(
    ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any], report: ReportDef
) -> dict[str, Any]:
    """Render one report of the stream; return its summary (for the overview and the home card)."""
    folder = f"streams/{metrics.config.id}/reports/{report.slug}"
    built = build_report(ctx, metrics, report, folder)
    ctx.page(
        f"{folder}/index.html",
        "report.html",
        title=f"{built['title']} · {metrics.config.definition.name}",
        definition=metrics.config.definition,
        nav=nav,
        active="reports",
        report=built,
        as_of=metrics.as_of,
    )
    return built


def newest_first(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(reports, key=lambda r: (-r["end"], -r["as_of"], r["slug"]))
