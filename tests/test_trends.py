"""Trend buckets (metrics/trends.py) and the dates the trends charts plot."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd

from generator.metrics.trends import bucket_codes


def _ns(text: str) -> int:
    return int(pd.Timestamp(text).as_unit("ns").value)


def test_months_and_weeks_are_local() -> None:
    """Worked by hand: 30 Apr 22:30 UTC is 1 May 00:30 in Berlin (CEST, +2), so May;
    31 Mar 2025 was a Monday, 14 Apr 2025 too; 27 Apr 23:00 UTC is Monday 28 Apr 01:00 in Berlin."""
    instants = [_ns("2025-04-16T13:21Z"), _ns("2025-04-30T22:30Z"), _ns("2025-04-01T00:00Z"), _ns("2025-04-27T23:00Z")]
    codes, starts = bucket_codes(pd.Series(instants).to_numpy(), "Europe/Berlin", "M")
    assert list(starts) == [dt.date(2025, 4, 1), dt.date(2025, 5, 1)]
    assert codes.tolist() == [0, 1, 0, 0]
    codes, starts = bucket_codes(pd.Series(instants).to_numpy(), "Europe/Berlin", "W")
    assert list(starts) == [dt.date(2025, 3, 31), dt.date(2025, 4, 14), dt.date(2025, 4, 28)]
    assert codes.tolist() == [1, 2, 0, 2]


def test_every_trends_chart_plots_dates_inside_the_streams_history(example_site: Path) -> None:
    """The example streams' history runs from 2025 to as_of 2026-10-01 (generator/synthetic.py):
    every date on an x axis of a trends chart lies inside it (a unit mix-up once put monthly
    points in January 1970)."""
    for page in sorted(example_site.glob("streams/*/trends/index.html")):
        specs = re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', page.read_text(encoding="utf-8"), re.S)
        assert len(specs) >= 10, page
        for raw in specs:
            spec = json.loads(raw)
            title = spec["layout"].get("title", {}).get("text", "")
            for trace in spec["data"]:
                for x in trace.get("x") or []:
                    if isinstance(x, str) and re.match(r"\d{4}-\d{2}-\d{2}", x):
                        assert "2025-01-01" <= x[:10] <= "2026-10-01", (page, title, x)
