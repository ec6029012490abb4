"""The `forecast` key of metrics.json (docs/metrics.md): plain values, dates as YYYY-MM-DD."""

from __future__ import annotations

from typing import Any

from generator.forecast import wording
from generator.forecast.backtest import Backtest
from generator.forecast.montecarlo import MAX_DAYS, PERCENTS
from generator.forecast.plan import Forecast, HowManyForecast, WhenForecast


def _how_many(f: HowManyForecast, forecast: Forecast) -> dict[str, Any]:
    r = f.result
    return {
        "label": f.label,
        "date": f.date.isoformat(),
        "horizon_days": r.horizon_days,
        **{f"p{p}": r.lines[p] for p in PERCENTS},
        "mean": r.mean,
        "trials": r.trials,
        "sentence": wording.how_many_sentence(f, forecast.window),
    }


def _when(f: WhenForecast, forecast: Forecast) -> dict[str, Any]:
    r = f.result
    out: dict[str, Any] = {"label": f.label, "items": r.items, "scope": f.scope}
    for p in PERCENTS:
        d = f.date(r.lines[p])
        out[f"p{p}"] = d.isoformat() if d else None
    out.update(
        {
            "never": r.never,
            "max_days": MAX_DAYS,
            "trials": r.trials,
            "sentence": wording.when_sentence(f, forecast.window),
        }
    )
    return out


def _backtest(b: Backtest) -> dict[str, Any]:
    expected = b.expected_range()
    return {
        "kind": b.kind,
        "every_days": b.every_days,
        "horizon_days": b.horizon_days,
        "scope": b.scope,
        "trials": b.trials,
        "forecasts": len(b.points),
        "inside": b.inside,
        "expected_low": expected[0] if expected else None,
        "expected_high": expected[1] if expected else None,
        "no_forecast": b.no_forecast,
        "pending": b.pending,
        "sentence": wording.backtest_sentence(b),
        "points": [p.as_dict(b.kind) for p in b.points],
    }


def forecast_document(f: Forecast, current_label: str | None = None) -> dict[str, Any]:
    win = f.window
    out: dict[str, Any] = {
        "start": f.start_day.isoformat(),
        "available": win is not None,
        "trials": f.trials,
        "window": win.as_dict() if win is not None else None,
        "how_many": [_how_many(h, f) for h in f.how_many],
        "when": [_when(w, f) for w in f.when],
        "backtest": {b.kind: _backtest(b) for b in f.backtests},
    }
    s = f.sle
    if s is not None:
        current = s.periods.get("current")
        risky = s.at_risk()
        out["sle"] = {
            "days": s.days,
            "percentile": 85,
            "source": s.source,
            "window_items": s.window_items,
            "sentence": wording.sle_sentence(
                s, current_label, current["share"] if current else None
            ),
            "periods": {
                name: {k: v[k] for k in ("start", "end", "count", "within", "share")}
                for name, v in s.periods.items()
            },
            "monthly": [
                {"month": m.isoformat(), "count": int(c), "within": int(w), "share": float(sh)}
                for m, c, w, sh in s.monthly[["month", "count", "within", "share"]].itertuples(
                    index=False
                )
            ],
            "risk_counts": s.risk_counts(),
            "items_at_risk": risky.assign(item_id=risky["item_id"].astype(str))[
                ["item_id", "stage", "age_days", "sle_share", "risk"]
            ].to_dict("records"),
        }
    else:
        out["sle"] = None
    return out
