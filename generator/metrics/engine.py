"""The per-item reduction: timelines cut at as_of -> one row of measures per item.

This is the one module that turns rows into per-item figures (METRICS.md
sections 1 and 2); everything else aggregates its output. It is vectorised
over whole arrays: segments are rows of the prepared log, sums per item and
stage are bincounts, per-item firsts and lasts are reduceat over item runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.metrics.prepare import NAT, UNMAPPED, Prepared, prepare
from generator.validate.schema import StreamDef

BIG = np.iinfo(np.int64).max


@dataclass(frozen=True)
class Segments:
    """One row per positive-or-final interval of an item's timeline, cut at as_of.

    item: item code; start/end: ns (end = as_of for the open last one); stage: index or UNMAPPED;
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
    """Per-item measures at one as_of.

    items: one row per item: item_id, type, title, url, flow_type, created, committed, done,
    cancelled (Int64 ns), status (done|cancelled|in_progress), current_stage, lead_ns, cycle_ns
    (Int64), process_ns, wait_ns, blocked_ns (int64), flow_efficiency (float), reworked (bool),
    hand_offs (Int64), stage_ns:<id> per stage and stage_ns:unmapped (int64).
    first_entry: item x stage first-entry instants (int64 ns, NAT when never), columns = stage ids.
    ca_ok: item x active stage: True when the item was never sent back to or before the stage
    after first entering it (only meaningful where the stage was visited in the window).
    """

    as_of: int
    items: pd.DataFrame
    segments: Segments
    first_entry: pd.DataFrame
    ca_ok: pd.DataFrame
    hand_offs_by_stage: np.ndarray | None  # item x (stages + unmapped) hand-off counts, None without actors
    codes: np.ndarray  # item code (index into Prepared.items) of each row of `items`
    moves: pd.DataFrame  # one row per move back: row (position in `items`), from_stage, to_stage (ids), at (ns)
    ignored_after_as_of: int
    ignored_created_after: int
    events_before_created: pd.DataFrame  # item_id, created (given), first event ts


def _runs(item: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and length of each item's run in an item-sorted array (length 0 for none)."""
    counts = np.bincount(item, minlength=n_items)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return starts, counts


def _per_item_min(item: np.ndarray, values: np.ndarray, n_items: int) -> np.ndarray:
    out = np.full(n_items, BIG, dtype=np.int64)
    np.minimum.at(out, item, values) if len(item) < 64 else _reduce_sorted(np.minimum, item, values, out)
    return out


def _per_item_max(item: np.ndarray, values: np.ndarray, n_items: int, fill: int) -> np.ndarray:
    out = np.full(n_items, fill, dtype=np.int64)
    np.maximum.at(out, item, values) if len(item) < 64 else _reduce_sorted(np.maximum, item, values, out)
    return out


def _reduce_sorted(ufunc: np.ufunc, item: np.ndarray, values: np.ndarray, out: np.ndarray) -> None:
    """ufunc.reduceat over runs of equal item codes in an item-sorted array."""
    if not len(item):
        return
    bounds = np.flatnonzero(np.concatenate(([True], item[1:] != item[:-1])))
    reduced = ufunc.reduceat(values, bounds)
    out[item[bounds]] = ufunc(out[item[bounds]], reduced)


def build_segments(prep: Prepared, as_of: int, created: np.ndarray, alive: np.ndarray) -> Segments:
    """Segments of every alive item: rows up to as_of whose state lasts, plus time before the first event."""
    rows = (prep.ts <= as_of) & prep.last_at_instant & alive[prep.item]
    item, start = prep.item[rows], prep.ts[rows]
    stage, blocked = prep.stage[rows], prep.blocked[rows]
    n = len(item)
    end = np.empty(n, dtype=np.int64)
    if n:
        end[:-1] = start[1:]
        end[-1] = as_of
        last = np.ones(n, dtype=bool)
        last[:-1] = item[:-1] != item[1:]
        end[last] = as_of
    else:
        last = np.zeros(0, dtype=bool)
    # time between created and the first event is unmapped
    first_ts = _per_item_min(item, start, len(alive))
    lead_in = alive & (created < first_ts)
    lead_items = np.flatnonzero(lead_in)
    lead_end = np.minimum(first_ts[lead_items], as_of)
    has_rows = first_ts[lead_items] != BIG
    seg_item = np.concatenate((lead_items, item))
    seg_start = np.concatenate((created[lead_items], start))
    seg_end = np.concatenate((lead_end, end))
    seg_stage = np.concatenate((np.full(len(lead_items), UNMAPPED), stage))
    seg_blocked = np.concatenate((np.zeros(len(lead_items), bool), blocked))
    seg_final = np.concatenate((~has_rows, last))
    order = np.lexsort((seg_start, seg_item))
    return Segments(seg_item[order], seg_start[order], seg_end[order], seg_stage[order], seg_blocked[order], seg_final[order])


def compute_items(events: pd.DataFrame, items: pd.DataFrame, definition: StreamDef, as_of: int) -> ItemResult:
    """Per-item measures of a canonical event log at as_of (METRICS.md sections 1-2)."""
    return timeline_at(prepare(events, items, definition), definition, as_of)


def timeline_at(prep: Prepared, definition: StreamDef, as_of: int, subset: np.ndarray | None = None) -> ItemResult:
    """Per-item measures at `as_of`, optionally only for the items where `subset` is True."""
    stages = definition.stages
    n_stages = len(stages)
    kinds = np.array([s.kind for s in stages] + ["unmapped"])
    order_of = np.arange(n_stages + 1)
    order_of[-1] = -1  # unmapped has no place in stream order
    n_items = len(prep.items)
    commit_index = [s.id for s in stages].index(definition.commitment)

    in_window = prep.ts <= as_of
    first_event = _per_item_min(prep.item[in_window], prep.ts[in_window], n_items)
    first_any = _per_item_min(prep.item, prep.ts, n_items)
    given = prep.items["given_created"].to_numpy(dtype=np.int64)
    created = np.where(given == NAT, first_any, given)
    created = np.minimum(created, first_event)
    known = created != BIG
    alive = known & (created <= as_of)
    if subset is not None:
        alive &= subset
    before_created = (given != NAT) & (first_event < given) & alive
    ignored_created_after = int((known & (created > as_of)).sum())
    ignored_after = int(((prep.ts > as_of) & alive[prep.item]).sum())

    seg = build_segments(prep, as_of, np.where(alive, created, 0), alive)
    code = np.where(seg.stage == UNMAPPED, n_stages, seg.stage)  # column index, unmapped last
    kind = kinds[code]

    # done / cancelled: the final run of consecutive segments in done (or cancelled) stages
    done = _final_run_start(seg, kind == "done", n_items)
    cancelled = _final_run_start(seg, kind == "cancelled", n_items)
    committed_mask = (order_of[code] >= commit_index) & (kind != "cancelled")
    committed = _per_item_min(seg.item[committed_mask], seg.start[committed_mask], n_items)
    committed = np.where(committed == BIG, NAT, committed)

    window_end = np.where(done != NAT, done, np.where(cancelled != NAT, cancelled, as_of))
    s = np.maximum(seg.start, created[seg.item])
    e = np.minimum(seg.end, window_end[seg.item])
    length = np.maximum(e - s, 0)

    per_stage = _sum_by(seg.item * (n_stages + 1) + code, length, n_items * (n_stages + 1)).reshape(n_items, n_stages + 1)
    active = kind == "active"
    blocked_per_stage = _sum_by(seg.item * (n_stages + 1) + code, np.where(seg.blocked, length, 0), n_items * (n_stages + 1)).reshape(n_items, n_stages + 1)
    process = _sum_by(seg.item, np.where(active & ~seg.blocked, length, 0), n_items)
    blocked = _sum_by(seg.item, np.where(seg.blocked, length, 0), n_items)
    total = _sum_by(seg.item, length, n_items)
    wait = total - process

    moved_back, prev_order = _moves_back(seg, order_of[code], length, window_end)
    reworked = np.zeros(n_items, dtype=bool)
    reworked[seg.item[moved_back]] = True
    first_entry = _first_entries(seg, code, length, window_end, n_stages, n_items)
    ca_ok = _pct_ca_flags(seg, order_of[code], prev_order, moved_back, first_entry, stages, n_items)

    hand_offs, by_stage = _hand_offs(prep, as_of, created, window_end, alive, n_items, stages)
    final_code = np.full(n_items, n_stages, dtype=np.int64)
    final_code[seg.item[seg.final]] = code[seg.final]
    stage_names = np.array([st.id for st in stages] + ["unmapped"], dtype=object)

    status = np.where(done != NAT, "done", np.where(cancelled != NAT, "cancelled", "in_progress"))
    lead = np.where(done != NAT, done - created, NAT)
    cycle = np.where((done != NAT) & (committed != NAT), done - committed, NAT)
    with np.errstate(invalid="ignore", divide="ignore"):
        efficiency = np.where(process + wait > 0, process / (process + wait), np.nan)

    out = prep.items[["item_id", "type", "title", "url"]].copy()
    types = pd.Series(out["type"].to_numpy(dtype=object, na_value=None))
    mapping = dict(definition.item_types)
    type_codes, type_names = pd.factorize(types, use_na_sentinel=True)
    flow_of = np.array([mapping.get(str(t), "other") for t in type_names] + ["other"], dtype=object)
    out["flow_type"] = pd.array(flow_of[type_codes], dtype="string")
    for name, values in (("created", created), ("committed", committed), ("done", done), ("cancelled", cancelled), ("lead_ns", lead), ("cycle_ns", cycle)):
        col = pd.array(values, dtype="Int64")
        col[values == NAT] = pd.NA
        col[~known] = pd.NA
        out[name] = col
    out["status"] = pd.array(status, dtype="string")
    out["current_stage"] = pd.array(stage_names[final_code], dtype="string")
    out["process_ns"] = process
    out["wait_ns"] = wait
    out["blocked_ns"] = blocked
    out["flow_efficiency"] = efficiency
    out["reworked"] = reworked
    out["hand_offs"] = hand_offs
    for j, st in enumerate(stages):
        out[f"stage_ns:{st.id}"] = per_stage[:, j]
    out["stage_ns:unmapped"] = per_stage[:, n_stages]
    for j, st in enumerate(stages):
        if st.kind == "active":
            out[f"blocked_ns:{st.id}"] = blocked_per_stage[:, j]
    keep = alive
    before = pd.DataFrame(
        {"item_id": prep.items["item_id"][before_created].to_numpy(), "created": given[before_created], "first_event": first_event[before_created]}
    )
    first = pd.DataFrame(first_entry[keep], columns=[st.id for st in stages])
    active_ids = [st.id for st in stages if st.kind == "active"]
    ca = pd.DataFrame(ca_ok[keep][:, [j for j, st in enumerate(stages) if st.kind == "active"]], columns=active_ids)
    row_of = np.full(n_items, -1, dtype=np.int64)
    row_of[np.flatnonzero(keep)] = np.arange(int(keep.sum()))
    mb = np.flatnonzero(moved_back)
    ids = np.array([st.id for st in stages] + ["unmapped"], dtype=object)
    moves = pd.DataFrame({"row": row_of[seg.item[mb]], "from_stage": ids[prev_order[mb]], "to_stage": ids[order_of[code[mb]]], "at": seg.start[mb]})
    return ItemResult(
        moves=moves,
        as_of=as_of,
        items=out[keep].reset_index(drop=True),
        segments=seg,
        first_entry=first,
        ca_ok=ca,
        hand_offs_by_stage=None if by_stage is None else by_stage[keep],
        codes=np.flatnonzero(keep),
        ignored_after_as_of=ignored_after,
        ignored_created_after=ignored_created_after,
        events_before_created=before,
    )


def _sum_by(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Exact integer sums of `values` per index (bincount is float; int64 sums stay exact)."""
    out = np.zeros(size, dtype=np.int64)
    if len(index):
        np.add.at(out, index, values) if len(index) < 4096 else _add_sorted(out, index, values)
    return out


def _add_sorted(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    order = np.argsort(index, kind="stable")
    idx, vals = index[order], values[order]
    bounds = np.flatnonzero(np.concatenate(([True], idx[1:] != idx[:-1])))
    out[idx[bounds]] += np.add.reduceat(vals, bounds)


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


def _moves_back(seg: Segments, order: np.ndarray, length: np.ndarray, window_end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _first_entries(seg: Segments, code: np.ndarray, length: np.ndarray, window_end: np.ndarray, n_stages: int, n_items: int) -> np.ndarray:
    """item x stage: first instant the item entered the stage, counting visits as _moves_back does."""
    out = np.full(n_items * (n_stages + 1), BIG, dtype=np.int64)
    counted = (length > 0) | (seg.start == window_end[seg.item])
    key = seg.item[counted] * (n_stages + 1) + code[counted]
    np.minimum.at(out, key, seg.start[counted]) if len(key) < 4096 else _min_sorted(out, key, seg.start[counted])
    out = out.reshape(n_items, n_stages + 1)[:, :n_stages]
    return np.where(out == BIG, NAT, out)


def _min_sorted(out: np.ndarray, key: np.ndarray, values: np.ndarray) -> None:
    order = np.lexsort((values, key))
    k = key[order]
    bounds = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    out[k[bounds]] = np.minimum(out[k[bounds]], values[order][bounds])


def _pct_ca_flags(seg: Segments, order: np.ndarray, prev: np.ndarray, moved: np.ndarray, first_entry: np.ndarray, stages: tuple, n_items: int) -> np.ndarray:  # type: ignore[type-arg]
    """item x stage: no move back from after the stage to it or before it, after first entering it."""
    ok = np.ones((n_items, len(stages)), dtype=bool)
    mb = np.flatnonzero(moved)
    if not len(mb):
        return ok
    mb_item, mb_to, mb_from, mb_at = seg.item[mb], order[mb], prev[mb], seg.start[mb]
    for j, stage in enumerate(stages):
        if stage.kind != "active":
            continue
        entered = first_entry[mb_item, j]
        hit = (mb_from > j) & (mb_to <= j) & (entered != NAT) & (mb_at > entered)
        ok[mb_item[hit], j] = False
    return ok


def _hand_offs(prep: Prepared, as_of: int, created: np.ndarray, window_end: np.ndarray, alive: np.ndarray, n_items: int, stages: tuple) -> tuple[pd.api.extensions.ExtensionArray, np.ndarray | None]:  # type: ignore[type-arg]
    """Rows in (created, end] whose actor differs from the item's previous non-empty actor.

    Each hand-off is credited to the stage the item is in after that row.
    """
    if not prep.has_actor or not ((prep.actor >= 0) & (prep.ts <= as_of)).any():
        none = pd.array(np.zeros(n_items, dtype=np.int64), dtype="Int64")
        none[:] = pd.NA
        return none, None
    rows = (prep.ts <= as_of) & (prep.actor >= 0) & alive[prep.item]
    idx = np.flatnonzero(rows)
    item, actor, ts, stage = prep.item[idx], prep.actor[idx], prep.ts[idx], prep.stage[idx]
    change = np.zeros(len(idx), dtype=bool)
    if len(idx) > 1:
        change[1:] = (item[1:] == item[:-1]) & (actor[1:] != actor[:-1])
    counted = change & (ts > created[item]) & (ts <= window_end[item])
    per_item = np.bincount(item[counted], minlength=n_items).astype(np.int64)
    width = len(stages) + 1
    code = np.where(stage[counted] == UNMAPPED, len(stages), stage[counted])
    by_stage = np.bincount(item[counted] * width + code, minlength=n_items * width).reshape(n_items, width)
    return pd.array(per_item, dtype="Int64"), by_stage
