"""Rules of the `forecast:` block that relate its keys to each other or to `as_of` (E150-E152)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from generator.errors import Problem
from generator.load.yaml_doc import YamlDoc
from generator.validate.schema import StreamDef


def check_forecast(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    out: list[Problem] = []
    as_of_day = _as_of_day(d)
    for i, entry in enumerate(d.forecast.how_many):
        given = [k for k in ("date", "weeks", "days") if getattr(entry, k) is not None]
        if len(given) != 1:
            out.append(
                Problem(
                    "E150",
                    "error",
                    doc.locate(("forecast", "how_many", i)),
                    f"forecast.how_many[{i}]: give one of date, weeks or days"
                    + (f", not {' and '.join(given)}" if given else ""),
                    "e.g. {date: 2026-12-15} for a release date, or {weeks: 4} for the next four weeks",
                )
            )
        elif entry.date is not None and as_of_day is not None and entry.date < as_of_day:
            out.append(
                Problem(
                    "E151",
                    "error",
                    doc.locate(("forecast", "how_many", i, "date")),
                    f"forecast.how_many[{i}].date: {entry.date} is before as_of ({as_of_day})",
                    "a forecast looks forward: give a date on or after as_of's date, or a horizon in weeks",
                )
            )
    for i, when in enumerate(d.forecast.when):
        if when.items is not None and when.scope is not None:
            out.append(
                Problem(
                    "E152",
                    "error",
                    doc.locate(("forecast", "when", i, "scope")),
                    f"forecast.when[{i}]: give items or scope, not both",
                    "items: N forecasts N items; scope: committed (or all) forecasts the items open at as_of",
                )
            )
    return out


def _as_of_day(d: StreamDef) -> dt.date | None:
    """as_of's local date when stream.yaml sets it (naive: in the stream's zone), else None."""
    if d.as_of is None:
        return None
    try:
        zone = ZoneInfo(d.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    stamp = d.as_of if d.as_of.tzinfo is not None else d.as_of.replace(tzinfo=zone)
    return stamp.astimezone(zone).date()
