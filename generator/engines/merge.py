"""Putting the partitions' outputs together on the driver, exactly.

Every partition holds whole items, in item-id order, so the stream's item codes
are the positions in the sorted union of the partitions' item ids, and each
partition's rows keep their relative order when they are renumbered. Per-item
rows (the items at as_of, each period's completed and aging items) are
concatenated and put in code order, which is the pandas engine's row order, so
every mean and percentile is computed over the same values in the same order;
everything else is a count of items and adds up.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.engines.dask_tasks import PartOutput
from generator.metrics.aggregates import PeriodParts
from generator.metrics.engine import ItemResult, Segments
from generator.metrics.prepare import Prepared, PreparedFacts, unmapped_summary


@dataclass(frozen=True)
class Numbering:
    """The stream's item codes: `codes[k]` maps partition k's item codes to the stream's."""

    info: pd.DataFrame  # Prepared.items of the stream
    dtype: pd.CategoricalDtype
    codes: list[np.ndarray]


def numbering(outputs: list[PartOutput]) -> Numbering:
    infos = [o.prep.items for o in outputs]
    ids = pa.chunked_array(
        [pa.array(i["item_id"].array, from_pandas=True).cast(pa.large_string()) for i in infos],
        type=pa.large_string(),
    ).combine_chunks()
    if len(pc.unique(ids)) != len(ids):
        raise RuntimeError("the shuffle put one item into two partitions")
    order = np.asarray(pc.array_sort_indices(ids).to_numpy(zero_copy_only=False), dtype=np.int64)
    code_of = np.empty(len(ids), dtype=np.int64)
    code_of[order] = np.arange(len(ids), dtype=np.int64)
    bounds = np.cumsum([0, *(len(i) for i in infos)])
    info = pd.concat(infos, ignore_index=True).iloc[order].reset_index(drop=True)
    info["item_id"] = pd.arrays.ArrowStringArray(ids.take(pa.array(order)))
    dtype = pd.CategoricalDtype(pd.Index(info["item_id"].array, dtype="string"))
    codes = [code_of[bounds[k] : bounds[k + 1]] for k in range(len(infos))]
    return Numbering(info, dtype, codes)


def prepared(outputs: list[PartOutput], n: Numbering) -> tuple[Prepared, PreparedFacts]:
    """The stream's prepared items and facts; the per-row arrays stay empty (the rows are on
    the workers, and nothing after the timelines reads them)."""
    size = len(n.info)

    def per_item(values: list[np.ndarray], dtype: type) -> np.ndarray:
        out: np.ndarray = np.zeros(size, dtype=dtype)
        for codes, v in zip(n.codes, values, strict=True):
            out[codes] = v
        return out

    by_file = pd.concat([o.prep.unmapped_by_file for o in outputs], ignore_index=True)
    first = outputs[0].prep
    prep = replace(
        first,
        items=n.info,
        unmapped_states=unmapped_summary(by_file),
        unmapped_by_file=by_file,
        duplicates=sum(o.prep.duplicates for o in outputs),
        excluded_items=sum(o.prep.excluded_items for o in outputs),
        has_actor=any(o.prep.has_actor for o in outputs),
        first_ts=per_item([o.prep.first_ts for o in outputs], np.int64),
        item_dtype=n.dtype,
    )
    facts = PreparedFacts(
        per_item([o.facts.has_events for o in outputs], bool),
        per_item([o.facts.mapped for o in outputs], bool),
        sum(o.facts.events_used for o in outputs),
    )
    return prep, facts


def _in_code_order(
    frames: list[pd.DataFrame], codes: list[np.ndarray], n: Numbering
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Rows of several partitions (their `code` columns in partition numbering) in stream code
    order, with stream codes and item ids; also the permutation and each row's new position."""
    all_codes = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
    perm = np.argsort(all_codes, kind="stable")
    position = np.empty(len(perm), dtype=np.int64)
    position[perm] = np.arange(len(perm), dtype=np.int64)
    frame = pd.concat(frames, ignore_index=True).iloc[perm].reset_index(drop=True)
    frame["code"] = all_codes[perm]
    if "item_id" in frame:
        frame["item_id"] = pd.Categorical.from_codes(all_codes[perm], dtype=n.dtype)
    return frame, perm, position


def _stream_codes(frames: list[pd.DataFrame], n: Numbering, parts: list[int]) -> list[np.ndarray]:
    return [
        n.codes[k][f["code"].to_numpy(dtype=np.int64)] for k, f in zip(parts, frames, strict=True)
    ]


def result(outputs: list[PartOutput], n: Numbering, as_of: int) -> ItemResult:
    """The stream's items at as_of, rows in code order as the pandas engine has them."""
    results = [o.result for o in outputs]
    frames = [r.items for r in results]
    parts = list(range(len(outputs)))
    items, perm, position = _in_code_order(frames, _stream_codes(frames, n, parts), n)
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    row_of = [position[bounds[k] : bounds[k + 1]] for k in parts]

    seg = [r.segments for r in results]
    seg_item = np.concatenate([row_of[k][s.item] for k, s in enumerate(seg)])
    seg_order = np.argsort(seg_item, kind="stable")

    def joined(name: str) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in seg])[seg_order]

    segments = Segments(
        seg_item[seg_order],
        joined("start"),
        joined("end"),
        joined("stage"),
        joined("blocked"),
        joined("final"),
    )
    moves = pd.concat(
        [
            r.moves.assign(row=row_of[k][r.moves["row"].to_numpy(dtype=np.int64)])
            for k, r in enumerate(results)
        ],
        ignore_index=True,
    )
    moves = moves.iloc[np.argsort(moves["row"].to_numpy(), kind="stable")].reset_index(drop=True)
    hands = [r.hand_offs_by_stage for r in results]
    before = pd.concat([r.events_before_created for r in results], ignore_index=True)
    ids = pa.array(before["item_id"].astype("string").array, from_pandas=True)
    before = before.iloc[np.asarray(pc.array_sort_indices(ids))].reset_index(drop=True)
    return ItemResult(
        as_of=as_of,
        items=items,
        info=n.info,
        segments=segments,
        first_entry=pd.concat([r.first_entry for r in results], ignore_index=True)
        .iloc[perm]
        .reset_index(drop=True),
        ca_ok=pd.concat([r.ca_ok for r in results], ignore_index=True)
        .iloc[perm]
        .reset_index(drop=True),
        hand_offs_by_stage=None
        if any(h is None for h in hands)
        else np.concatenate([h for h in hands if h is not None])[perm],
        codes=items["code"].to_numpy(dtype=np.int64),
        moves=moves,
        ignored_after_as_of=sum(r.ignored_after_as_of for r in results),
        ignored_created_after=sum(r.ignored_created_after for r in results),
        events_before_created=before,
    )


def period(outputs: list[PartOutput], n: Numbering, index: int) -> PeriodParts:
    """One span's parts over every partition: per-item rows in code order, counts summed."""
    parts = [o.periods[index] for o in outputs]
    which = list(range(len(outputs)))
    frames = [p.completed for p in parts]
    completed, perm, _ = _in_code_order(frames, _stream_codes(frames, n, which), n)
    aging_frames = [p.aging for p in parts]
    aging, _, _ = _in_code_order(aging_frames, _stream_codes(aging_frames, n, which), n)
    moves = pd.concat(
        [
            p.moves.assign(code=n.codes[k][p.moves["code"].to_numpy(dtype=np.int64)])
            for k, p in enumerate(parts)
        ],
        ignore_index=True,
    )
    hands = [p.hand_by_stage for p in parts]
    weekly = parts[0].weekly.copy()
    for column in ("completed", "committed", "created"):
        weekly[column] = np.sum([p.weekly[column].to_numpy() for p in parts], axis=0)
    return PeriodParts(
        completed=completed,
        completed_rows=np.zeros(0, dtype=np.int64),  # no single result holds them all
        ca=pd.concat([p.ca for p in parts], ignore_index=True).iloc[perm].reset_index(drop=True),
        moves=moves,
        hand_by_stage=None
        if any(h is None for h in hands)
        else np.concatenate([h for h in hands if h is not None])[perm],
        aging=aging,
        ends=parts[0].ends,
        wip=np.sum([p.wip for p in parts], axis=0),
        wip_stage=np.sum([p.wip_stage for p in parts], axis=0),
        cancelled=sum(p.cancelled for p in parts),
        weekly=weekly,
        arrivals=np.sum([p.arrivals for p in parts], axis=0),
    )


def daily(outputs: list[PartOutput]) -> pd.DataFrame:
    """WIP and cumulative flow at every day end: counts of items, summed."""
    frames = [o.daily for o in outputs]
    out = frames[0].copy()
    for column in out.columns[1:]:
        out[column] = np.sum([f[column].to_numpy() for f in frames], axis=0)
    return out
