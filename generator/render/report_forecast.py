"""`{{ forecast ... }}` in a report: the forecast made as of the report's own as_of.

The forecast uses only what was known at the start of the as_of's day (the window before it,
the items open then) and the same seeds as the Forecast page, so a report on a closed period
shows the same forecast however much later it is built, and a report on the current period
shows what the stream's Forecast page shows.
"""

from __future__ import annotations

from typing import Any

from markupsafe import escape

from generator.forecast import wording
from generator.forecast.plan import forecast_at
from generator.metrics.stream import StreamMetrics
from generator.validate.forecast_refs import parse_forecast_ref


def forecast_reference(metrics: StreamMetrics, arg: str, as_of: int) -> tuple[str, dict[str, Any]]:
    """(the HTML shown for `{{ forecast <arg> }}`, the figures it rests on, for the fingerprint)."""
    ref, wrong = parse_forecast_ref(arg)
    assert ref is not None, wrong  # checked when the report was loaded
    if metrics.forecast is None:
        return _muted("(no forecast: the stream has no items)"), {"none": "no items"}
    f = forecast_at(
        metrics.forecast.inputs,
        as_of,
        (ref.how_many,) if ref.how_many is not None else (),
        (ref.when,) if ref.when is not None else (),
    )
    shown: dict[str, Any] = {"start_day": f.start_day.isoformat(), "trials": f.trials}
    if f.window is None:
        shown["none"] = "short history"
        return _muted(
            f"(no forecast: fewer than 14 days of history before {wording.day(f.start_day)})"
        ), shown
    shown["window"] = [
        f.window.first_day.isoformat(),
        f.window.last_day.isoformat(),
        f.window.total,
    ]
    shown["stable"] = f.window.stability.stable
    if ref.how_many is not None:
        if not f.how_many:
            shown["none"] = "date before the start"
            return _muted(
                f"(no forecast: {ref.how_many.date} is before the forecast's first day, "
                f"{wording.day(f.start_day)})"
            ), shown
        h = f.how_many[0]
        shown |= {"end": h.date.isoformat(), "lines": h.result.lines}
        if ref.line is None:
            text = wording.how_many_sentence(h, f.window)
        else:
            text = f"at least {wording.items(h.result.lines[ref.line])}"
        return _figure(text, f"forecast how_many, as of {wording.day(f.start_day)}"), shown
    w = f.when[0]
    shown |= {"items": w.result.items, "lines": w.result.lines, "never": w.result.never}
    if ref.line is None:
        text = wording.when_sentence(w, f.window)
    elif w.result.items == 0:
        text = "nothing to do"
    else:
        day = w.result.lines[ref.line]
        text = "not within 3 years" if day is None else wording.day(w.date(day))
    return _figure(text, f"forecast when, as of {wording.day(f.start_day)}"), shown


def _figure(text: str, title: str) -> str:
    return f'<span class="figure forecast" title="{escape(title)}">{escape(text)}</span>'


def _muted(text: str) -> str:
    return f'<span class="muted">{escape(text)}</span>'
