"""The paths of a period's completed items, segment by segment, for what-if scenarios.

A scenario changes how items would have flowed, so it needs more than each item's time per stage:
which time belongs to a round trip that a stage sent back, and which moves back would be left if
that round trip had not happened. This module takes the segments of the stream's full timeline
(engine.ItemResult at the stream's as_of) for the items a period completed, clipped to each item's
[created, done) as the period knows it: the same intervals the period's own per-item figures sum,
so with nothing removed every figure here equals the period's (tests check it). Pure numpy over
whole arrays; the only loops are over stage indices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from generator.metrics.aggregates import PeriodResult
from generator.metrics.engine import ItemResult
from generator.metrics.prepare import NAT, UNMAPPED

BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class ItemPaths:
    """The positive-length segments of a period's completed items, sorted by item then start.

    item: row of the period's `completed` frame; code: stage index, `n_stages` for unmapped;
    pos: where in stream order the item stood (the stage index; for unmapped time the last mapped
    stage's, -1 before any); length (ns); blocked; after_commit: the segment starts at or after the
    item's committed instant (cycle time); first: index of each segment's item's first segment.
    """

    n_items: int
    n_stages: int
    item: np.ndarray
    code: np.ndarray
    pos: np.ndarray
    length: np.ndarray
    blocked: np.ndarray
    after_commit: np.ndarray
    first: np.ndarray

    @property
    def width(self) -> int:
        return self.n_stages + 1


def item_paths(result: ItemResult, period: PeriodResult, n_stages: int) -> ItemPaths:
    """The segments of `period`'s completed items, taken from the full `result` and clipped."""
    completed = period.completed
    n = len(completed)
    row_of = np.full(int(result.codes.max()) + 1 if len(result.codes) else 0, -1, dtype=np.int64)
    row_of[result.codes] = np.arange(len(result.codes))
    codes = completed["code"].to_numpy(dtype=np.int64)
    rows = row_of[codes]  # their rows in the full result (ascending: both are in item-code order)
    member = np.full(len(result.items), -1, dtype=np.int64)
    member[rows] = np.arange(n)
    seg = result.segments
    take = member[seg.item] >= 0
    item = member[seg.item[take]]
    created = completed["created"].to_numpy(dtype=np.int64, na_value=NAT)
    done = completed["done"].to_numpy(dtype=np.int64, na_value=NAT)
    committed = completed["committed"].to_numpy(dtype=np.int64, na_value=NAT)
    start = np.maximum(seg.start[take], created[item])
    end = np.minimum(seg.end[take], done[item])
    keep = end > start
    item, start, length = item[keep], start[keep], (end - start)[keep]
    stage = seg.stage[take][keep].astype(np.int64)
    code = np.where(stage == UNMAPPED, n_stages, stage)
    pos = _carried_positions(item, np.where(stage == UNMAPPED, -1, stage))
    after = (committed[item] != NAT) & (start >= committed[item])
    return ItemPaths(
        n, n_stages, item, code, pos, length, seg.blocked[take][keep], after, _firsts(item)
    )


def _firsts(item: np.ndarray) -> np.ndarray:
    """For each segment, the index of its item's first segment (items are sorted)."""
    if not len(item):
        return np.zeros(0, dtype=np.int64)
    starts = np.concatenate(([True], item[1:] != item[:-1]))
    return np.maximum.accumulate(np.where(starts, np.arange(len(item)), 0))


def _carried_positions(item: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The mapped stage index, carried forward per item over unmapped segments (-1 before any)."""
    if not len(item):
        return order.copy()
    mapped = order >= 0
    firsts = _firsts(item)
    idx = np.maximum.accumulate(np.where(mapped, np.arange(len(item)), -1))
    return np.where(idx >= firsts, order[np.maximum(idx, 0)], -1)


def round_trips(paths: ItemPaths, stage: int) -> np.ndarray:
    """Segments that are part of a round trip the stage sent back (a mask over segments).

    A round trip starts with the visit to the stage that ended in a move back (the run of segments
    at its position followed by a lower one) and lasts until the item stands at the stage or a
    later one again: everything in between, nested send-backs of other stages included.
    """
    pos, n = paths.pos, len(paths.pos)
    if not n:
        return np.zeros(0, dtype=bool)
    index = np.arange(n)
    # the last segment at or past the stage, up to each segment (same item)
    last_ge = np.maximum.accumulate(np.where(pos >= stage, index, -1))
    seen = last_ge >= paths.first
    inside = (pos < stage) & seen & (pos[np.maximum(last_ge, 0)] == stage)
    # the next segment not at the stage, from each segment on (same item): a drop ends the visit
    next_ne = np.minimum.accumulate(np.where(pos != stage, index, n)[::-1])[::-1]
    same_item = (next_ne < n) & (paths.item[np.minimum(next_ne, n - 1)] == paths.item)
    sent_back = (pos == stage) & same_item & (pos[np.minimum(next_ne, n - 1)] < stage)
    out: np.ndarray = inside | sent_back
    return out


def per_item_stage(paths: ItemPaths, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """item x (stages + unmapped): exact int64 sums of `values` over the masked segments."""
    out = np.zeros(paths.n_items * paths.width, dtype=np.int64)
    np.add.at(out, paths.item[mask] * paths.width + paths.code[mask], values[mask])
    return out.reshape(paths.n_items, paths.width)


@dataclass(frozen=True)
class Moves:
    """Moves back left in the kept segments: one row per move (item, from and to stage index)."""

    item: np.ndarray
    from_stage: np.ndarray
    to_stage: np.ndarray
    at: np.ndarray  # index of the segment where the move lands


def moves_back(paths: ItemPaths, keep: np.ndarray) -> Moves:
    """A mapped segment earlier in stream order than the item's previous kept mapped segment
    (engine.py's rule: unmapped time is skipped when finding the previous visit)."""
    idx = np.flatnonzero(keep & (paths.code < paths.n_stages))
    if len(idx) < 2:
        empty = np.zeros(0, dtype=np.int64)
        return Moves(empty, empty, empty, empty)
    prev, cur = idx[:-1], idx[1:]
    same = paths.item[prev] == paths.item[cur]
    drop = same & (paths.code[cur] < paths.code[prev])
    return Moves(paths.item[cur[drop]], paths.code[prev[drop]], paths.code[cur[drop]], cur[drop])


def complete_accurate(
    paths: ItemPaths, keep: np.ndarray, moves: Moves, active: list[int]
) -> dict[int, np.ndarray]:
    """Per active stage: a per-item flag, True when no move back from a later stage landed in the
    stage, nor before it after the item first entered it (METRICS.md's %C&A, engine.py's rule),
    over kept segments."""
    out: dict[int, np.ndarray] = {}
    for j in active:
        entered = np.full(paths.n_items, BIG, dtype=np.int64)
        at = np.flatnonzero(keep & (paths.code == j))
        np.minimum.at(entered, paths.item[at], at)
        # a move back landing in the stage counts even as its first entry (the item was sent back
        # to it); one landing before it counts only after the item first entered it
        after_entry = moves.at > entered[moves.item]
        hit = (moves.from_stage > j) & (
            (moves.to_stage == j) | ((moves.to_stage < j) & after_entry)
        )
        ok = np.ones(paths.n_items, dtype=bool)
        ok[moves.item[hit]] = False
        out[j] = ok
    return out


def stage_wip(result: ItemResult, start: int, end: int, n_stages: int) -> np.ndarray:
    """Mean number of items in each stage over [start, end): item-time in it / elapsed time.

    From every item's segments (not only completed ones), blocked time included; the time-average
    WIP that Little's law relates to throughput and time in the stage. Index n_stages: unmapped.
    """
    seg = result.segments
    if end <= start or not len(seg.item):
        return np.zeros(n_stages + 1)
    overlap = np.maximum(np.minimum(seg.end, end) - np.maximum(seg.start, start), 0)
    code = np.where(seg.stage == UNMAPPED, n_stages, seg.stage).astype(np.int64)
    totals = np.bincount(code, weights=overlap.astype(np.float64), minlength=n_stages + 1)
    out: np.ndarray = totals / float(end - start)
    return out
