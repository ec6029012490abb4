"""local_midnights (a whole range of days at once) against local_midnight (one day), the scalar rule.

The scalar function is the independent method: pandas localises one naive
midnight with DST taken where ambiguous and shifted forward where it does not
exist. Zones are chosen where midnight itself has been skipped or repeated by a
DST change (Sao Paulo, Havana, Beirut, Santiago, Cairo), a 30-minute DST
(Lord Howe) and a zone that skipped a whole day (Apia, 30 Dec 2011).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.metrics.aggregates import week_starts
from generator.metrics.periods import PeriodSpan, local_midnight, local_midnights, span

ZONES = ["UTC", "Europe/Amsterdam", "America/Sao_Paulo", "America/Havana", "Asia/Beirut",
         "America/Santiago", "Africa/Cairo", "Australia/Lord_Howe", "Pacific/Apia"]


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2035, 12, 31)),
    days=st.integers(min_value=1, max_value=800),
)
def test_a_range_of_midnights_is_each_days_midnight(zone: str, first: dt.date, days: int) -> None:
    expected = np.array([local_midnight(first + dt.timedelta(days=i), zone) for i in range(days)], dtype=np.int64)
    assert np.array_equal(local_midnights(first, days, zone), expected)


def test_a_midnight_that_did_not_exist() -> None:
    # Sao Paulo, 4 Nov 2018: clocks went from 00:00 to 01:00, so the day starts at 01:00 local = 03:00 UTC
    start = local_midnights(dt.date(2018, 11, 4), 1, "America/Sao_Paulo")[0]
    assert start == int(dt.datetime(2018, 11, 4, 3, tzinfo=dt.UTC).timestamp()) * 10**9


def weeks_one_by_one(span: PeriodSpan, zone: str) -> list[int]:
    """The rule stepped one Monday at a time: ISO weeks wholly inside the period and before its as_of."""
    day = span.first_day + dt.timedelta(days=(7 - span.first_day.weekday()) % 7)
    out = []
    while True:
        start, end = local_midnight(day, zone), local_midnight(day + dt.timedelta(days=7), zone)
        if end > span.end or end > span.as_of:
            return out
        out.append(start)
        day += dt.timedelta(days=7)


@settings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)),
    days=st.integers(min_value=0, max_value=200),
    cut=st.integers(min_value=-3, max_value=210),
)
def test_week_starts_are_the_mondays_stepped_one_by_one(zone: str, first: dt.date, days: int, cut: int) -> None:
    last = first + dt.timedelta(days=days)
    as_of = local_midnight(first + dt.timedelta(days=cut), zone)
    the_span = span("p", "p", first, last, zone, as_of)
    assert week_starts(the_span, zone).tolist() == weeks_one_by_one(the_span, zone)
