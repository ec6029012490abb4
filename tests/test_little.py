"""Little's law checks (generator/metrics/little.py), on hand-made period summaries.

Every period is 13 weeks (91 days), so "a week" figures times 13 are the period's counts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from generator.metrics.aggregates import PeriodResult
from generator.metrics.little import littles_law_check
from generator.metrics.periods import DAY_NS, PeriodSpan

START = int(pd.Timestamp("2026-01-05", tz="UTC").value)


def period(**summary: Any) -> PeriodResult:
    end = START + 91 * DAY_NS
    span = PeriodSpan(
        "current", "Q1", dt.date(2026, 1, 5), dt.date(2026, 4, 5), START, end, end, "named"
    )
    empty = pd.DataFrame()
    return PeriodResult(span, summary, empty, np.zeros(0, dtype=np.int64), empty, empty, empty)


def stable(**changes: Any) -> PeriodResult:
    # 10 committed and 9.5 completed a week; WIP 12 -> 13; mean WIP 14 vs 9.5 / 7 x 9.8 = 13.3
    base: dict[str, Any] = {
        "arrivals": {"committed_per_week": 10.0, "created_per_week": 14.0},
        "throughput_per_week": 9.5,
        "wip_start": 12,
        "wip_now": 13,
        "wip_mean": 14.0,
        "cycle_time": {"count": 123, "mean": 9.8},
    }
    base.update(changes)
    return period(**base)


def test_a_stable_period_holds() -> None:
    out = littles_law_check(stable())
    assert out["tolerance"] == 0.2 and out["holds"] is True
    assert list(out) == ["tolerance", "holds", "arrivals", "wip", "littles_law"]
    assert out["arrivals"] == {
        "committed_per_week": 10.0,
        "completed_per_week": 9.5,
        "relative_difference": pytest.approx(0.05),
        "holds": True,
        "note": "Commitments (10 a week) and completions (9.5 a week) were balanced within 20%, as Little's law assumes.",
    }
    assert out["wip"]["holds"] is True and out["wip"]["change"] == 1
    assert out["wip"]["note"] == "WIP was stable (12 at the start of the period, 13 at the end)."
    law = out["littles_law"]
    assert law["implied_wip"] == pytest.approx(9.5 / 7 * 9.8)  # 13.3
    assert law["holds"] is True
    assert law["note"] == (
        "Average WIP (14) matches throughput × mean cycle time (1.36 a day × 9.8 days = 13.3) "
        "within 20%, as Little's law predicts for a stable system."
    )


def test_wip_growth() -> None:
    out = littles_law_check(stable(wip_start=12, wip_now=31))
    assert out["holds"] is False
    assert out["wip"]["holds"] is False
    assert out["wip"]["change"] == 19
    assert out["wip"]["relative_difference"] == pytest.approx(19 / 31)
    assert out["wip"]["note"] == (
        "WIP grew from 12 to 31 over the period: more work started than finished, "
        "so average times understate what new work will take."
    )


def test_wip_drain() -> None:
    out = littles_law_check(stable(wip_start=31, wip_now=12))
    assert out["wip"]["holds"] is False
    assert out["wip"]["note"].startswith(
        "WIP fell from 31 to 12 over the period: more work finished than started"
    )


def test_more_commitments_than_completions() -> None:
    out = littles_law_check(stable(arrivals={"committed_per_week": 15.0}, throughput_per_week=10.0))
    a = out["arrivals"]
    assert a["holds"] is False and a["relative_difference"] == pytest.approx(1 / 3)
    assert a["note"] == (
        "More work was committed (15 a week) than finished (10 a week): WIP was building up, "
        "so average times understate what new work will take."
    )
    out = littles_law_check(stable(arrivals={"committed_per_week": 6.0}, throughput_per_week=10.0))
    assert out["arrivals"]["holds"] is False
    assert out["arrivals"]["note"].startswith(
        "Less work was committed (6 a week) than finished (10 a week)"
    )


def test_one_item_is_never_a_trend() -> None:
    # WIP 2 -> 3 is +50% but one item; 2 vs 3 items committed/completed over 13 weeks likewise
    out = littles_law_check(
        stable(
            wip_start=2,
            wip_now=3,
            arrivals={"committed_per_week": 2 / 13},
            throughput_per_week=3 / 13,
            wip_mean=0.5,
        )
    )
    assert out["wip"]["holds"] is True and out["wip"]["relative_difference"] == pytest.approx(1 / 3)
    assert out["arrivals"]["holds"] is True and out["arrivals"][
        "relative_difference"
    ] == pytest.approx(1 / 3)
    out = littles_law_check(stable(wip_start=2, wip_now=4))
    assert out["wip"]["holds"] is False


def test_tolerance_is_a_share_of_the_larger_figure() -> None:
    grown = stable(wip_start=12, wip_now=17)  # 5 / 17 = 0.29
    assert littles_law_check(grown)["wip"]["holds"] is False
    assert littles_law_check(grown, tolerance=0.3)["wip"]["holds"] is True
    assert littles_law_check(grown, tolerance=0.3)["tolerance"] == 0.3
    edge = stable(wip_start=8, wip_now=10)  # 2 / 10 = 0.2 exactly: holds
    assert littles_law_check(edge)["wip"]["holds"] is True


def test_littles_law_off_balance() -> None:
    out = littles_law_check(stable(wip_mean=20.0))  # implied 13.3
    law = out["littles_law"]
    assert law["holds"] is False and law["relative_difference"] == pytest.approx(1 - 13.3 / 20)
    assert law["note"].startswith(
        "Average WIP (20) is above throughput × mean cycle time (1.36 a day × 9.8 days = 13.3): work is ageing in progress"
    )
    law = littles_law_check(stable(wip_mean=8.0))["littles_law"]
    assert law["holds"] is False and law["note"].startswith(
        "Average WIP (8) is below throughput × mean cycle time"
    )


def test_missing_figures() -> None:
    out = littles_law_check(period())
    assert out["holds"] is None
    for name in ("arrivals", "wip", "littles_law"):
        assert out[name]["holds"] is None
        assert "cannot be checked" in out[name]["note"]
    partial = littles_law_check(stable(cycle_time={"count": 0, "mean": None}))
    assert partial["littles_law"]["holds"] is None and partial["holds"] is True
    both_zero = littles_law_check(
        stable(
            arrivals={"committed_per_week": 0.0},
            throughput_per_week=0.0,
            wip_start=0,
            wip_now=0,
            wip_mean=0.0,
        )
    )
    assert (
        both_zero["arrivals"]["holds"] is True
        and both_zero["arrivals"]["relative_difference"] == 0.0
    )
