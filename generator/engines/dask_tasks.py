"""What the dask engine's workers run, with the pandas engine's own functions.

A partition holds every event row and the item row of a set of items (rows are
shuffled on a hash of the item id), in the order the pandas engine reads them
(`seq`). Each item's figures depend on its own rows only, so preparing the
partition (metrics/prepare.py), cutting its timelines at each as_of
(metrics/engine.py) and taking each period's parts (metrics/aggregates.py)
gives, for its items, exactly the rows the pandas engine gives; the driver
(merge.py) puts the partitions' rows together and sums their counts.

Two things are not per item and come from the driver: as_of (the latest event
of the whole stream) and the stream's first actor instant (hand-offs are
counted once any item has an actor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.errors import Problem
from generator.metrics.aggregates import PeriodParts
from generator.metrics.engine import BIG, ItemResult, first_actor, timeline_at
from generator.metrics.periods import PeriodSpan
from generator.metrics.prepare import NAT, Prepared, PreparedFacts, prepare, prepared_facts
from generator.metrics.stream import daily_counts, per_item_last, period_parts_at
from generator.model import StageMap
from generator.sources.base import ReadContext
from generator.sources.events_parquet import piece_events
from generator.sources.parquet_common import Piece
from generator.validate.schema import StreamDef

SOURCE_SHIFT = 56  # seq = source << 56 | position in the source (file << 36 | row for Parquet)
FILE_SHIFT = 36
PART_SHIFT = np.uint64(44)  # part = the top 20 bits of the item id's 64-bit hash

EVENT_META = {
    "item_id": "string",
    "ts": "int64",
    "state": "string",
    "blocked": "int8",
    "actor": "string",
    "source": "int16",
    "file": "string",
    "line": "int64",
    "seq": "int64",
    "part": "int32",
}
ITEM_META = {
    "item_id": "string",
    "type": "string",
    "title": "string",
    "created": "Int64",
    "url": "string",
    "file": "string",
    "line": "int64",
    "part": "int32",
}


def item_part(ids: pd.Series) -> np.ndarray:
    """A 20-bit hash of each item id; rows are shuffled on it, so an item's rows meet."""
    hashed = pd.util.hash_pandas_object(ids.astype("string"), index=False).to_numpy()
    return (hashed >> PART_SHIFT).astype(np.int32)


def typed(frame: pd.DataFrame, meta: dict[str, str]) -> pd.DataFrame:
    return frame[list(meta)].astype(meta).reset_index(drop=True)


@dataclass
class PieceRead:
    """One row group read on a worker: its events (EVENT_META), problems, skipped rows."""

    events: pd.DataFrame
    problems: list[Problem]
    skipped: dict[str, int]
    has_actor: bool


def read_piece(piece: Piece, ctx: ReadContext) -> PieceRead:
    got = piece_events(piece, ctx)
    frame = got.events
    frame["source"] = ctx.source_index
    frame["seq"] = (
        (ctx.source_index << SOURCE_SHIFT)
        | (piece.file_rank << FILE_SHIFT)
        | (frame["line"].to_numpy(dtype=np.int64) - 1)
    )
    frame["part"] = item_part(frame["item_id"])
    return PieceRead(typed(frame, EVENT_META), got.problems, got.skipped, got.has_actor)


def piece_frame(read: PieceRead) -> pd.DataFrame:
    return read.events


def piece_report(read: PieceRead) -> tuple[list[Problem], dict[str, int], bool, int]:
    """What the driver needs of a row group besides its rows."""
    return read.problems, read.skipped, read.has_actor, len(read.events)


@dataclass
class PartPrep:
    """A partition's prepared rows (kept on its worker) and what the driver needs to know first."""

    prep: Prepared | None  # None for a partition without rows
    latest: int  # the latest event instant (NAT without events)
    first_actor: int  # the first instant of a row with an actor (BIG without)
    event_items: int  # distinct item ids among the events
    parts: np.ndarray  # the part values of its events and items (the shuffle's check)


def prepare_part(
    events: pd.DataFrame, items: pd.DataFrame, definition: StreamDef, stage_map: StageMap
) -> PartPrep:
    parts = np.union1d(events["part"].to_numpy(), items["part"].to_numpy())
    if not len(events) and not len(items):
        return PartPrep(None, NAT, BIG, 0, parts)
    # the order the pandas engine reads the rows in: ties between rows of one item at one
    # instant are broken by (source, line) and then by this order
    events = events.sort_values("seq", kind="stable").reset_index(drop=True)
    items = items.reset_index(drop=True)
    prep = prepare(events, items, definition, stage_map)
    latest = int(events["ts"].max()) if len(events) else NAT
    return PartPrep(prep, latest, first_actor(prep), int(events["item_id"].nunique()), parts)


def prep_facts(part: PartPrep) -> tuple[int, int, int, np.ndarray]:
    return part.latest, part.first_actor, part.event_items, part.parts


@dataclass
class PartTimeline:
    """A partition's items at as_of (kept on its worker) and what the periods need of them."""

    result: ItemResult | None
    last_event: np.ndarray
    finished: np.ndarray
    created: np.ndarray


def timeline_part(
    part: PartPrep, definition: StreamDef, as_of: int, actors_from: int
) -> PartTimeline:
    """The timelines at as_of, and per item its last event, whether it ended, its created
    (as metrics/stream.py compute_stream takes them)."""
    empty = np.zeros(0, dtype=np.int64)
    prep = part.prep
    if prep is None:
        return PartTimeline(None, empty, empty.astype(bool), empty)
    result = timeline_at(prep, definition, as_of, actors_from=actors_from)
    finished = np.zeros(len(prep.items), dtype=bool)
    finished[result.codes] = (result.items["status"] != "in_progress").to_numpy()
    created = np.full(len(prep.items), NAT, dtype=np.int64)
    created[result.codes] = result.items["created"].to_numpy(dtype=np.int64, na_value=NAT)
    return PartTimeline(result, per_item_last(prep), finished, created)


def first_created(timeline: PartTimeline) -> int | None:
    """The partition's earliest created instant at as_of (None without items then)."""
    result = timeline.result
    if result is None or not len(result.items):
        return None
    return int(result.items["created"].min())


@dataclass
class PartOutput:
    """A partition's share of the stream, sent to the driver: its items' attributes and rows at
    as_of, each period's parts, the daily counts, and the facts behind the problems."""

    prep: Prepared
    facts: PreparedFacts
    result: ItemResult
    periods: list[PeriodParts]  # one per span asked for, in that order
    daily: pd.DataFrame  # day_end, wip, one column per stage (counts)


def reduce_part(
    part: PartPrep,
    timeline: PartTimeline,
    definition: StreamDef,
    spans: list[PeriodSpan],
    ends: np.ndarray,
    actors_from: int,
) -> PartOutput | None:
    prep, result = part.prep, timeline.result
    if prep is None or result is None:
        return None
    periods = [
        period_parts_at(
            prep,
            result,
            definition,
            span,
            timeline.last_event,
            timeline.finished,
            timeline.created,
            actors_from,
        )
        for span in spans
    ]
    # the driver needs the prepared items and facts, not the rows: keep the output small
    lite = Prepared(
        items=prep.items,
        item=np.zeros(0, dtype=np.int64),
        ts=np.zeros(0, dtype=np.int64),
        stage=np.zeros(0, dtype=np.int8),
        blocked=np.zeros(0, dtype=bool),
        last_at_instant=np.zeros(0, dtype=bool),
        actor=np.zeros(0, dtype=np.int32),
        file=np.zeros(0, dtype=np.int32),
        line=np.zeros(0, dtype=np.int64),
        actors=np.zeros(0, dtype=object),
        files=np.zeros(0, dtype=object),
        unmapped_states=prep.unmapped_states,
        duplicates=prep.duplicates,
        excluded_items=prep.excluded_items,
        has_actor=prep.has_actor,
        first_ts=prep.first_ts,
        item_dtype=prep.item_dtype,
        unmapped_by_file=prep.unmapped_by_file,
    )
    return PartOutput(
        lite, prepared_facts(prep), result, periods, daily_counts(result, definition, ends)
    )
