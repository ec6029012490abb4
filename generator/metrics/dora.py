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
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

NAT = np.iinfo(np.int64).min
DAY_NS = 86_400 * 10**9
SIGNALS = ("incident", "rollback", "hotfix")


def _i64(values: Any) -> np.ndarray:
    """int64 ns with NAT for missing values (never through float, which would lose nanoseconds)."""
    series = pd.Series(values)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        return series.to_numpy(dtype=np.int64)
    try:
        return series.astype(object).astype("Int64").fillna(NAT).to_numpy(dtype=np.int64)
    except (TypeError, ValueError):
        numbers = pd.to_numeric(series, errors="coerce").round()
        return numbers.astype("Int64").fillna(NAT).to_numpy(dtype=np.int64)


def _text(frame: pd.DataFrame, name: str) -> pd.Series:
    if name not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="string")
    return frame[name].astype("string")


def _flag(frame: pd.DataFrame, name: str) -> np.ndarray:
    if name not in frame:
        return np.zeros(len(frame), dtype=bool)
    return np.asarray(frame[name].astype("boolean").fillna(False), dtype=bool)


@dataclass(frozen=True)
class _Deployments:
    deploy_id: pd.Series  # string
    ts: np.ndarray
    production: np.ndarray
    success: np.ndarray
    failure: np.ndarray
    caused: dict[str, np.ndarray]  # signal -> bool per deployment


def _deployments(
    deployments: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
    end: int,
    signals: Collection[str],
) -> _Deployments:
    frame = (
        deployments
        if deployments is not None
        else pd.DataFrame({"deploy_id": [], "ts": [], "environment": [], "status": []})
    )
    frame = frame.reset_index(drop=True)
    ts = _i64(frame["ts"])
    status = _text(frame, "status").str.lower().fillna("")
    if "production" in frame:
        production = _flag(frame, "production")
    else:
        production = np.asarray(
            _text(frame, "environment").str.strip().str.casefold().eq("production").fillna(False),
            dtype=bool,
        )
    ids = _text(frame, "deploy_id")
    success = np.asarray(status.eq("success"), dtype=bool)
    failure = np.asarray(status.eq("failure"), dtype=bool)
    known = ts < end
    caused: dict[str, np.ndarray] = {}
    if "incident" in signals:
        named = pd.Series(dtype="string")
        if incidents is not None and len(incidents) and "deploy_id" in incidents:
            opened = _i64(incidents["opened"])
            named = _text(incidents.reset_index(drop=True), "deploy_id")[opened < end].dropna()
        caused["incident"] = np.asarray(ids.isin(set(named)).fillna(False), dtype=bool)
    if "rollback" in signals:
        rolled = _text(frame, "rollback_of")[known].dropna()
        caused["rollback"] = np.asarray(ids.isin(set(rolled)).fillna(False), dtype=bool)
    if "hotfix" in signals:
        hit = np.zeros(len(frame), dtype=bool)
        good = np.flatnonzero(production & success)
        order = good[np.argsort(ts[good], kind="stable")]
        fixes = np.flatnonzero(_flag(frame, "hotfix") & production & known)
        before = np.searchsorted(ts[order], ts[fixes], side="left") - 1
        hit[order[before[before >= 0]]] = True
        caused["hotfix"] = hit
    return _Deployments(ids, ts, production, success, failure, caused)


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


_NEVER = np.iinfo(np.int64).max


def _earliest(keys: pd.Series, ts: np.ndarray, lookup: pd.Series) -> np.ndarray:
    """Per lookup key (text): the earliest `ts` among rows with that key (_NEVER when none)."""
    present = keys.notna().to_numpy(dtype=bool)
    table = pd.Series(ts[present]).groupby(keys[present].astype(str).to_numpy(dtype=object)).min()
    value_set = pa.array(table.index.to_numpy(dtype=object), type=pa.string())
    pos = pc.fill_null(
        pc.index_in(pa.array(lookup.astype("string"), type=pa.string()), value_set=value_set), -1
    )
    idx = np.asarray(pos.to_numpy(zero_copy_only=False), dtype=np.int64)
    return np.where(
        idx >= 0,
        table.to_numpy(dtype=np.int64)[np.maximum(idx, 0)] if len(table) else _NEVER,
        _NEVER,
    )


def _changes(
    changes: pd.DataFrame | None, deployments: pd.DataFrame | None, dep: _Deployments
) -> tuple[np.ndarray, np.ndarray]:
    """(commit instant, instant of the first successful production deployment containing it or NAT) per change."""
    if changes is None or not len(changes):
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    frame = changes.reset_index(drop=True)
    counted = _flag(frame, "change") if "change" in frame else ~_flag(frame, "is_merge")
    frame = frame.loc[counted].reset_index(drop=True)
    good = dep.production & dep.success
    deployed = np.full(len(frame), _NEVER, dtype=np.int64)
    if "deploy_id" in frame:
        deployed = np.minimum(
            deployed, _earliest(dep.deploy_id[good], dep.ts[good], _text(frame, "deploy_id"))
        )
    if deployments is not None and "sha" in deployments and "sha" in frame:
        shas = _text(deployments.reset_index(drop=True), "sha")
        deployed = np.minimum(deployed, _earliest(shas[good], dep.ts[good], _text(frame, "sha")))
    return _i64(frame["ts"]), np.where(deployed == _NEVER, NAT, deployed)


def _incidents(
    incidents: pd.DataFrame | None, dep: _Deployments
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(opened, resolved or NAT, instant of the deployment it names or NAT) per incident."""
    if incidents is None or not len(incidents):
        empty = np.array([], dtype=np.int64)
        return empty, empty, empty
    frame = incidents.reset_index(drop=True)
    resolved = (
        _i64(frame["resolved"]) if "resolved" in frame else np.full(len(frame), NAT, dtype=np.int64)
    )
    caused_by = np.full(len(frame), _NEVER, dtype=np.int64)
    if "deploy_id" in frame and len(dep.ts):
        caused_by = _earliest(dep.deploy_id, dep.ts, _text(frame, "deploy_id"))
    return _i64(frame["opened"]), resolved, np.where(caused_by == _NEVER, NAT, caused_by)


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
    dep = _deployments(deployments, incidents, end, failure_signals)
    days = (end - start) / DAY_NS
    inside = (dep.ts >= start) & (dep.ts < end) & dep.production
    ok = inside & dep.success
    failed = inside & dep.failure
    finished = ok | failed
    caused_any = np.zeros(len(dep.ts), dtype=bool)
    for flags in dep.caused.values():
        caused_any |= flags
    n_ok = int(ok.sum())
    per_day = n_ok / days if days > 0 and deployments is not None else None
    frequency = {
        "available": deployments is not None,
        "deployments": n_ok,
        "per_day": per_day,
        "per_week": per_day * 7 if per_day is not None else None,
        "failed": int(failed.sum()),
        "other": int((inside & ~finished).sum()),
        "days": days,
        "formula": "successful production deployments / days of the period (x 7 per week)",
    }

    committed, deployed = _changes(changes, deployments, dep)
    shipped = (deployed != NAT) & (deployed >= start) & (deployed < end)
    raw = deployed[shipped] - committed[shipped]
    lead = {
        "available": changes is not None,
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
        "available": deployments is not None,
        "rate": rate,
        "deployments": n_finished,
        "failed_or_caused_failure": int(bad.sum()),
        "failed": int(failed.sum()),
        "caused_failure": int((ok & caused_any).sum()),
        "by_signal": {name: int((ok & flags).sum()) for name, flags in dep.caused.items()},
        "formula": "(failed + caused a failure) / production deployments, failed ones included",
    }

    opened, resolved, caused_at = _incidents(incidents, dep)
    period = (opened >= start) & (opened < end)
    closed = period & (resolved != NAT) & (resolved <= end)
    restore = {
        "available": incidents is not None,
        "incidents": int(period.sum()),
        "unresolved": int((period & ~closed).sum()),
        **_summary(_days(resolved[closed] - opened[closed])),
        "formula": "resolved - opened, per incident opened in the period",
    }
    linked = closed & (caused_at != NAT)
    span = resolved[linked] - caused_at[linked]
    recovery = {
        "available": incidents is not None,
        "incidents_naming_a_deployment": int((period & (caused_at != NAT)).sum()),
        **_summary(_days(span[span >= 0])),
        "inconsistent": int((span < 0).sum()),
        "formula": "resolved - instant of the deployment that caused it",
    }

    # the 2024 report's measure is failed deployment recovery time: time to restore (from an
    # incident's opening) has no 2024 cluster, so it does not stand in for it
    level = period_levels(
        per_day if deployments is not None else None,
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
    edges = week_starts(start, end, timezone)
    k = max(len(edges) - 1, 0)
    dep = _deployments(deployments, incidents, end, failure_signals)
    caused_any = np.zeros(len(dep.ts), dtype=bool)
    for flags in dep.caused.values():
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

    committed, deployed = _changes(changes, deployments, dep)
    shipped = (deployed != NAT) & (deployed < end)
    cw = np.where(shipped, week_of(np.where(shipped, deployed, NAT)), -1)
    lead = _days(np.where(shipped, np.maximum(deployed - committed, 0), 0))

    opened, resolved, _ = _incidents(incidents, dep)
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
