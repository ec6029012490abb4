"""The forecast page: when will the open work be done, how many by a date, how good those forecasts
have been, the service level expectation, and the what-if scenarios with their future-state maps."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pandas as pd

from generator.charts import forecast as charts
from generator.charts import sle as sle_charts
from generator.forecast import wording
from generator.forecast.montecarlo import PERCENTS
from generator.forecast.plan import Forecast
from generator.forecast.sle import RISK_WORDS
from generator.metrics.stream import StreamMetrics
from generator.render.charts_view import chart_view, table_csv
from generator.render.scenarios_view import scenarios_context

if TYPE_CHECKING:
    from generator.render.context import SiteContext

AT_RISK_ROWS = 100


def assumptions(f: Forecast) -> dict[str, Any] | None:
    """What every forecast on the page assumes, in figures."""
    w = f.window
    if w is None:
        return None
    s = w.stability
    return {
        "first_day": w.first_day,
        "last_day": w.last_day,
        "days": w.days,
        "requested_days": w.requested_days,
        "completed": w.total,
        "zero_days": w.zero_days,
        "zero_share": w.zero_days / w.days if w.days else None,
        "mean_per_day": w.mean_per_day,
        "first_per_day": s.first_per_day,
        "second_per_day": s.second_per_day,
        "p_value": s.p_value,
        "stable": s.stable,
        "trials": f.trials,
    }


def lines_table(f: Forecast) -> pd.DataFrame:
    """forecasts.csv: one row per forecast, its percentile lines and the window it resampled."""
    w = f.window
    base = {
        "start": f.start_day.isoformat(),
        "window_first_day": w.first_day.isoformat() if w else None,
        "window_last_day": w.last_day.isoformat() if w else None,
        "window_days": w.days if w else None,
        "window_completed": w.total if w else None,
        "zero_days": w.zero_days if w else None,
        "stable": w.stability.stable if w else None,
        "trials": f.trials,
    }
    rows: list[dict[str, Any]] = []
    for h in f.how_many:
        rows.append(
            {"kind": "how_many", "label": h.label, "items": None, "last_day": h.date.isoformat()}
            | {f"p{p}": str(h.result.lines[p]) for p in PERCENTS}
            | base
        )
    for x in f.when:
        rows.append(
            {"kind": "when", "label": x.label, "items": x.result.items, "last_day": None}
            | {f"p{p}": _iso(x.date(x.result.lines[p])) for p in PERCENTS}
            | base
        )
    columns = ["kind", "label", "items", "last_day", *(f"p{p}" for p in PERCENTS), *base]
    return pd.DataFrame(rows, columns=columns)


def _iso(day: dt.date | None) -> str:
    return "" if day is None else day.isoformat()


def context(ctx: SiteContext, metrics: StreamMetrics, folder: str) -> dict[str, Any]:
    """Everything forecast.html shows; the charts' CSVs are written beside the page."""
    f = metrics.forecast
    assert f is not None
    d = metrics.config.definition
    when = []
    for i, w in enumerate(f.when, start=1):
        chart = chart_view(charts.when(w, f"forecast-when-{i}", f"when-{i}.csv"), ctx, folder)
        lines = [
            {"p": p, "date": w.date(w.result.lines[p]), "day": w.result.lines[p]} for p in PERCENTS
        ]
        when.append(
            {
                "label": w.label,
                "n_items": w.result.items,
                "sentence": wording.when_sentence(w, f.window),
                "chart": chart,
                "lines": lines,
                "never": w.result.never,
                "trials": w.result.trials,
            }
        )
    how_many = []
    for i, h in enumerate(f.how_many, start=1):
        chart = chart_view(
            charts.how_many(h, f"forecast-how-many-{i}", f"how-many-{i}.csv"), ctx, folder
        )
        how_many.append(
            {
                "label": h.label,
                "date": h.date,
                "horizon": h.result.horizon_days,
                "sentence": wording.how_many_sentence(h, f.window),
                "chart": chart,
                "lines": [{"p": p, "n": h.result.lines[p]} for p in PERCENTS],
                "mean": h.result.mean,
            }
        )
    backtests = [
        {
            "kind": b.kind,
            "sentence": wording.backtest_sentence(b),
            "verdict": wording.calibration_verdict(b),
            "chart": chart_view(
                charts.backtest(
                    b,
                    f"forecast-backtest-{b.kind.replace('_', '-')}",
                    f"backtest-{b.kind.replace('_', '-')}.csv",
                ),
                ctx,
                folder,
            )
            if b.points
            else None,
            "count": len(b.points),
            "no_forecast": b.no_forecast,
            "pending": b.pending,
            "every": b.every_days,
            "trials": b.trials,
        }
        for b in f.backtests
    ]
    ctx.add(f"{folder}/forecasts.csv", table_csv(lines_table(f)))
    return {
        "forecast": f,
        "start_day": f.start_day,
        "assume": assumptions(f),
        "caveat": wording.caveat(f.window).strip(),
        "when": when,
        "how_many": how_many,
        "backtests": backtests,
        "sle": _sle(ctx, metrics, folder),
        "percents": PERCENTS,
        "definition": d,
    }


def _sle(ctx: SiteContext, metrics: StreamMetrics, folder: str) -> dict[str, Any] | None:
    f = metrics.forecast
    assert f is not None
    s = f.sle
    if s is None:
        return None
    d = metrics.config.definition
    stages = [(st.id, st.label) for st in d.stages if st.kind != "cancelled"]
    names = dict(stages) | {"unmapped": "unmapped"}
    current = metrics.periods.get("current")
    share = s.periods.get("current", {}).get("share") if current else None
    privacy = ctx.options.privacy
    risky = s.at_risk()
    download = risky[["item_id", "stage", "age_days", "sle_share", "risk"]].assign(
        item_id=risky["item_id"].astype(str)
    )
    ctx.add(f"{folder}/at-risk.csv", table_csv(download))
    per_period = pd.DataFrame(
        [{"period": name, **v} for name, v in s.periods.items()],
        columns=["period", "label", "start", "end", "count", "within", "share"],
    ).astype({"start": str, "end": str})
    ctx.add(f"{folder}/sle-per-period.csv", table_csv(per_period.assign(sle_days=s.days)))
    rows = [
        {
            "item_id": str(r["item_id"]),
            "title": None if privacy or not isinstance(r["title"], str) else r["title"],
            "url": None if privacy or not isinstance(r["url"], str) else r["url"],
            "stage": names.get(str(r["stage"]), str(r["stage"])),
            "age": float(r["age_days"]),
            "share": float(r["sle_share"]),
            "risk": str(r["risk"]),
            "risk_words": RISK_WORDS[str(r["risk"])],
        }
        for r in risky.head(AT_RISK_ROWS).to_dict("records")
    ]
    return {
        "days": s.days,
        "source": wording.SOURCES[s.source],
        "sentence": wording.sle_sentence(s, current.span.label if current else None, share),
        "periods": [{"name": name, **v} for name, v in s.periods.items()],
        "monthly": chart_view(sle_charts.sle_monthly(s.monthly, s.days), ctx, folder)
        if s.days is not None and len(s.monthly)
        else None,
        "aging": chart_view(
            sle_charts.aging_by_risk(s.aging, stages, s.days, privacy), ctx, folder
        ),
        "risk_counts": s.risk_counts(),
        "at_risk": rows,
        "at_risk_total": len(risky),
    }


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    d = metrics.config.definition
    folder = f"streams/{metrics.config.id}/forecast"
    page = context(ctx, metrics, folder)
    # the what-if scenarios (docs/scenarios.md): forecast.html includes _scenarios.html
    scenarios = scenarios_context(ctx, metrics, folder, "../../../")
    ctx.page(
        f"{folder}/index.html",
        "forecast.html",
        title=f"Forecast · {d.name}",
        nav=nav,
        active="forecast",
        as_of=metrics.as_of,
        scenarios=scenarios,
        **page,
    )
