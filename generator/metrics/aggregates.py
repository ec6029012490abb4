"""Aggregates over one period from per-item measures computed as of the period's end (METRICS.md 3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from generator.metrics.engine import ItemResult, first_entries
from generator.metrics.periods import DAY_NS, PeriodSpan, local_midnights
from generator.metrics.prepare import NAT
from generator.validate.schema import FLOW_TYPES, StreamDef

WEEK_NS = 7 * DAY_NS
PERCENTILES = (("p50", 0.50), ("p85", 0.85), ("p95", 0.95))


def days(ns: Any) -> Any:
    """Elapsed nanoseconds -> days (float)."""
    return np.asarray(ns, dtype=np.float64) / DAY_NS


def distribution(values_ns: np.ndarray) -> dict[str, Any]:
    """count, mean, p50, p85, p95 in days (numpy linear quantiles); None when empty."""
    if not len(values_ns):
        return {"count": 0, "mean": None, "p50": None, "p85": None, "p95": None}
    d = days(values_ns)
    q = np.quantile(d, [p for _, p in PERCENTILES], method="linear")
    return {
        "count": len(d),
        "mean": float(d.mean()),
        **{k: float(v) for (k, _), v in zip(PERCENTILES, q, strict=True)},
    }


@dataclass(frozen=True)
class PeriodResult:
    """A period's figures (`summary`, the metrics.json shape) and the frames behind its charts."""

    span: PeriodSpan
    summary: dict[str, Any]
    completed: pd.DataFrame  # the period's completed items (rows of ItemResult.items)
    completed_codes: np.ndarray  # their positions in ItemResult.items
    wip_daily: pd.DataFrame  # day_end (ns), wip
    weekly: pd.DataFrame  # week_start (ns), completed, committed, created
    aging: pd.DataFrame  # item_id, title, url, current_stage, age_days, committed


def day_ends(span: PeriodSpan, timezone: str) -> np.ndarray:
    """Local midnights that end a day of the period, up to its as_of."""
    n_days = (span.last_day - span.first_day).days + 1
    ends = local_midnights(span.first_day + dt.timedelta(days=1), n_days, timezone)
    return ends[ends <= span.as_of]


def week_starts(span: PeriodSpan, timezone: str) -> np.ndarray:
    """Local Monday midnights of the ISO weeks wholly inside the period (up to its as_of)."""
    first = span.first_day + pd.Timedelta(days=(7 - span.first_day.weekday()) % 7).to_pytimedelta()
    weeks = max((span.last_day - first).days // 7 + 2, 1)
    mondays = local_midnights(first, weeks + 1, timezone, step=7)
    starts, ends = mondays[:-1], mondays[1:]
    inside = (ends <= span.end) & (ends <= span.as_of)
    whole = (
        int(np.argmin(inside)) if not inside.all() else len(inside)
    )  # up to the first week that is not
    return starts[:whole].astype(np.int64)


def count_in_bins(instants: np.ndarray, starts: np.ndarray, width_end: np.ndarray) -> np.ndarray:
    """How many instants fall in each [starts[i], width_end[i])."""
    s = np.sort(instants)
    return np.searchsorted(s, width_end, side="left") - np.searchsorted(s, starts, side="left")


def wip_at(result: ItemResult, definition: StreamDef, times: np.ndarray) -> np.ndarray:
    """Items with committed <= t that are not in a done or cancelled stage at t, for each t."""
    seg = result.segments
    kinds = np.array([s.kind for s in definition.stages] + ["unmapped"])
    code = np.where(seg.stage < 0, len(definition.stages), seg.stage)
    open_kind = ~np.isin(kinds[code], ["done", "cancelled"])
    committed = result.items["committed"].to_numpy(dtype=np.int64, na_value=NAT)[seg.item]
    counted = open_kind & (committed != NAT)
    start = np.maximum(seg.start[counted], committed[counted])
    end = np.where(seg.final[counted], np.iinfo(np.int64).max, seg.end[counted])
    valid = end > start
    start, end = np.sort(start[valid]), np.sort(end[valid])
    return np.searchsorted(start, times, side="right") - np.searchsorted(end, times, side="right")


@dataclass(frozen=True)
class PeriodParts:
    """What a period's figures need from a set of items computed as of the period's end.

    The per-item rows (completed items, aging WIP) are kept whole, so percentiles are exact;
    everything else is a count that adds up over disjoint sets of items. Computed from all of a
    stream's items (the pandas engine), or from each partition's and then merged (the dask
    engine, generator/engines/merge.py); `summarise` turns either into the period's figures.
    """

    completed: pd.DataFrame  # rows of ItemResult.items done in the period, in item-code order
    completed_rows: np.ndarray  # their positions in ItemResult.items (one result only)
    ca: pd.DataFrame  # their ItemResult.ca_ok rows
    moves: pd.DataFrame  # their moves back: code, from_stage, to_stage
    hand_by_stage: np.ndarray | None  # their hand-offs per stage (+ unmapped); None without actors
    aging: pd.DataFrame  # in-progress committed items: code, flow_type, current_stage, committed
    ends: np.ndarray  # the period's day ends (local midnights up to its as_of)
    wip: np.ndarray  # WIP at each day end, then at the period's as_of, then at its start
    wip_stage: np.ndarray  # in-progress items per current stage (stage order, unmapped last)
    cancelled: int  # items cancelled in the period
    weekly: pd.DataFrame  # week_start (ns), completed, committed, created
    arrivals: np.ndarray  # [committed, created] in [start, as_of)


def period_parts(result: ItemResult, span: PeriodSpan, definition: StreamDef) -> PeriodParts:
    """The per-item rows and the additive counts of one period, from a result computed at span.as_of."""
    tz = definition.timezone
    items = result.items
    done = items["done"].fillna(NAT).to_numpy(dtype=np.int64)
    in_period = (done >= span.start) & (done < span.end) & (done != NAT)
    codes = np.flatnonzero(in_period)
    completed = items.iloc[codes]

    ends = day_ends(span, tz)
    # one pass over the segments for the daily series, WIP now and WIP at the start
    wip = wip_at(
        result, definition, np.concatenate((ends, [span.as_of, span.start])).astype(np.int64)
    )
    # items in each stage now, committed or not: a queue before the commitment point holds inventory too
    in_progress = (items["status"] == "in_progress").to_numpy()
    stage_codes = items["current_stage"].cat.codes.to_numpy()
    wip_stage = np.bincount(stage_codes[in_progress], minlength=len(definition.stages) + 1)

    ca = result.ca_ok.iloc[codes] if len(result.ca_ok.columns) else result.ca_ok
    moves = result.moves[np.isin(result.moves["row"].to_numpy(), codes)]
    item_code = items["code"].to_numpy()
    moves = pd.DataFrame(
        {
            "code": item_code[moves["row"].to_numpy(dtype=np.int64)],
            "from_stage": moves["from_stage"].to_numpy(),
            "to_stage": moves["to_stage"].to_numpy(),
        }
    )

    cancelled = items["cancelled"].fillna(NAT).to_numpy(dtype=np.int64)
    n_cancelled = int(
        ((cancelled >= span.start) & (cancelled < span.end) & (cancelled != NAT)).sum()
    )

    weeks = week_starts(span, tz)
    week_ends = (
        weeks + WEEK_NS
        if len(weeks) == 0
        else local_midnights(  # consecutive Mondays: each week ends at the next one's midnight
            pd.Timestamp(int(weeks[0]), tz="UTC").tz_convert(tz).date() + dt.timedelta(days=7),
            len(weeks),
            tz,
            step=7,
        )
    )
    committed_all = items["committed"].fillna(NAT).to_numpy(dtype=np.int64)
    created_all = items["created"].fillna(NAT).to_numpy(dtype=np.int64)
    weekly = pd.DataFrame(
        {
            "week_start": weeks,
            "completed": count_in_bins(done[done != NAT], weeks, week_ends),
            "committed": count_in_bins(committed_all[committed_all != NAT], weeks, week_ends),
            "created": count_in_bins(created_all[created_all != NAT], weeks, week_ends),
        }
    )

    def in_span(v: np.ndarray) -> int:
        return int(((v >= span.start) & (v < span.as_of) & (v != NAT)).sum())

    wip_rows = np.flatnonzero(in_progress & (committed_all != NAT))
    aging = pd.DataFrame(
        {
            "code": item_code[wip_rows],
            "flow_type": items["flow_type"].iloc[wip_rows].reset_index(drop=True),
            "current_stage": items["current_stage"].iloc[wip_rows].reset_index(drop=True),
            "committed": committed_all[wip_rows],
        }
    )
    return PeriodParts(
        completed=completed,
        completed_rows=codes,
        ca=ca,
        moves=moves,
        hand_by_stage=None
        if result.hand_offs_by_stage is None
        else result.hand_offs_by_stage[codes],
        aging=aging,
        ends=ends,
        wip=wip,
        wip_stage=wip_stage,
        cancelled=n_cancelled,
        weekly=weekly,
        arrivals=np.array([in_span(committed_all), in_span(created_all)], dtype=np.int64),
    )


def period_metrics(result: ItemResult, span: PeriodSpan, definition: StreamDef) -> PeriodResult:
    """Every aggregate of METRICS.md section 3 for one period, from a result computed at span.as_of."""
    return summarise(period_parts(result, span, definition), span, definition, result.info)


def summarise(
    parts: PeriodParts, span: PeriodSpan, definition: StreamDef, info: pd.DataFrame
) -> PeriodResult:
    """A period's figures from its parts; `info` holds the item attributes by item code."""
    completed = parts.completed
    n = len(completed)
    lead = completed["lead_ns"].to_numpy(dtype=np.int64)
    cycle_values = completed["cycle_ns"].dropna().to_numpy(dtype=np.int64)
    elapsed_days = max((span.as_of - span.start) / DAY_NS, 0.0)
    throughput = n / (elapsed_days / 7) if elapsed_days > 0 else None

    process = completed["process_ns"].to_numpy(dtype=np.int64)
    wait = completed["wait_ns"].to_numpy(dtype=np.int64)
    # float sums: int64 would overflow past ~3,500 items of 30 days; the ratio needs no more precision
    denominator = float(process.sum(dtype=np.float64) + wait.sum(dtype=np.float64))
    efficiency = float(process.sum(dtype=np.float64) / denominator) if denominator > 0 else None

    ends = parts.ends
    wip_series, wip_now, start_wip = parts.wip[:-2], int(parts.wip[-2]), int(parts.wip[-1])

    stage_ids = [s.id for s in definition.stages]
    wip_stage = dict(zip([*stage_ids, "unmapped"], parts.wip_stage.tolist(), strict=True))
    stages_out: dict[str, Any] = {}
    ca_values: list[float] = []
    ca = parts.ca
    for stage in definition.stages:
        col = completed[f"stage_ns:{stage.id}"].to_numpy(dtype=np.int64)
        visited = col > 0
        entry: dict[str, Any] = {
            "kind": stage.kind,
            "mean_days": float(days(col).mean()) if n else None,
            "p50_days": float(np.quantile(days(col[visited]), 0.5)) if visited.any() else None,
            "p85_days": float(np.quantile(days(col[visited]), 0.85)) if visited.any() else None,
            "items_through": int(visited.sum()),
            "wip_now": int(wip_stage.get(stage.id, 0)),
        }
        if stage.kind == "active":
            blocked_col = completed[f"blocked_ns:{stage.id}"].to_numpy(dtype=np.int64)
            entry["blocked_mean_days"] = float(days(blocked_col).mean()) if n else None
            share = float(ca[stage.id].to_numpy()[visited].mean()) if visited.any() else None
            entry["pct_complete_accurate"] = share
            if share is not None:
                ca_values.append(share)
        stages_out[stage.id] = entry
    unmapped = completed["stage_ns:unmapped"].to_numpy(dtype=np.int64)
    stages_out["unmapped"] = {
        "kind": "unmapped",
        "mean_days": float(days(unmapped).mean()) if n else None,
        "p50_days": float(np.quantile(days(unmapped[unmapped > 0]), 0.5))
        if (unmapped > 0).any()
        else None,
        "p85_days": float(np.quantile(days(unmapped[unmapped > 0]), 0.85))
        if (unmapped > 0).any()
        else None,
        "items_through": int((unmapped > 0).sum()),
    }
    moves = parts.moves
    rework = (
        moves.drop_duplicates(["code", "from_stage", "to_stage"])
        .groupby(["from_stage", "to_stage"], sort=True)
        .size()
        if len(moves)
        else pd.Series(dtype="int64")
    )
    rework_out = (
        [
            {"from": key[0], "to": key[1], "items": int(c), "share": float(c / n)}  # type: ignore[index]
            for key, c in rework.items()
        ]
        if n
        else []
    )
    commit_at = stage_ids.index(definition.commitment)
    candidates = [s.id for s in definition.stages[commit_at:] if s.kind in ("wait", "active")]
    means = {
        sid: stages_out[sid]["mean_days"]
        for sid in candidates
        if stages_out[sid]["mean_days"] is not None
    }
    bottleneck = (
        max(means, key=lambda k: (means[k], -candidates.index(k)))
        if means and max(means.values()) > 0
        else None
    )

    flow_counts = completed["flow_type"].value_counts()
    distribution_out = {t: (float(flow_counts.get(t, 0) / n) if n else 0.0) for t in FLOW_TYPES}

    n_cancelled = parts.cancelled
    ended = n + n_cancelled
    weekly = parts.weekly

    per_week = elapsed_days / 7 if elapsed_days > 0 else None
    arrivals = {
        "committed_per_week": (int(parts.arrivals[0]) / per_week) if per_week else None,
        "created_per_week": (int(parts.arrivals[1]) / per_week) if per_week else None,
    }

    rows = parts.aging
    codes = rows["code"].to_numpy(dtype=np.int64)
    aging = info.iloc[codes][["item_id", "type", "title", "url"]].reset_index(drop=True)
    aging["flow_type"] = rows["flow_type"].to_numpy()
    aging["current_stage"] = rows["current_stage"].to_numpy()
    aging["committed"] = rows["committed"].to_numpy(dtype=np.int64)
    aging["age_days"] = days(span.as_of - aging["committed"].to_numpy())
    ages = aging["age_days"].to_numpy()

    hand: dict[str, Any] | None = None
    if parts.hand_by_stage is not None:
        per_item = completed["hand_offs"].to_numpy(dtype=np.float64)
        by_stage = parts.hand_by_stage
        hand = {
            "mean_per_item": float(per_item.mean()) if n else None,
            "by_stage": {
                sid: (float(by_stage[:, j].mean()) if n else None)
                for j, sid in enumerate([*stage_ids, "unmapped"])
            },
        }

    summary: dict[str, Any] = {
        **span.as_dict(),
        "as_of": span.as_of,
        "complete": span.complete,
        "lead_time": distribution(lead),
        "cycle_time": distribution(cycle_values),
        "throughput_per_week": throughput,
        "wip_mean": float(wip_series.mean()) if len(wip_series) else None,
        "wip_now": wip_now,
        "wip_start": start_wip,
        "flow_efficiency": efficiency,
        "process_days_mean": float(days(process).mean()) if n else None,
        "wait_days_mean": float(days(wait).mean()) if n else None,
        "blocked_days_mean": float(days(completed["blocked_ns"].to_numpy(dtype=np.int64)).mean())
        if n
        else None,
        "rework_rate": float(completed["reworked"].mean()) if n else None,
        "stages": stages_out,
        "rolled_pct_complete_accurate": float(np.prod(ca_values)) if ca_values else None,
        "flow_distribution": distribution_out,
        "cancelled": {
            "count": n_cancelled,
            "share_of_ended": (n_cancelled / ended) if ended else None,
        },
        "arrivals": arrivals,
        "aging_wip": {
            "count": len(ages),
            "p50_days": float(np.quantile(ages, 0.5)) if len(ages) else None,
            "p85_days": float(np.quantile(ages, 0.85)) if len(ages) else None,
            "max_days": float(ages.max()) if len(ages) else None,
        },
        "bottleneck": bottleneck,
        "hand_offs": hand,
        "rework_moves": rework_out,
        "weekly_throughput": [int(v) for v in weekly["completed"]],
    }
    wip_frame = pd.DataFrame({"day_end": ends, "wip": wip_series})
    return PeriodResult(span, summary, completed, parts.completed_rows, wip_frame, weekly, aging)


def cumulative_flow(result: ItemResult, definition: StreamDef, times: np.ndarray) -> pd.DataFrame:
    """For each stage and time: items whose first entry into the stage or a later (non-cancelled) one is <= t.

    Entries count whenever they happen, also after the item's done instant (an item released and
    then verified enters the later done stage), unlike ItemResult.first_entry, which stops at the
    end of the lead-time window.
    """
    seg = result.segments
    first = first_entries(seg, len(definition.stages), len(result.items))
    big = np.iinfo(np.int64).max
    first = np.where(first == NAT, big, first)
    kinds = [s.kind for s in definition.stages]
    out = {"day_end": times}
    later = np.full(first.shape[0], big, dtype=np.int64)
    columns: dict[str, np.ndarray] = {}
    for j in range(len(kinds) - 1, -1, -1):
        if kinds[j] == "cancelled":
            columns[definition.stages[j].id] = np.sort(first[:, j])
            continue
        later = np.minimum(later, first[:, j])
        columns[definition.stages[j].id] = np.sort(later)
    for stage in definition.stages:
        out[stage.id] = np.searchsorted(columns[stage.id], times, side="right")
    return pd.DataFrame(out)
