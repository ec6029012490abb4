"""Series over time for the trends page, from every quarter's completed items (each as of its quarter's end).

Weeks and months are local (the stream's zone); weeks start on Monday. A
closed quarter's items never change, so neither do its points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.metrics.aggregates import PeriodResult, days
from generator.metrics.periods import DAY_NS


def history(quarters: dict[str, PeriodResult], info: pd.DataFrame | None = None) -> pd.DataFrame:
    """All completed items, each from the quarter it completed in.

    One row per completed item: code, done (ns), lead_days, cycle_days, process_days, wait_days,
    blocked_days, reworked, flow_type, quarter, and stage_days:<id>; with `info` (the prepared
    item attributes) also item_id, title, url and type.
    """
    frames = []
    for name, q in quarters.items():
        c = q.completed
        if not len(c):
            continue
        frame = pd.DataFrame(
            {
                "code": c["code"].to_numpy(dtype=np.int64),
                "flow_type": c["flow_type"].to_numpy(),
                "done": c["done"].to_numpy(dtype=np.int64),
                "lead_days": days(c["lead_ns"].to_numpy(dtype=np.int64)),
                "cycle_days": c["cycle_ns"].to_numpy(dtype=np.float64, na_value=np.nan) / DAY_NS,
                "process_days": days(c["process_ns"].to_numpy()),
                "wait_days": days(c["wait_ns"].to_numpy()),
                "blocked_days": days(c["blocked_ns"].to_numpy()),
                "reworked": c["reworked"].to_numpy(dtype=bool),
                "quarter": name,
            }
        )
        for col in c.columns:
            if col.startswith("stage_ns:"):
                frame["stage_days:" + col.split(":", 1)[1]] = days(c[col].to_numpy())
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=["code", "item_id", "title", "url", "type", "done", "lead_days", "cycle_days", "flow_type", "quarter"])
    out = pd.concat(frames, ignore_index=True)
    out = out.iloc[np.lexsort((out["code"].to_numpy(), out["done"].to_numpy()))].reset_index(drop=True)
    if info is not None:
        attrs = info.iloc[out["code"].to_numpy()][["item_id", "title", "url", "type"]].reset_index(drop=True)
        out = pd.concat([attrs, out], axis=1)
    return out


def bucket(done_ns: np.ndarray, timezone: str, freq: str) -> pd.Series:
    """Local period start (a date) of each instant: 'W' = ISO week (Monday), 'M' = calendar month."""
    local = pd.to_datetime(done_ns, unit="ns", utc=True).tz_convert(timezone).tz_localize(None)
    if freq == "W":
        starts = (local - pd.to_timedelta(local.day_of_week, unit="D")).normalize()
    else:
        starts = local.to_period("M").to_timestamp()
    return pd.Series(starts.date, dtype="object")


def per_bucket(hist: pd.DataFrame, timezone: str, freq: str) -> pd.DataFrame:
    """One row per week or month with completions: count, lead/cycle p50/p85/p95, flow efficiency,
    mean blocked days, rework rate, and the share of each flow type."""
    if not len(hist):
        return pd.DataFrame(columns=["start", "count"])
    frame = hist.assign(start=bucket(hist["done"].to_numpy(dtype=np.int64), timezone, freq).to_numpy())
    grouped = frame.groupby("start", sort=True)
    out = grouped.size().rename("count").to_frame()
    for col, name in (("lead_days", "lead"), ("cycle_days", "cycle")):
        for q in (50, 85, 95):
            out[f"{name}_p{q}"] = grouped[col].quantile(q / 100, interpolation="linear")
    sums = grouped[["process_days", "wait_days"]].sum()
    total = sums["process_days"] + sums["wait_days"]
    out["flow_efficiency"] = (sums["process_days"] / total).where(total > 0)
    out["blocked_mean_days"] = grouped["blocked_days"].mean()
    out["rework_rate"] = grouped["reworked"].mean()
    shares = pd.crosstab(frame["start"], frame["flow_type"], normalize="index")
    for flow in ("feature", "defect", "risk", "debt", "other"):
        out[f"share_{flow}"] = shares.get(flow, 0.0)
    return out.reset_index()


def whole_weeks(weeks: pd.DataFrame, as_of: int, timezone: str) -> pd.DataFrame:
    """Every week from the first with a completion on, weeks without completions as 0; a last
    week that had not ended by as_of is dropped (its count would read as a drop in throughput)."""
    if not len(weeks):
        return weeks
    local_as_of = pd.Timestamp(as_of, tz="UTC").tz_convert(timezone).tz_localize(None)
    as_of_week = (local_as_of - pd.Timedelta(days=local_as_of.day_of_week)).normalize()
    last = max(pd.Timestamp(weeks["start"].iloc[-1]), as_of_week)
    starts = pd.date_range(pd.Timestamp(weeks["start"].iloc[0]), last, freq="7D").date
    weeks = weeks.set_index("start").reindex(starts).rename_axis("start").reset_index()
    weeks["count"] = weeks["count"].fillna(0).astype(int)
    next_start = (pd.Timestamp(weeks["start"].iloc[-1]) + pd.Timedelta(days=7)).tz_localize(timezone, nonexistent="shift_forward", ambiguous=True)
    ended = next_start.tz_convert("UTC").as_unit("ns").value <= as_of
    return weeks if ended else weeks.iloc[:-1]


def bottleneck_history(quarters: dict[str, PeriodResult]) -> pd.DataFrame:
    """One row per quarter: label, bottleneck stage, its mean days, completed count, complete flag."""
    rows = []
    for name, q in quarters.items():
        s = q.summary
        b = s["bottleneck"]
        rows.append(
            {
                "quarter": name,
                "label": q.span.label,
                "bottleneck": b,
                "mean_days": s["stages"][b]["mean_days"] if b else None,
                "completed": s["lead_time"]["count"],
                "complete": q.span.complete,
            }
        )
    return pd.DataFrame(rows)
