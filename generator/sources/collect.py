"""Read every source of a stream and merge them into one set of canonical frames."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from generator.model import StreamConfig, StreamData
from generator.sources import KINDS
from generator.sources.base import ReadContext, SourceData

EVENT_DTYPES = {
    "item_id": "string",
    "ts": "int64",
    "state": "string",
    "blocked": "int8",
    "actor": "string",
    "source": "int16",
    "file": "category",
    "line": "int64",
}
ITEM_DTYPES = {
    "item_id": "string",
    "type": "string",
    "title": "string",
    "created": "Int64",
    "url": "string",
    "file": "category",
    "line": "int64",
}


def _typed(frame: pd.DataFrame, dtypes: dict[str, str]) -> pd.DataFrame:
    for name, dtype in dtypes.items():
        if name not in frame:
            frame[name] = pd.Series(
                pd.NA if dtype in ("string", "Int64") else 0, index=frame.index, dtype=dtype
            )
    return frame[list(dtypes)].astype(dtypes)


def _concat(parts: list[pd.DataFrame], dtypes: dict[str, str]) -> pd.DataFrame:
    if not parts:
        return _typed(pd.DataFrame({k: [] for k in dtypes}), dtypes)
    if len(parts) == 1:
        return _typed(parts[0], dtypes)
    return _typed(pd.concat([_typed(p, dtypes) for p in parts], ignore_index=True), dtypes)


def skipped_key(reason: str, inputs: list[str], kind: str) -> str:
    """How a source's skipped rows are named on the data-quality page."""
    return f"{reason} ({', '.join(inputs) or kind})"


def read_stream(
    root: Path,
    config: StreamConfig,
    read: Callable[[Any, ReadContext], SourceData] | None = None,
) -> StreamData:
    """Read all sources in stream.yaml order; the `source` column keeps that order for tie-breaks.

    `read` reads one source (default: its kind's reader); the dask engine passes one that leaves
    events-parquet sources to its workers.
    """
    reader = read or (lambda options, ctx: KINDS[options.kind].read(options, ctx))
    events: list[pd.DataFrame] = []
    items: list[pd.DataFrame] = []
    extra: dict[str, list[pd.DataFrame]] = {"deployments": [], "changes": [], "incidents": []}
    data = StreamData(
        events=pd.DataFrame(), items=pd.DataFrame(), deployments=None, changes=None, incidents=None
    )
    stream_dir = root / config.folder
    contexts = [
        ReadContext(root, stream_dir, config.timezone, index)
        for index in range(len(config.sources))
    ]
    # sources are read two at a time (Arrow releases the GIL) and combined in stream.yaml order
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(
            pool.map(
                lambda pair: reader(*pair),
                zip(config.sources, contexts, strict=True),
            )
        )
    for index, (options, part) in enumerate(zip(config.sources, parts, strict=True)):
        data.problems += part.problems
        data.inputs += part.inputs
        for reason, count in part.skipped.items():
            if count:
                data.skipped[skipped_key(reason, part.inputs, options.kind)] = count
        data.notes.update(part.notes)
        if part.events is not None and len(part.events):
            frame = part.events.copy()
            frame["source"] = index
            events.append(frame)
        if part.items is not None and len(part.items):
            items.append(part.items)
        for name in extra:
            frame = getattr(part, name)
            if frame is not None and len(frame):
                extra[name].append(frame)
    data.events = _concat(events, EVENT_DTYPES)
    merged_items = _concat(items, ITEM_DTYPES)
    # several item sources: the first one that lists an item wins, attribute by attribute
    if len(items) > 1:
        merged_items = merged_items.groupby("item_id", sort=False, as_index=False).first()
        merged_items = _typed(merged_items, ITEM_DTYPES)
    data.items = merged_items
    data.deployments = (
        pd.concat(extra["deployments"], ignore_index=True) if extra["deployments"] else None
    )
    data.changes = pd.concat(extra["changes"], ignore_index=True) if extra["changes"] else None
    data.incidents = (
        pd.concat(extra["incidents"], ignore_index=True) if extra["incidents"] else None
    )
    return data
