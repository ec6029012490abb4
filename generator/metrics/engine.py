"""The per-item reduction: timelines cut at as_of -> one row of measures per item.

This is the one module that turns rows into per-item figures (METRICS.md
sections 1 and 2); everything else aggregates its output. It is vectorised
over whole arrays: segments are rows of the prepared log, sums per item and
stage are bincounts, per-item firsts and lasts are reduceat over item runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from generator.metrics.prepare import NAT, UNMAPPED, Prepared, prepare
from generator.validate.schema import FLOW_TYPES, StreamDef

BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Segments:
    """One row per positive-or-final interval of an item's timeline, cut at as_of.

    item: row of ItemResult.items; start/end: ns (end = as_of for the open last one); stage: index or UNMAPPED;
    blocked: bool; final: the item's last segment. Sorted by item then start; the
    first segment of an item may be the synthetic unmapped time before its first event.
    """

    item: np.ndarray
    start: np.ndarray
    end: np.ndarray
    stage: np.ndarray
    blocked: np.ndarray
    final: np.ndarray


@dataclass(frozen=True)
class ItemResult:
    """Per-item measures at one as_of, for the items alive then (created by as_of, in the subset).

    items: one row per item: code (index into `info`), item_id (categorical), flow_type (categorical), created,
    committed, done, cancelled (Int64 ns), status (categorical: done|cancelled|in_progress),
    current_stage (categorical: stage id or unmapped), lead_ns, cycle_ns (Int64), process_ns,
    wait_ns, blocked_ns (int64), flow_efficiency (float), reworked (bool), hand_offs (Int64),
    stage_ns:<id> per stage and stage_ns:unmapped (int64), blocked_ns:<id> per active stage.
    info: the prepared item attributes (item_id, type, title, url, ...), indexed by `code`;
    `attrs(rows)` looks them up for rows of `items`.
    segments: item = row of `items`.
    first_entry: item x stage first-entry instants (int64 ns, NAT when never), columns = stage ids.
    ca_ok: item x active stage: True when the item was never sent back to or before the stage
    after first entering it (only meaningful where the stage was visited in the window).
    """

    as_of: int
    items: pd.DataFrame
    info: pd.DataFrame
    segments: Segments
    first_entry: pd.DataFrame
    ca_ok: pd.DataFrame
    hand_offs_by_stage: (
        np.ndarray | None
    )  # item x (stages + unmapped) hand-off counts, None without actors
    codes: np.ndarray  # item code (index into Prepared.items) of each row of `items`
    moves: (
        pd.DataFrame
    )  # one row per move back: row (position in `items`), from_stage, to_stage (ids), at (ns)
    ignored_after_as_of: int
    ignored_created_after: int
    events_before_created: pd.DataFrame  # item_id, created (given), first event ts

    def attrs(
        self,
        rows: np.ndarray | None = None,
        columns: tuple[str, ...] = ("item_id", "type", "title", "url"),
    ) -> pd.DataFrame:
        """Item attributes for rows of `items` (all rows by default), index aligned to `rows`' order."""
        codes = self.codes if rows is None else self.codes[np.asarray(rows, dtype=np.int64)]
        return self.info.iloc[codes][list(columns)].reset_index(drop=True)


def _sorted_firsts(item: np.ndarray) -> np.ndarray:
    """Positions where each run of equal values starts in a sorted array."""
    if not len(item):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], item[1:] != item[:-1])))


def _per_item_min(item: np.ndarray, values: np.ndarray, n_items: int) -> np.ndarray:
    out = np.full(n_items, BIG, dtype=np.int64)
    _reduce_sorted(np.minimum, item, values, out)
    return out


def _per_item_max(item: np.ndarray, values: np.ndarray, n_items: int, fill: int) -> np.ndarray:
    out = np.full(n_items, fill, dtype=np.int64)
    _reduce_sorted(np.maximum, item, values, out)
    return out


def _reduce_sorted(ufunc: np.ufunc, item: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """ufunc.reduceat over runs of equal item codes in an item-sorted array."""
    if not len(item):
        return
    bounds = _sorted_firsts(item)
    reduced = ufunc.reduceat(values, bounds)
    out[item[bounds]] = ufunc(out[item[bounds]], reduced)


def build_segments(
    prep: Prepared, as_of: int, created: np.ndarray, local: np.ndarray, m: int
) -> Segments:
    """Segments of the alive items (local[code] >= 0): rows up to as_of whose state lasts, plus the
    unmapped time between created and the first event. Items are renumbered 0..m-1 (rows of `items`)."""
    rows = (prep.ts <= as_of) & prep.last_at_instant
    rows &= local[prep.item] >= 0
    item = local[prep.item[rows]]
    start = prep.ts[rows]
    stage, blocked = prep.stage[rows], prep.blocked[rows]
    n = len(item)
    last = np.ones(n, dtype=bool)
    end = np.full(n, as_of, dtype=np.int64)
    if n:
        last[:-1] = item[:-1] != item[1:]
        end[:-1] = np.where(last[:-1], as_of, start[1:])
    firsts = _sorted_firsts(item)
    first_ts = np.full(m, BIG, dtype=np.int64)
    first_ts[item[firsts]] = start[firsts]
    # time between created and the first event is unmapped: inserted before the item's first row
    lead_items = np.flatnonzero(created < first_ts)
    at = np.searchsorted(item, lead_items, side="left")
    lead_end = np.minimum(first_ts[lead_items], as_of)
    has_rows = first_ts[lead_items] != BIG
    return Segments(
        np.insert(item, at, lead_items),
        np.insert(start, at, created[lead_items]),
        np.insert(end, at, lead_end),
        np.insert(stage, at, UNMAPPED),
        np.insert(blocked, at, False),
        np.insert(last, at, ~has_rows),
    )


def compute_items(
    events: pd.DataFrame, items: pd.DataFrame, definition: StreamDef, as_of: int
) -> ItemResult:
    """Per-item measures of a canonical event log at as_of (METRICS.md sections 1-2)."""
    return timeline_at(prepare(events, items, definition), definition, as_of)


def _nullable(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    return pd.arrays.IntegerArray(values.astype(np.int64), values == NAT)


def timeline_at(
    prep: Prepared,
    definition: StreamDef,
    as_of: int,
    subset: np.ndarray | None = None,
    actors_from: int | None = None,
) -> ItemResult:
    """Per-item measures at `as_of`, optionally only for the items where `subset` is True.

    Hand-offs are counted when the stream has an actor row by as_of; `actors_from` gives the
    stream's first actor instant when `prep` holds only some of its items (a partition).
    """
    stages = definition.stages
    n_stages = len(stages)
    kinds = np.array([s.kind for s in stages] + ["unmapped"])
    order_of = np.arange(n_stages + 1)
    order_of[-1] = -1  # unmapped has no place in stream order
    n_all = len(prep.items)
    commit_index = [s.id for s in stages].index(definition.commitment)

    first_any = prep.first_ts
    first_event = np.where(first_any <= as_of, first_any, BIG)
    given = prep.items["given_created"].to_numpy(dtype=np.int64)
    created_all = np.minimum(np.where(given == NAT, first_any, given), first_event)
    known = created_all != BIG
    alive = known & (created_all <= as_of)
    if subset is not None:
        alive &= subset
    codes = np.flatnonzero(alive)
    m = len(codes)
    local = np.full(n_all, -1, dtype=np.int64)
    local[codes] = np.arange(m)
    created = created_all[codes]
    before_created = (given != NAT) & (first_event < given) & alive
    ignored_created_after = int((known & (created_all > as_of)).sum())
    ignored_after = int(((prep.ts > as_of) & alive[prep.item]).sum()) if subset is None else 0

    seg = build_segments(prep, as_of, created, local, m)
    code = np.where(seg.stage == UNMAPPED, n_stages, seg.stage)  # column index, unmapped last
    kind = kinds[code]

    # done / cancelled: the final run of consecutive segments in done (or cancelled) stages
    done = _final_run_start(seg, kind == "done", m)
    cancelled = _final_run_start(seg, kind == "cancelled", m)
    committed_mask = (order_of[code] >= commit_index) & (kind != "cancelled")
    committed = _per_item_min(seg.item[committed_mask], seg.start[committed_mask], m)
    committed = np.where(committed == BIG, NAT, committed)

    window_end = np.where(done != NAT, done, np.where(cancelled != NAT, cancelled, as_of))
    s = np.maximum(seg.start, created[seg.item])
    e = np.minimum(seg.end, window_end[seg.item])
    length = np.maximum(e - s, 0)

    width = n_stages + 1
    cell = seg.item * width + code
    per_stage = _sum_by(cell, length, m * width).reshape(m, width)
    blocked_length = np.where(seg.blocked, length, 0)
    blocked_per_stage = _sum_by(cell, blocked_length, m * width).reshape(m, width)
    active = kind == "active"
    process = per_stage[:, :n_stages][:, kinds[:n_stages] == "active"].sum(
        axis=1
    ) - blocked_per_stage[:, :n_stages][:, kinds[:n_stages] == "active"].sum(axis=1)
    blocked = blocked_per_stage.sum(axis=1)
    total = per_stage.sum(axis=1)
    wait = total - process
    _ = active

    moved_back, prev_order = _moves_back(seg, order_of[code], length, window_end)
    reworked = np.zeros(m, dtype=bool)
    reworked[seg.item[moved_back]] = True
    first_entry = _first_entries(seg, code, length, window_end, n_stages, m)
    ca_ok = _pct_ca_flags(seg, order_of[code], prev_order, moved_back, first_entry, stages, m)

    hand_offs, by_stage = _hand_offs(
        prep, as_of, created, window_end, local, m, stages, actors_from
    )
    final_code = np.full(m, n_stages, dtype=np.int64)
    final_code[seg.item[seg.final]] = code[seg.final]

    status = np.where(done != NAT, 0, np.where(cancelled != NAT, 1, 2))
    lead = np.where(done != NAT, done - created, NAT)
    cycle = np.where((done != NAT) & (committed != NAT), done - committed, NAT)
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = np.where(total > 0, process / np.where(total > 0, total, 1), np.nan)

    columns: dict[str, object] = {
        "code": codes,
        "item_id": pd.Categorical.from_codes(codes, dtype=prep.item_dtype),
        "flow_type": pd.Categorical.from_codes(
            prep.items["flow"].to_numpy()[codes], dtype=pd.CategoricalDtype(list(FLOW_TYPES))
        ),
        "created": _nullable(created),
        "committed": _nullable(committed),
        "done": _nullable(done),
        "cancelled": _nullable(cancelled),
        "lead_ns": _nullable(lead),
        "cycle_ns": _nullable(cycle),
        "status": pd.Categorical.from_codes(
            status, dtype=pd.CategoricalDtype(["done", "cancelled", "in_progress"])
        ),
        "current_stage": pd.Categorical.from_codes(
            final_code, dtype=pd.CategoricalDtype([*(st.id for st in stages), "unmapped"])
        ),
        "process_ns": process,
        "wait_ns": wait,
        "blocked_ns": blocked,
        "flow_efficiency": efficiency,
        "reworked": reworked,
        "hand_offs": hand_offs,
    }
    for j, st in enumerate(stages):
        columns[f"stage_ns:{st.id}"] = per_stage[:, j]
    columns["stage_ns:unmapped"] = per_stage[:, n_stages]
    for j, st in enumerate(stages):
        if st.kind == "active":
            columns[f"blocked_ns:{st.id}"] = blocked_per_stage[:, j]
    out = pd.DataFrame(columns)
    before = pd.DataFrame(
        {
            "item_id": prep.items["item_id"][before_created].to_numpy(),
            "created": given[before_created],
            "first_event": first_event[before_created],
        }
    )
    first = pd.DataFrame(first_entry, columns=[st.id for st in stages])
    active_ids = [st.id for st in stages if st.kind == "active"]
    ca = pd.DataFrame(
        ca_ok[:, [j for j, st in enumerate(stages) if st.kind == "active"]], columns=active_ids
    )
    mb = np.flatnonzero(moved_back)
    ids = np.array([st.id for st in stages] + ["unmapped"], dtype=object)
    moves = pd.DataFrame(
        {
            "row": seg.item[mb],
            "from_stage": ids[prev_order[mb]],
            "to_stage": ids[order_of[code[mb]]],
            "at": seg.start[mb],
        }
    )
    return ItemResult(
        moves=moves,
        as_of=as_of,
        items=out,
        info=prep.items,
        segments=seg,
        first_entry=first,
        ca_ok=ca,
        hand_offs_by_stage=by_stage,
        codes=codes,
        ignored_after_as_of=ignored_after,
        ignored_created_after=ignored_created_after,
        events_before_created=before,
    )


def first_actor(prep: Prepared) -> int:
    """The first instant of a row with an actor (BIG when there is none)."""
    if not prep.has_actor:
        return BIG
    with_actor = prep.ts[prep.actor >= 0]
    return int(with_actor.min()) if len(with_actor) else BIG


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact int64 sums of `values` per index (np.add.at: integer addition, no float rounding)."""
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, index, values)
    return out


def _final_run_start(seg: Segments, in_kind: np.ndarray, n_items: int) -> np.ndarray:
    """Start of each item's final run of segments in stages of one kind, NAT unless it ends in one."""
    out = np.full(n_items, NAT, dtype=np.int64)
    n = len(seg.item)
    if not n:
        return out
    pos = np.arange(n)
    breaker = np.where(~in_kind, pos, -1)
    last_break = _per_item_max(seg.item, breaker, n_items, -1)
    first_pos = _per_item_min(seg.item, pos, n_items)
    ends_in = seg.final & in_kind
    items = seg.item[ends_in]
    run_start = np.maximum(last_break[items] + 1, first_pos[items])
    out[items] = seg.start[run_start]
    return out


def _moves_back(
    seg: Segments, order: np.ndarray, length: np.ndarray, window_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rows that are a move back: a mapped visit earlier in stream order than the previous mapped visit.

    Only visits inside the window count: positive length, or the item's final segment
    when it starts at the window's end (the final done or cancel).
    """
    visit = (order >= 0) & ((length > 0) | (seg.start == window_end[seg.item]))
    idx = np.flatnonzero(visit)
    prev = np.full(len(seg.item), -1, dtype=np.int64)
    if len(idx) > 1:
        same = seg.item[idx[1:]] == seg.item[idx[:-1]]
        prev[idx[1:][same]] = order[idx[:-1][same]]
    moved = visit & (prev >= 0) & (order < prev)
    return moved, prev


def _first_entries(
    seg: Segments,
    code: np.ndarray,
    length: np.ndarray,
    window_end: np.ndarray,
    n_stages: int,
    n_items: int,
) -> np.ndarray:
    """item x stage: first instant the item entered the stage, counting visits as _moves_back does
    (inside the lead-time window)."""
    counted = (length > 0) | (seg.start == window_end[seg.item])
    return _first_of(seg, code, counted, n_stages, n_items)


def first_entries(seg: Segments, n_stages: int, n_items: int) -> np.ndarray:
    """item x stage: first instant the item entered the stage up to as_of, whenever that was
    (after done too): a positive-length segment, or the final one even when it starts at as_of."""
    counted = (seg.end > seg.start) | seg.final
    return _first_of(seg, seg.stage.astype(np.int64), counted, n_stages, n_items)


def _first_of(
    seg: Segments, code: np.ndarray, counted: np.ndarray, n_stages: int, n_items: int
) -> np.ndarray:
    """Segments are sorted by item then start, so an item's first counted segment in a stage is its entry."""
    out = np.full((n_items, n_stages), NAT, dtype=np.int64)
    for j in range(n_stages):
        idx = np.flatnonzero(counted & (code == j))
        if not len(idx):
            continue
        firsts = idx[_sorted_firsts(seg.item[idx])]
        out[seg.item[firsts], j] = seg.start[firsts]
    return out


def _pct_ca_flags(
    seg: Segments,
    order: np.ndarray,
    prev: np.ndarray,
    moved: np.ndarray,
    first_entry: np.ndarray,
    stages: tuple[Any, ...],
    n_items: int,
) -> np.ndarray:
    """item x stage: no move back from a stage after it to it or to a stage before it, from the
    first entry into it on.

    A move back that lands in the stage counts even when it is the item's first entry (the item
    was sent back to it from later in the stream); one that lands before the stage counts only
    after the item first entered it (docs/metrics.md, %C&A).
    """
    ok = np.ones((n_items, len(stages)), dtype=bool)
    mb = np.flatnonzero(moved)
    if not len(mb):
        return ok
    mb_item, mb_to, mb_from, mb_at = seg.item[mb], order[mb], prev[mb], seg.start[mb]
    for j, stage in enumerate(stages):
        if stage.kind != "active":
            continue
        entered = first_entry[mb_item, j]
        after_entry = (entered != NAT) & (mb_at > entered)
        hit = (mb_from > j) & ((mb_to == j) | ((mb_to < j) & after_entry))
        ok[mb_item[hit], j] = False
    return ok


def _hand_offs(
    prep: Prepared,
    as_of: int,
    created: np.ndarray,
    window_end: np.ndarray,
    local: np.ndarray,
    n_items: int,
    stages: tuple[Any, ...],
    actors_from: int | None = None,
) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray | None]:
    """Rows in (created, end] whose actor differs from the item's previous non-empty actor.

    Each hand-off is credited to the stage the item is in after that row.
    """
    if actors_from is None:
        actors_from = first_actor(prep)
    if actors_from > as_of:
        return pd.arrays.IntegerArray(
            np.zeros(n_items, dtype=np.int64), np.ones(n_items, dtype=bool)
        ), None
    rows = (prep.ts <= as_of) & (prep.actor >= 0) & (local[prep.item] >= 0)
    idx = np.flatnonzero(rows)
    item, actor, ts, stage = local[prep.item[idx]], prep.actor[idx], prep.ts[idx], prep.stage[idx]
    change = np.zeros(len(idx), dtype=bool)
    if len(idx) > 1:
        change[1:] = (item[1:] == item[:-1]) & (actor[1:] != actor[:-1])
    counted = change & (ts > created[item]) & (ts <= window_end[item])
    per_item = np.bincount(item[counted], minlength=n_items).astype(np.int64)
    width = len(stages) + 1
    code = np.where(stage[counted] == UNMAPPED, len(stages), stage[counted])
    by_stage = np.bincount(item[counted] * width + code, minlength=n_items * width).reshape(
        n_items, width
    )
    return pd.arrays.IntegerArray(per_item, np.zeros(n_items, dtype=bool)), by_stage
