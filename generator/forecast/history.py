"""Completions as known at any instant, daily throughput per local day, and the items open at an instant.

All of it comes from the segments of the stream's full timeline (metrics/engine.py): the
segments before an instant t are exactly those a timeline cut at t would have, so the
figures "as known at t" need no second timeline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.metrics.engine import ItemResult
from generator.metrics.prepare import NAT, UNMAPPED
from generator.validate.schema import StreamDef

OPEN = np.iinfo(np.int64).max  # the end of a done visit that lasts to as_of
CELLS = 4_000_000  # booleans held at once when counting reopened items


@dataclass(frozen=True)
class Completions:
    """Every visit to the done stages up to as_of (consecutive done stages are one visit).

    start: when the visit began (the item's done instant while it lasts), sorted; end: when the
    item left the done stages again (reopened or cancelled), OPEN when it is still done at as_of;
    row: the item's row in ItemResult.items. An item is done as known at t, with done instant s,
    exactly when one of its visits has start <= t < end.
    """

    start: np.ndarray
    end: np.ndarray
    row: np.ndarray
    as_of: int

    def count(self, lo: np.ndarray, hi: np.ndarray, known_at: np.ndarray) -> np.ndarray:
        """Items done in [lo[i], hi[i]) as known at known_at[i] (arrays of one shape; known_at >= hi)."""
        lo, hi, known_at = np.broadcast_arrays(
            np.asarray(lo, np.int64), np.asarray(hi, np.int64), np.asarray(known_at, np.int64)
        )
        total = np.searchsorted(self.start, hi, "left") - np.searchsorted(self.start, lo, "left")
        left = self.end != OPEN
        if not left.any():
            return total.astype(np.int64)
        # visits that ended by known_at no longer count: few (reopened items), so a (queries x
        # such visits) matrix in chunks of bounded size
        s, e = self.start[left], self.end[left]
        flat_lo, flat_hi, flat_k = lo.ravel(), hi.ravel(), known_at.ravel()
        gone = np.zeros(flat_lo.shape, dtype=np.int64)
        step = max(1, CELLS // len(s))
        for i in range(0, len(flat_lo), step):  # chunks of queries, not a loop over items
            q = slice(i, i + step)
            hit = (s >= flat_lo[q, None]) & (s < flat_hi[q, None]) & (e <= flat_k[q, None])
            gone[q] = hit.sum(axis=1)
        return (total - gone.reshape(total.shape)).astype(np.int64)


def committed_ns(result: ItemResult) -> np.ndarray:
    values: np.ndarray = result.items["committed"].to_numpy(dtype=np.int64, na_value=NAT)
    return values


def completions(result: ItemResult, definition: StreamDef) -> Completions:
    """The done visits of every item of the stream's full timeline."""
    seg = result.segments
    kinds = np.array([s.kind == "done" for s in definition.stages] + [False])
    code = np.where(seg.stage == UNMAPPED, len(definition.stages), seg.stage)
    in_done = kinds[code]
    idx = np.flatnonzero(in_done)
    if not len(idx):
        empty = np.zeros(0, dtype=np.int64)
        return Completions(empty, empty, empty, result.as_of)
    n = len(seg.item)
    prev_done = np.zeros(n, dtype=bool)
    prev_done[1:] = in_done[:-1] & (seg.item[1:] == seg.item[:-1])
    next_done = np.zeros(n, dtype=bool)
    next_done[:-1] = in_done[1:] & (seg.item[1:] == seg.item[:-1])
    firsts = idx[~prev_done[idx]]
    lasts = idx[~next_done[idx]]
    start = seg.start[firsts]
    end = np.where(seg.final[lasts], OPEN, seg.end[lasts])
    order = np.argsort(start, kind="stable")
    return Completions(
        start[order].astype(np.int64),
        end[order].astype(np.int64),
        seg.item[firsts][order].astype(np.int64),
        result.as_of,
    )


def day_starts(first: dt.date, days: int, timezone: str) -> np.ndarray:
    """Local midnights (UTC ns) of `days + 1` consecutive days from `first`: the bounds of `days` days.

    Where midnight does not exist, the day's first instant (as metrics/periods.py).
    """
    local = pd.date_range(pd.Timestamp(first), periods=days + 1, freq="D")
    stamps = local.tz_localize(timezone, ambiguous=True, nonexistent="shift_forward")
    return np.asarray(stamps.tz_convert("UTC").as_unit("ns").asi8, dtype=np.int64)


@dataclass(frozen=True)
class DayGrid:
    """The local midnights (UTC ns) of every day from `first` on: bounds[k] starts day first + k."""

    first: dt.date
    bounds: np.ndarray

    @classmethod
    def make(cls, first: dt.date, last: dt.date, timezone: str) -> DayGrid:
        return cls(first, day_starts(first, (last - first).days + 1, timezone))

    def index(self, day: dt.date) -> int:
        k = (day - self.first).days
        if not 0 <= k < len(self.bounds):
            raise IndexError(f"{day} is outside the grid")
        return k

    def days(self, first: dt.date, n: int) -> np.ndarray:
        """The n + 1 bounds of n days from `first`."""
        k = self.index(first)
        if k + n >= len(self.bounds):
            raise IndexError(f"{n} days from {first} leave the grid")
        return self.bounds[k : k + n + 1]


def daily_throughput(comp: Completions, bounds: np.ndarray, known_at: int) -> np.ndarray:
    """Items done in each day [bounds[i], bounds[i+1]) as known at `known_at` (zero days included)."""
    if len(bounds) < 2:
        return np.zeros(0, dtype=np.int64)
    k = np.full(len(bounds) - 1, known_at, dtype=np.int64)
    return comp.count(bounds[:-1], bounds[1:], k)


@dataclass(frozen=True)
class OpenItems:
    """Items open (not done, not cancelled) at an instant t: rows of ItemResult.items."""

    rows: np.ndarray
    committed: np.ndarray  # ns, NAT when not committed by t
    stage: np.ndarray  # stage id (or "unmapped") each is in at t
    at: int


def open_items(
    result: ItemResult,
    definition: StreamDef,
    t: int,
    scope: str,
    committed_all: np.ndarray | None = None,
) -> OpenItems:
    """Items created by t that are in no done or cancelled stage at t; `committed` scope: only
    those committed by t (the WIP of METRICS.md, as wip_at counts it). `committed_all`: the
    items' committed column as int64 ns (NAT when none), when the caller has it already."""
    seg = result.segments
    stages = definition.stages
    ids = np.array([s.id for s in stages] + ["unmapped"], dtype=object)
    ended = np.array([s.kind in ("done", "cancelled") for s in stages] + [False])
    code = np.where(seg.stage == UNMAPPED, len(stages), seg.stage)
    holds = (seg.start <= t) & ((seg.end > t) | seg.final)
    # the segment holding t: for the final one only when nothing later holds it (ends are exclusive)
    idx = np.flatnonzero(holds & ~ended[code])
    rows = seg.item[idx]
    if committed_all is None:
        committed_all = committed_ns(result)
    committed = committed_all[rows]
    committed = np.where((committed != NAT) & (committed <= t), committed, NAT)
    keep = committed != NAT if scope == "committed" else np.ones(len(rows), dtype=bool)
    rows, committed, idx = rows[keep], committed[keep], idx[keep]
    order = np.argsort(rows, kind="stable")
    return OpenItems(rows[order], committed[order], ids[code[idx[order]]], t)


@dataclass(frozen=True)
class Inputs:
    """What every forecast of one stream reads: its full timeline and what is derived from it once."""

    stream_id: str
    definition: StreamDef
    result: ItemResult
    completions: Completions
    grid: DayGrid  # every local day from the first item's creation to as_of's day
    committed: np.ndarray  # per row of result.items: committed (ns) or NAT

    @classmethod
    def make(cls, stream_id: str, definition: StreamDef, result: ItemResult) -> Inputs:
        from generator.metrics.periods import local_date

        tz = definition.timezone
        created = result.items["created"].to_numpy(dtype=np.int64, na_value=NAT)
        known = created[created != NAT]
        first = local_date(int(known.min()) if len(known) else result.as_of, tz)
        last = local_date(result.as_of, tz)
        return cls(
            stream_id,
            definition,
            result,
            completions(result, definition),
            DayGrid.make(first, last, tz),
            committed_ns(result),
        )

    def open_at(self, t: int, scope: str) -> OpenItems:
        return open_items(self.result, self.definition, t, scope, self.committed)

    def open_counts(self, times: np.ndarray, scope: str) -> np.ndarray:
        """How many items are open at each instant (len(open_at(t, scope).rows) for every t, at once)."""
        starts, ends = self._open_intervals(scope)
        t = np.asarray(times, dtype=np.int64)
        counts: np.ndarray = np.searchsorted(starts, t, side="right") - np.searchsorted(
            ends, t, side="right"
        )
        return counts

    def _open_intervals(self, scope: str) -> tuple[np.ndarray, np.ndarray]:
        """Sorted starts and ends of the stretches in which an item is open (in no done or
        cancelled stage; for `committed`, from its commitment on): an item's stretches do not
        overlap, so the stretches holding t count the items open at t."""
        cache = self.__dict__.setdefault("_intervals", {})
        if scope not in cache:
            seg = self.result.segments
            stages = self.definition.stages
            ended = np.array([s.kind in ("done", "cancelled") for s in stages] + [False])
            code = np.where(seg.stage == UNMAPPED, len(stages), seg.stage)
            keep = ~ended[code]
            start = seg.start[keep]
            if scope == "committed":
                committed = self.committed[seg.item[keep]]
                keep_c = committed != NAT
                start = np.maximum(start[keep_c], committed[keep_c])
                end = np.where(seg.final[keep][keep_c], OPEN, seg.end[keep][keep_c])
            else:
                end = np.where(seg.final[keep], OPEN, seg.end[keep])
            valid = end > start
            cache[scope] = (np.sort(start[valid]), np.sort(end[valid]))
        found: tuple[np.ndarray, np.ndarray] = cache[scope]
        return found
