"""The service level expectation (SLE): "85% of items finish within N days of commitment".

Its N comes from `forecast.sle_days`, else the `cycle_time_p85_days` target, else the p85 of
the cycle times of the items completed in the forecast window. The module gives the share of
completed items within it per period and per month, and every item in progress by risk of
breaching it: age (since commitment) under 50% of the SLE is on track, from 50% watch, from
85% at risk, beyond 100% breached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from generator.forecast.history import Completions, OpenItems
from generator.metrics.aggregates import PeriodResult
from generator.metrics.periods import DAY_NS
from generator.metrics.prepare import NAT
from generator.metrics.trends import bucket_codes

PERCENTILE = 85
RISKS = ("on_track", "watch", "at_risk", "breached")
RISK_WORDS = {
    "on_track": "on track",
    "watch": "watch",
    "at_risk": "at risk",
    "breached": "breached",
}
WATCH, AT_RISK = 0.5, 0.85


@dataclass(frozen=True)
class ServiceLevel:
    """The SLE and how the stream kept it."""

    days: (
        float | None
    )  # None: no source (no target and no completed item with a cycle time in the window)
    source: str  # sle_days | target | window
    window_items: int  # completed items with a cycle time in the window
    periods: dict[str, dict[str, Any]]  # name -> label, start, end, count, within, share
    monthly: pd.DataFrame  # month (date), count, within, share
    aging: pd.DataFrame  # row, item_id, title, url, stage, committed, age_days, sle_share, risk;
    # oldest first, then by item id (_aging)

    def _risks(self) -> np.ndarray:
        return self.aging["risk"].to_numpy(dtype=object) if len(self.aging) else np.zeros(0, object)

    def risk_counts(self) -> dict[str, int]:
        risks = self._risks()
        return {r: int((risks == r).sum()) for r in RISKS}

    def at_risk(self) -> pd.DataFrame:
        """The items at risk of breaching the SLE or beyond it, oldest first (as `aging` is)."""
        risks = self._risks()
        rows: pd.DataFrame = self.aging[(risks == "at_risk") | (risks == "breached")]
        return rows


def window_cycle_days(comp: Completions, committed: np.ndarray, start: int, end: int) -> np.ndarray:
    """Cycle times (days) of the items done in [start, end) as known at `end`."""
    keep = (comp.start >= start) & (comp.start < end) & (comp.end > end)
    c = committed[comp.row[keep]]
    s = comp.start[keep]
    ok = (c != NAT) & (c <= s)
    values: np.ndarray = (s[ok] - c[ok]) / DAY_NS
    return values


def risk_of(share: np.ndarray) -> np.ndarray:
    return np.select(
        [share > 1.0, share >= AT_RISK, share >= WATCH],
        ["breached", "at_risk", "watch"],
        "on_track",
    )


def service_level(
    sle_days: float | None,
    target_p85: float | None,
    window_cycles: np.ndarray,
    periods: dict[str, PeriodResult],
    history: pd.DataFrame | None,
    timezone: str,
    open_now: OpenItems,
    attrs: pd.DataFrame,
) -> ServiceLevel:
    """`attrs`: item_id, title, url of the open items (rows aligned with open_now.rows)."""
    if sle_days is not None:
        days, source = float(sle_days), "sle_days"
    elif target_p85 is not None:
        days, source = float(target_p85), "target"
    elif len(window_cycles):
        days, source = (
            float(np.quantile(window_cycles, PERCENTILE / 100, method="linear")),
            "window",
        )
    else:
        days, source = None, "window"
    per_period = {}
    for name, p in periods.items():
        cycle = p.completed["cycle_ns"].dropna().to_numpy(dtype=np.int64) / DAY_NS
        within = int((cycle <= days).sum()) if days is not None else None
        per_period[name] = {
            **p.span.as_dict(),
            "count": len(cycle),
            "within": within,
            "share": within / len(cycle) if len(cycle) and within is not None else None,
        }
    return ServiceLevel(
        days,
        source,
        len(window_cycles),
        per_period,
        _monthly(history, timezone, days),
        _aging(open_now, attrs, days),
    )


def _monthly(history: pd.DataFrame | None, timezone: str, days: float | None) -> pd.DataFrame:
    columns = ["month", "count", "within", "share"]
    if history is None or not len(history) or days is None:
        return pd.DataFrame(columns=columns)
    cycle = history["cycle_days"].to_numpy(dtype=np.float64)
    has = ~np.isnan(cycle)
    if not has.any():
        return pd.DataFrame(columns=columns)
    codes, starts = bucket_codes(history["done"].to_numpy(dtype=np.int64)[has], timezone, "M")
    count = np.bincount(codes, minlength=len(starts))
    within = np.bincount(codes, weights=(cycle[has] <= days), minlength=len(starts)).astype(
        np.int64
    )
    return pd.DataFrame(
        {"month": starts, "count": count, "within": within, "share": within / count}
    )


def _aging(open_now: OpenItems, attrs: pd.DataFrame, days: float | None) -> pd.DataFrame:
    committed = open_now.committed
    keep = committed != NAT
    age = (open_now.at - committed[keep]) / DAY_NS
    share = age / days if days else np.full(len(age), np.nan)
    frame = attrs.iloc[np.flatnonzero(keep)].reset_index(drop=True)
    frame = frame.assign(
        row=open_now.rows[keep],
        stage=open_now.stage[keep],
        committed=committed[keep],
        age_days=age,
        sle_share=share,
        risk=risk_of(share) if days else np.full(len(age), "on_track", dtype=object),
    )
    return frame.sort_values(
        ["age_days", "item_id"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)
