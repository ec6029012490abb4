"""`{{ forecast ... }}` references in reports: their argument, parsed and checked (docs/reports.md).

    {{ forecast how_many 4w }}            items done in the 4 weeks from the report's as_of (a sentence)
    {{ forecast how_many 28d p85 }}       just the 85% line: "at least 69 items"
    {{ forecast how_many 2026-12-31 }}    items done by that date (both days included)
    {{ forecast when committed }}         when the items in progress at the report's as_of are done
    {{ forecast when all p50 }}           just the 50% date for the items open then
    {{ forecast when 40 }}                when 40 items are done

The forecast is made as of the report's own as_of, so a closed period's report never changes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from generator.forecast.montecarlo import PERCENTS
from generator.validate.schema import HowMany, WhenDone

HORIZON_RE = re.compile(r"^(\d+)([wd])$")
LINE_RE = re.compile(r"^p(\d+)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
USAGE = (
    "write {{ forecast how_many 4w }}, {{ forecast how_many 28d }}, "
    "{{ forecast how_many 2026-12-31 }}, {{ forecast when committed }}, {{ forecast when all }} "
    "or {{ forecast when 40 }}, optionally followed by p50, p70, p85 or p95"
)


@dataclass(frozen=True)
class ForecastRef:
    """A parsed `{{ forecast ... }}`: one of how_many / when, and the line to show (None: a sentence)."""

    how_many: HowMany | None
    when: WhenDone | None
    line: int | None


def parse_forecast_ref(arg: str) -> tuple[ForecastRef | None, str]:
    """(the reference, '') or (None, what is wrong with it)."""
    words = arg.split()
    line = None
    if len(words) == 3:
        match = LINE_RE.match(words[2])
        if not match or int(match.group(1)) not in PERCENTS:
            return None, f"'{words[2]}' is not a percentile line of the forecasts"
        line = int(match.group(1))
        words = words[:2]
    if len(words) != 2 or words[0] not in ("how_many", "when"):
        return None, f"'forecast {arg}' is not a forecast reference"
    kind, what = words
    if kind == "how_many":
        how_many = _horizon(what)
        if how_many is None:
            return (
                None,
                f"'{what}' is not a horizon: give 4w (weeks), 28d (days) or a date YYYY-MM-DD",
            )
        return ForecastRef(how_many, None, line), ""
    if what in ("committed", "all"):
        return ForecastRef(None, WhenDone(scope=what), line), ""  # type: ignore[arg-type]
    if what.isdigit() and 0 < int(what) <= 10_000_000:
        return ForecastRef(None, WhenDone(items=int(what)), line), ""
    return None, f"'{what}' is not what to forecast: give committed, all or a number of items"


def _horizon(text: str) -> HowMany | None:
    match = HORIZON_RE.match(text)
    if match:
        n, unit = int(match.group(1)), match.group(2)
        if unit == "w" and 0 < n <= 156:
            return HowMany(weeks=n)
        if unit == "d" and 0 < n <= 1096:
            return HowMany(days=n)
        return None
    if not DATE_RE.match(text):
        return None
    try:
        return HowMany(date=dt.date.fromisoformat(text))
    except ValueError:
        return None
