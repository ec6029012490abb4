"""DORA measures (METRICS.md section 5): pure functions over the delivery frames; no I/O, no clock.

Inputs (sources/base.py, sources/deployments_csv.py, sources/git_history.py):
  deployments  deploy_id, ts (UTC ns), environment, status (success | failure | other), and
               optionally production (bool; else environment == "production", case-insensitive),
               sha, rollback_of (deploy_id), hotfix (bool)
  changes      sha, ts (commit time, UTC ns), is_merge, and optionally change (bool: counts as a
               change; else not is_merge) and deploy_id (the first deployment containing it)
  incidents    incident_id, opened (ns), resolved (ns or <NA>), deploy_id (or <NA>)

A period is [start, end) in UTC ns and is computed as of `end`: deployments, incidents and
resolutions after `end` are not known yet. Durations are returned in days (float).

Definitions:
  * a production deployment counts when it finished: status success or failure; others are
    only counted (`other`);
  * deployment frequency = successful production deployments in the period / days (x 7 per week);
  * lead time for changes, per change deployed in the period: the first successful production
    deployment containing it - its commit time. "Containing" is the change's deploy_id (from
    git-history's release attribution) or a deployment of exactly its sha, whichever is earlier.
    Negative values (clock skew) count as 0 and are counted. Changes committed in the period
    and not deployed by its end are counted as `not_deployed`;
  * change failure rate = production deployments in the period that failed or caused a failure
    / production deployments in the period (success + failure). Caused a failure (signals, all
    on by default): `incident` an incident opened before `end` names it; `rollback` a deployment
    before `end` has rollback_of = it; `hotfix` the next production deployment after it (before
    `end`) is a hotfix;
  * time to restore, per incident opened in the period and resolved by its end: resolved - opened;
    failed-deployment recovery time, where the incident names a known deployment: resolved -
    that deployment's instant.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from generator.metrics.delivery import (
    NAT,
    SIGNALS,
    Delivery,
    caused_by_signal,
    delivery_arrays,
)
from generator.metrics.dora_levels import (  # noqa: F401 (re-exported: the levels are part of DORA)
    CITATION,
    DORA_2024,
    LEVELS,
    MONTH_DAYS,
    Cluster,
    level_deployment_frequency,
    level_lead_time,
    level_recovery,
    performance_level,
    period_levels,
)

DAY_NS = 86_400 * 10**9


def _summary(days: np.ndarray) -> dict[str, Any]:
    """count, p50, p85 and mean of durations in days (None when empty)."""
    if len(days) == 0:
        return {"count": 0, "p50_days": None, "p85_days": None, "mean_days": None}
    p50, p85 = np.quantile(days, [0.5, 0.85], method="linear")
    return {
        "count": len(days),
        "p50_days": float(p50),
        "p85_days": float(p85),
        "mean_days": float(days.mean()),
    }


def _days(ns: np.ndarray) -> np.ndarray:
    return ns.astype(np.float64) / DAY_NS


def dora_period(
    deployments: pd.DataFrame | None,
    changes: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    start: int,
    end: int,
    *,
    failure_signals: Collection[str] = SIGNALS,
) -> dict[str, Any]:
    """The four DORA measures of [start, end), with their counts and 2024 levels, as a JSON-ready dict."""
    return dora_prepared(
        delivery_arrays(deployments, changes, incidents),
        start,
        end,
        failure_signals=failure_signals,
    )


def dora_prepared(
    dep: Delivery, start: int, end: int, *, failure_signals: Collection[str] = SIGNALS
) -> dict[str, Any]:
    """dora_period over frames prepared once (a stream computes many periods from the same frames)."""
    days = (end - start) / DAY_NS
    inside = (dep.ts >= start) & (dep.ts < end) & dep.production
    ok = inside & dep.success
    failed = inside & dep.failure
    finished = ok | failed
    caused_any = np.zeros(len(dep.ts), dtype=bool)
    caused = caused_by_signal(dep, end, failure_signals)
    for flags in caused.values():
        caused_any |= flags
    n_ok = int(ok.sum())
    per_day = n_ok / days if days > 0 and dep.deployments_known else None
    frequency = {
        "available": dep.deployments_known,
        "deployments": n_ok,
        "per_day": per_day,
        "per_week": per_day * 7 if per_day is not None else None,
        "failed": int(failed.sum()),
        "other": int((inside & ~finished).sum()),
        "days": days,
        "formula": "successful production deployments / days of the period (x 7 per week)",
    }

    committed, deployed = dep.committed, dep.deployed
    shipped = (deployed != NAT) & (deployed >= start) & (deployed < end)
    raw = deployed[shipped] - committed[shipped]
    lead = {
        "available": dep.changes_known,
        **_summary(_days(np.maximum(raw, 0))),
        "negative_counted_as_zero": int((raw < 0).sum()),
        "not_deployed": int(
            (
                ((deployed == NAT) | (deployed >= end)) & (committed >= start) & (committed < end)
            ).sum()
        ),
        "formula": "first successful production deployment containing the change - commit time",
    }

    n_finished = int(finished.sum())
    bad = finished & (dep.failure | caused_any)
    rate = int(bad.sum()) / n_finished if n_finished else None
    cfr = {
        "available": dep.deployments_known,
        "rate": rate,
        "deployments": n_finished,
        "failed_or_caused_failure": int(bad.sum()),
        "failed": int(failed.sum()),
        "caused_failure": int((ok & caused_any).sum()),
        "by_signal": {name: int((ok & flags).sum()) for name, flags in caused.items()},
        "formula": "(failed + caused a failure) / production deployments, failed ones included",
    }

    opened, resolved, caused_at = dep.opened, dep.resolved, dep.caused_at
    period = (opened >= start) & (opened < end)
    closed = period & (resolved != NAT) & (resolved <= end)
    restore = {
        "available": dep.incidents_known,
        "incidents": int(period.sum()),
        "unresolved": int((period & ~closed).sum()),
        **_summary(_days(resolved[closed] - opened[closed])),
        "formula": "resolved - opened, per incident opened in the period",
    }
    linked = closed & (caused_at != NAT)
    span = resolved[linked] - caused_at[linked]
    recovery = {
        "available": dep.incidents_known,
        "incidents_naming_a_deployment": int((period & (caused_at != NAT)).sum()),
        **_summary(_days(span[span >= 0])),
        "inconsistent": int((span < 0).sum()),
        "formula": "resolved - instant of the deployment that caused it",
    }

    # the 2024 report's measure is failed deployment recovery time: time to restore (from an
    # incident's opening) has no 2024 cluster, so it does not stand in for it
    level = period_levels(
        per_day if dep.deployments_known else None,
        lead["p50_days"],
        rate,
        recovery["p50_days"],
    )
    return {
        "start": int(start),
        "end": int(end),
        "deployment_frequency": frequency,
        "lead_time": lead,
        "change_failure_rate": cfr,
        "time_to_restore": restore,
        "failed_deployment_recovery": recovery,
        "level": level,
    }


def week_starts(start: int, end: int, timezone: str) -> np.ndarray:
    """Local Monday midnights (ns) of the ISO weeks wholly inside [start, end), plus the last week's end."""
    zone_start = pd.Timestamp(start, tz="UTC").tz_convert(timezone)
    first = zone_start.normalize().tz_localize(None)
    first = first + pd.Timedelta(days=(7 - first.weekday()) % 7)
    last = pd.Timestamp(end, tz="UTC").tz_convert(timezone).tz_localize(None)
    dates = pd.date_range(first, last + pd.Timedelta(days=7), freq="7D")
    local = dates.tz_localize(
        timezone, ambiguous=np.ones(len(dates), dtype=bool), nonexistent="shift_forward"
    )
    edges = local.tz_convert("UTC").as_unit("ns").asi8
    edges = edges[edges >= start]
    return edges[edges <= end]


def dora_weekly(
    deployments: pd.DataFrame | None,
    changes: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    start: int,
    end: int,
    timezone: str = "UTC",
    *,
    failure_signals: Collection[str] = SIGNALS,
) -> pd.DataFrame:
    """The DORA measures per ISO week (Monday start, local) wholly inside [start, end), as of `end`.

    One row per week: week (ISO `2026-W05`), start and end (UTC ns), deployments (successful,
    production), failed, change_failure_rate (NaN without finished deployments), lead_time_changes,
    lead_time_p50_days (NaN without changes), incidents (opened that week), restore_p50_days
    (incidents opened that week and resolved by `end`).
    """
    return dora_weekly_prepared(
        delivery_arrays(deployments, changes, incidents),
        start,
        end,
        timezone,
        failure_signals=failure_signals,
    )


def dora_weekly_prepared(
    dep: Delivery,
    start: int,
    end: int,
    timezone: str = "UTC",
    *,
    failure_signals: Collection[str] = SIGNALS,
) -> pd.DataFrame:
    """dora_weekly over frames prepared once."""
    edges = week_starts(start, end, timezone)
    k = max(len(edges) - 1, 0)
    caused_any = np.zeros(len(dep.ts), dtype=bool)
    for flags in caused_by_signal(dep, end, failure_signals).values():
        caused_any |= flags

    def week_of(ts: np.ndarray) -> np.ndarray:
        bins = np.searchsorted(edges, ts, side="right") - 1 if k else np.full(len(ts), -1)
        return np.where((ts != NAT) & (bins >= 0) & (bins < k), bins, -1)

    def count(bins: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return (
            np.bincount(bins[mask & (bins >= 0)], minlength=k)[:k]
            if k
            else np.zeros(0, dtype=np.int64)
        )

    def p50(bins: np.ndarray, values: np.ndarray) -> np.ndarray:
        keep = bins >= 0
        medians = pd.Series(values[keep]).groupby(bins[keep]).quantile(0.5)
        return medians.reindex(range(k)).to_numpy(dtype=np.float64)

    wk = week_of(dep.ts)
    ok = dep.production & dep.success
    finished = dep.production & (dep.success | dep.failure)
    bad = finished & (dep.failure | caused_any)
    n_finished = count(wk, finished)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n_finished > 0, count(wk, bad) / np.maximum(n_finished, 1), np.nan)

    committed, deployed = dep.committed, dep.deployed
    shipped = (deployed != NAT) & (deployed < end)
    cw = np.where(shipped, week_of(np.where(shipped, deployed, NAT)), -1)
    lead = _days(np.where(shipped, np.maximum(deployed - committed, 0), 0))

    opened, resolved = dep.opened, dep.resolved
    iw = week_of(opened)
    closed = (resolved != NAT) & (resolved <= end)
    rw = np.where(closed, iw, -1)
    starts = edges[:-1] if k else np.array([], dtype=np.int64)
    iso = pd.DatetimeIndex(pd.to_datetime(starts, utc=True).tz_convert(timezone)).isocalendar()
    return pd.DataFrame(
        {
            "week": [f"{y}-W{w:02d}" for y, w in zip(iso["year"], iso["week"], strict=True)],
            "start": starts,
            "end": edges[1:] if k else np.array([], dtype=np.int64),
            "deployments": count(wk, ok),
            "failed": count(wk, dep.production & dep.failure),
            "change_failure_rate": rate,
            "lead_time_changes": count(cw, np.ones(len(cw), dtype=bool)),
            "lead_time_p50_days": p50(cw, lead),
            "incidents": count(iw, np.ones(len(iw), dtype=bool)),
            "restore_p50_days": p50(rw, _days(np.where(closed, resolved - opened, 0))),
        }
    )
