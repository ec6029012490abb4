"""Series over time for the trends page, from every quarter's completed items (each as of its quarter's end).

Weeks and months are local (the stream's zone); weeks start on Monday. A
closed quarter's items never change, so neither do its points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from generator.metrics.aggregates import PeriodResult, days
from generator.metrics.periods import DAY_NS


def history(
    quarters: dict[str, PeriodResult], item_dtype: pd.CategoricalDtype | None = None
) -> pd.DataFrame:
    """All completed items, each from the quarter it completed in.

    One row per completed item: code, done (ns), lead_days, cycle_days, process_days, wait_days,
    blocked_days, reworked, flow_type, quarter, and stage_days:<id>; with `item_dtype` (the
    prepared items' ids) also item_id (categorical; titles and links are looked up by code).
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
        return pd.DataFrame(
            columns=["code", "item_id", "done", "lead_days", "cycle_days", "flow_type", "quarter"]
        )
    out = pd.concat(frames, ignore_index=True)
    out = out.iloc[np.lexsort((out["code"].to_numpy(), out["done"].to_numpy()))].reset_index(
        drop=True
    )
    if item_dtype is not None:
        out.insert(
            0,
            "item_id",
            pd.Series(pd.Categorical.from_codes(out["code"].to_numpy(), dtype=item_dtype)),
        )
    return out


def bucket_codes(done_ns: np.ndarray, timezone: str, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """(bucket index of each instant, the buckets' local start dates, sorted): 'W' = ISO week
    (Monday), 'M' = calendar month."""
    local = (
        pd.DatetimeIndex(pd.to_datetime(done_ns, unit="ns", utc=True))
        .tz_convert(timezone)
        .tz_localize(None)
    )
    days = local.normalize()
    if freq == "W":
        starts = days - pd.to_timedelta(days.day_of_week, unit="D")
    else:
        starts = days.to_period("M").to_timestamp()
    # factorize the datetimes themselves: their integer form is in whatever unit pandas chose
    # (to_period().to_timestamp() is not nanoseconds), so it cannot be read back as ns
    codes, uniques = pd.factorize(pd.DatetimeIndex(starts), sort=True)
    return codes, np.array(pd.DatetimeIndex(uniques).date, dtype=object)


def bucket(done_ns: np.ndarray, timezone: str, freq: str) -> pd.Series:
    """Local period start (a date) of each instant."""
    codes, starts = bucket_codes(done_ns, timezone, freq)
    return pd.Series(starts[codes], dtype="object")


def group_quantiles(
    codes: np.ndarray, values: np.ndarray, n_groups: int, qs: tuple[float, ...]
) -> list[np.ndarray]:
    """numpy's linear quantiles of `values` within each group (one sort for all of `qs`), NaN values
    ignored; NaN for empty groups."""
    keep = ~np.isnan(values)
    codes, values = codes[keep], values[keep]
    # sort by value, then stably by group: a radix sort on small group codes, far cheaper than
    # a two-key lexsort (the order of equal values does not matter to a quantile)
    by_value = np.argsort(values)
    small = codes.astype(np.int16) if n_groups < 1 << 15 else codes
    values = values[by_value[np.argsort(small[by_value], kind="stable")]]
    counts = np.bincount(codes, minlength=n_groups)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts > 0
    base = first[has]
    out = []
    for q in qs:
        result = np.full(n_groups, np.nan)
        h = (counts[has] - 1) * q
        lo = np.floor(h).astype(np.int64)
        hi = np.minimum(lo + 1, counts[has] - 1)
        result[has] = values[base + lo] + (h - lo) * (values[base + hi] - values[base + lo])
        out.append(result)
    return out


def per_bucket(hist: pd.DataFrame, timezone: str, freq: str) -> pd.DataFrame:
    """One row per week or month with completions: count, lead/cycle p50/p85/p95, flow efficiency,
    mean blocked days, rework rate, and the share of each flow type."""
    if not len(hist):
        return pd.DataFrame(columns=["start", "count"])
    codes, starts = bucket_codes(hist["done"].to_numpy(dtype=np.int64), timezone, freq)
    k = len(starts)
    count = np.bincount(codes, minlength=k)
    out = pd.DataFrame({"start": starts, "count": count})
    for col, name in (("lead_days", "lead"), ("cycle_days", "cycle")):
        values = hist[col].to_numpy(dtype=np.float64)
        for q, result in zip(
            (50, 85, 95), group_quantiles(codes, values, k, (0.50, 0.85, 0.95)), strict=True
        ):
            out[f"{name}_p{q}"] = result
    process = np.bincount(
        codes, weights=hist["process_days"].to_numpy(dtype=np.float64), minlength=k
    )
    total = process + np.bincount(
        codes, weights=hist["wait_days"].to_numpy(dtype=np.float64), minlength=k
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        out["flow_efficiency"] = np.where(
            total > 0, process / np.where(total > 0, total, 1), np.nan
        )
    out["blocked_mean_days"] = (
        np.bincount(codes, weights=hist["blocked_days"].to_numpy(dtype=np.float64), minlength=k)
        / count
    )
    out["rework_rate"] = (
        np.bincount(codes, weights=hist["reworked"].to_numpy(dtype=np.float64), minlength=k) / count
    )
    flows = pd.Series(hist["flow_type"]).astype(str).to_numpy()
    for flow in ("feature", "defect", "risk", "debt", "other"):
        out[f"share_{flow}"] = (
            np.bincount(codes, weights=(flows == flow).astype(np.float64), minlength=k) / count
        )
    return out


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
    next_start = (pd.Timestamp(weeks["start"].iloc[-1]) + pd.Timedelta(days=7)).tz_localize(
        timezone, nonexistent="shift_forward", ambiguous=True
    )
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
