"""The dask engine's input: a stream's sources as dask dataframes of events and items.

`events-parquet` sources are read on the workers, one task per row group (the
same reader as the pandas engine's, sources/events_parquet.py); every other
source is read on the driver by its own reader (sources/collect.py) and handed
to the cluster. Each event row carries `seq`, its position in the order the
pandas engine reads the rows (source, then file and row), and each row `part`,
a hash of its item id that the shuffle groups on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import numpy as np
import pandas as pd
from distributed import Client, Future

from generator.engines.dask_tasks import (
    EVENT_META,
    ITEM_META,
    SOURCE_SHIFT,
    PieceRead,
    item_part,
    piece_frame,
    piece_report,
    read_piece,
    typed,
)
from generator.errors import Problem
from generator.model import StreamConfig, StreamData
from generator.sources import KINDS, events_parquet
from generator.sources.base import ReadContext, SourceData
from generator.sources.collect import read_stream, skipped_key
from generator.sources.parquet_common import Plan, merge_row_problems, plan

EAGER_PARTITION_ROWS = 1_000_000


@dataclass
class LazyInput:
    """What the driver read (`data`: items, delivery frames, the other sources' events) and the
    row groups of the events-parquet sources, by source index."""

    data: StreamData
    plans: dict[int, Plan] = field(default_factory=dict)
    contexts: dict[int, ReadContext] = field(default_factory=dict)


def read_lazy(root: Path, config: StreamConfig) -> LazyInput:
    """Read the sources the driver reads; plan the events-parquet ones (footers only)."""
    out = LazyInput(StreamData(pd.DataFrame(), pd.DataFrame(), None, None, None))

    def read(options: Any, ctx: ReadContext) -> SourceData:
        if options.kind != "events-parquet":
            got: SourceData = KINDS[options.kind].read(options, ctx)
            return got
        path = ctx.stream_dir / options.path
        found = plan(path, ctx, events_parquet.COLUMNS)
        out.plans[ctx.source_index] = found
        out.contexts[ctx.source_index] = ctx
        return SourceData(inputs=found.inputs, problems=list(found.problems))

    out.data = read_stream(root, config, read)
    return out


@dataclass
class Frames:
    """The stream's rows on the cluster, and what reading the row groups reported."""

    events: dd.DataFrame
    items: dd.DataFrame
    rows: int  # event rows read
    problems: list[Problem]
    skipped: dict[str, int]
    notes: dict[str, Any]


def frames(client: Client, lazy: LazyInput, config: StreamConfig) -> Frames:
    """Read the row groups on the workers (their problems come back first) and put the driver's
    frames next to them."""
    futures: dict[int, list[Future[PieceRead]]] = {
        index: client.map(read_piece, found.pieces, ctx=lazy.contexts[index], pure=False)
        for index, found in lazy.plans.items()
    }
    problems: list[Problem] = []
    skipped: dict[str, int] = {}
    notes: dict[str, Any] = {}
    rows = 0
    parts: list[dd.DataFrame] = []
    for index, found in lazy.plans.items():
        reports = client.gather(client.map(piece_report, futures[index], pure=False))
        problems += merge_row_problems([r[0] for r in reports])
        for reason in events_parquet.SKIPPED:
            count = sum(r[1].get(reason, 0) for r in reports)
            if count:
                skipped[skipped_key(reason, found.inputs, "events-parquet")] = count
        notes["has_actor"] = any(r[2] for r in reports)
        rows += sum(r[3] for r in reports)
        if futures[index]:
            pieces = client.map(piece_frame, futures[index], pure=False)
            parts.append(dd.from_delayed(pieces, meta=_empty(EVENT_META), verify_meta=False))
    eager = lazy.data.events
    if len(eager):
        parts.append(_from_driver(_eager_events(eager), EVENT_META))
    rows += len(eager)
    if not parts:
        parts.append(_from_driver(_empty(EVENT_META), EVENT_META))
    events = dd.concat(parts) if len(parts) > 1 else parts[0]
    items = lazy.data.items
    items = (
        typed(
            items.assign(file=items["file"].astype("string"), part=item_part(items["item_id"])),
            ITEM_META,
        )
        if len(items)
        else _empty(ITEM_META)
    )
    return Frames(events, _from_driver(items, ITEM_META), rows, problems, skipped, notes)


def _empty(meta: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in meta.items()})


def _eager_events(frame: pd.DataFrame) -> pd.DataFrame:
    """The driver-read events with `seq` (source, then position in the source) and `part`."""
    source = frame["source"].to_numpy(dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], source[1:] != source[:-1])))
    run = np.repeat(starts, np.diff(np.append(starts, len(source))))
    position = np.arange(len(source), dtype=np.int64) - run
    out = frame.assign(
        file=frame["file"].astype("string"),
        seq=(source << SOURCE_SHIFT) | position,
        part=item_part(frame["item_id"]),
    )
    return typed(out, EVENT_META)


def _from_driver(frame: pd.DataFrame, meta: dict[str, str]) -> dd.DataFrame:
    n = max(1, -(-len(frame) // EAGER_PARTITION_ROWS))
    out: dd.DataFrame = dd.from_pandas(typed(frame, meta), npartitions=n, sort=False)
    return out
