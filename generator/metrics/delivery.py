"""The delivery frames (deployments, changes, incidents) as arrays, once per stream: what
metrics/dora.py measures over every period. Which deployment first contains a change and
which one an incident names do not depend on a period; which deployments caused a failure
does (`caused_by_signal`, as known at the period's end).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min
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
class Delivery:
    """The delivery frames as arrays, once per stream: everything that does not depend on a
    period's end (which deployment contains a change, which one an incident names)."""

    deployments_known: bool
    changes_known: bool
    incidents_known: bool
    deploy_id: pd.Series  # string
    ts: np.ndarray
    production: np.ndarray
    success: np.ndarray
    failure: np.ndarray
    hotfix: np.ndarray  # production hotfix deployments
    rollback_of: pd.Series  # string
    named_deploy: pd.Series  # string: the deployment each incident names
    committed: np.ndarray  # per counted change
    deployed: np.ndarray  # first successful production deployment containing it, or NAT
    opened: np.ndarray  # per incident
    resolved: np.ndarray
    caused_at: np.ndarray  # instant of the deployment the incident names, or NAT


def delivery_arrays(
    deployments: pd.DataFrame | None,
    changes: pd.DataFrame | None,
    incidents: pd.DataFrame | None,
) -> Delivery:
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
    committed, deployed = _changes(changes, frame, ids, ts, production & success)
    opened, resolved, caused_at = _incidents(incidents, ids, ts)
    has_incidents = incidents is not None and len(incidents) > 0
    return Delivery(
        deployments_known=deployments is not None,
        changes_known=changes is not None,
        incidents_known=incidents is not None,
        deploy_id=ids,
        ts=ts,
        production=production,
        success=success,
        failure=np.asarray(status.eq("failure"), dtype=bool),
        hotfix=_flag(frame, "hotfix") & production,
        rollback_of=_text(frame, "rollback_of"),
        named_deploy=_text(incidents.reset_index(drop=True), "deploy_id")
        if has_incidents and incidents is not None and "deploy_id" in incidents
        else pd.Series(dtype="string"),
        committed=committed,
        deployed=deployed,
        opened=opened,
        resolved=resolved,
        caused_at=caused_at,
    )


def caused_by_signal(dep: Delivery, end: int, signals: Collection[str]) -> dict[str, np.ndarray]:
    """Per failure signal: which deployments caused a failure, as known at `end`."""
    ids, ts = dep.deploy_id, dep.ts
    known = ts < end
    caused: dict[str, np.ndarray] = {}
    if "incident" in signals:
        named = dep.named_deploy
        if len(named):
            named = named[dep.opened < end].dropna()
        caused["incident"] = np.asarray(ids.isin(set(named)).fillna(False), dtype=bool)
    if "rollback" in signals:
        rolled = dep.rollback_of[known].dropna()
        caused["rollback"] = np.asarray(ids.isin(set(rolled)).fillna(False), dtype=bool)
    if "hotfix" in signals:
        hit = np.zeros(len(ts), dtype=bool)
        good = np.flatnonzero(dep.production & dep.success)
        order = good[np.argsort(ts[good], kind="stable")]
        fixes = np.flatnonzero(dep.hotfix & known)
        before = np.searchsorted(ts[order], ts[fixes], side="left") - 1
        hit[order[before[before >= 0]]] = True
        caused["hotfix"] = hit
    return caused


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
    changes: pd.DataFrame | None,
    deployments: pd.DataFrame,
    ids: pd.Series,
    ts: np.ndarray,
    good: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(commit instant, instant of the first successful production deployment containing it or NAT) per change."""
    if changes is None or not len(changes):
        return np.array([], dtype=np.int64), np.array([], dtype=np.int64)
    frame = changes.reset_index(drop=True)
    counted = _flag(frame, "change") if "change" in frame else ~_flag(frame, "is_merge")
    frame = frame.loc[counted].reset_index(drop=True)
    deployed = np.full(len(frame), _NEVER, dtype=np.int64)
    if "deploy_id" in frame:
        deployed = np.minimum(deployed, _earliest(ids[good], ts[good], _text(frame, "deploy_id")))
    if "sha" in deployments and "sha" in frame:
        shas = _text(deployments, "sha")
        deployed = np.minimum(deployed, _earliest(shas[good], ts[good], _text(frame, "sha")))
    return _i64(frame["ts"]), np.where(deployed == _NEVER, NAT, deployed)


def _incidents(
    incidents: pd.DataFrame | None, ids: pd.Series, ts: np.ndarray
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
    if "deploy_id" in frame and len(ts):
        caused_by = _earliest(ids, ts, _text(frame, "deploy_id"))
    return _i64(frame["opened"]), resolved, np.where(caused_by == _NEVER, NAT, caused_by)
