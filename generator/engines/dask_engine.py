"""The dask engine: the pandas engine's per-item reduction on partitions of a cluster.

1. read: events-parquet row groups on the workers, the other sources on the
   driver (dask_input.py); rows shuffled on a hash of the item id, so each
   partition holds whole items;
2. on each partition (dask_tasks.py): prepare the rows; then, with the stream's
   as_of and first actor instant, the timelines at as_of; then, with the spans
   of every named period, quarter and report, each span's per-item parts and
   the daily counts;
3. on the driver (merge.py): the partitions' rows in item order and their
   counts summed, and from there the same summaries, comparison, history and
   problems as the pandas engine (metrics/aggregates.py summarise,
   metrics/stream.py finish_stream).

The partitions' prepared rows and timelines stay on the workers between the
steps (spilled to disk when they do not fit the workers' memory); only
per-item rows and counts come back.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from generator.engines import merge
from generator.engines.cluster import Cluster
from generator.engines.dask_input import LazyInput, frames, read_lazy
from generator.engines.dask_tasks import (
    first_created,
    prep_facts,
    prepare_part,
    reduce_part,
    timeline_part,
)
from generator.metrics.aggregates import PeriodResult, summarise
from generator.metrics.engine import BIG
from generator.metrics.periods import PeriodSpan, named_periods, quarters, report_period
from generator.metrics.prepare import NAT
from generator.metrics.stream import (
    StreamMetrics,
    as_of_from,
    daily_ends,
    finish_stream,
    item_problems,
    nothing_to_compute,
)
from generator.model import StreamConfig
from generator.validate.schema import Engine

LOG = logging.getLogger("vsm.dask")
SMALL_STREAM = 200_000  # event rows below which the task-based shuffle is used


@dataclass
class DaskEngine:
    cluster: Cluster
    settings: Engine

    def read(self, root: Path, config: StreamConfig) -> LazyInput:
        return read_lazy(root, config)

    def compute(self, config: StreamConfig, lazy: LazyInput) -> StreamMetrics:
        """Everything compute_stream computes, from partitions on the cluster; the problems of
        the row groups read on the workers go into `lazy.data` (an E200 stops here)."""
        client = self.cluster.client
        data = lazy.data
        clock = _Clock(config.id)
        got = frames(client, lazy, config)  # type: ignore[arg-type]
        data.problems += got.problems
        for key, count in got.skipped.items():
            data.skipped[key] = count
        data.notes.update(got.notes)
        out = StreamMetrics(config, None, None, None)
        if any(p.severity == "error" for p in got.problems):
            return out
        n = max(2 * self.cluster.workers, math.ceil(got.rows / self.settings.partition_events))
        events = got.events.shuffle(on="part", npartitions=n, method=_method(got.rows))
        items = got.items.shuffle(on="part", npartitions=n, method=_method(got.rows))
        definition = config.definition
        preps = client.compute(  # type: ignore[attr-defined]
            [
                _delayed(prepare_part)(e, i, definition, config.stage_map)
                for e, i in zip(events.to_delayed(), items.to_delayed(), strict=True)
            ]
        )
        facts = client.gather(client.map(prep_facts, preps))  # type: ignore[attr-defined]
        clock.lap("read, shuffle, prepare")
        _check_shuffle([f[3] for f in facts])
        latest = [f[0] for f in facts if f[0] != NAT]
        event_items = sum(f[2] for f in facts)
        items_read = int(data.items["item_id"].nunique()) if len(data.items) else event_items
        data.counts = (items_read, got.rows)
        as_of = as_of_from(config, max(latest) if latest else None)
        out.as_of = as_of
        if as_of is None or (not got.rows and not len(data.items)):
            out.problems.append(nothing_to_compute(config))
            return out
        actors_from = min((f[1] for f in facts), default=BIG)
        timelines = client.map(  # type: ignore[attr-defined]
            timeline_part, preps, definition=definition, as_of=as_of, actors_from=actors_from
        )
        firsts = [f for f in client.gather(client.map(first_created, timelines)) if f is not None]  # type: ignore[attr-defined]
        clock.lap("timelines at as_of")

        named = named_periods(definition, as_of)
        first = min(firsts) if firsts else as_of
        calendar = quarters(first, as_of, definition.timezone)
        by_name = {p.name: p for p in named}
        reports = [report_period(definition, as_of, by_name, r) for r in config.reports]
        spans = list({_key(p): p for p in [*named, *calendar, *reports]}.values())
        ends = daily_ends(definition, first, as_of)
        outputs = [
            o
            for o in client.gather(  # type: ignore[attr-defined]
                client.map(  # type: ignore[attr-defined]
                    reduce_part,
                    preps,
                    timelines,
                    definition=definition,
                    spans=spans,
                    ends=ends,
                    actors_from=actors_from,
                )
            )
            if o is not None
        ]
        del preps, timelines  # the workers drop the partitions' rows
        clock.lap("periods on the partitions, gathered")

        numbering = merge.numbering(outputs)
        prep, item_facts = merge.prepared(outputs, numbering)
        result = merge.result(outputs, numbering, as_of)
        clock.lap("merge items")
        out.prepared, out.result = prep, result
        out.problems += item_problems(config, prep, result, item_facts)
        if not len(result.items):
            out.problems.append(nothing_to_compute(config, at_as_of=True))
            return out
        computed: dict[tuple[int, int, int], PeriodResult] = {
            _key(span): summarise(merge.period(outputs, numbering, i), span, definition, prep.items)
            for i, span in enumerate(spans)
        }
        clock.lap("merge and summarise periods")
        daily = merge.daily(outputs) if outputs else pd.DataFrame()
        finish_stream(
            out,
            data,
            item_facts,
            got.rows,
            computed,
            partial(_not_computed, config.id),
            named,
            calendar,
            daily,
        )
        clock.lap("finish (comparison, history)")
        return out


class _Clock:
    """Each step's seconds at debug level (logger `vsm.dask`): where a build's time goes."""

    def __init__(self, stream: str) -> None:
        self.stream, self.last = stream, time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        LOG.debug("%s: %s %.2f s", self.stream, step, now - self.last)
        self.last = now


def _key(span: PeriodSpan) -> tuple[int, int, int]:
    return (span.start, span.end, span.as_of)


def _not_computed(stream: str, span: PeriodSpan) -> PeriodResult:
    raise LookupError(
        f"{stream}: the dask engine computes the named periods, the quarters and the reports' "
        f"periods; {span.name} ({span.label}) is none of them"
    )


def _check_shuffle(parts: list[np.ndarray]) -> None:
    """Each hash value (so each item) must be in one partition only, events and items alike."""
    found = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int32)
    if len(np.unique(found)) != len(found):
        raise RuntimeError("the shuffle split the rows of one item over two partitions")


def _delayed(fn: Any) -> Any:
    from dask.delayed import delayed

    return delayed(fn, pure=True)


def _method(rows: int) -> str:
    """dask's peer-to-peer shuffle for real volumes (it streams through disk, so it also works
    beyond the workers' memory); the task-based one for small streams, where P2P's fixed cost of
    about a second would dominate."""
    return "p2p" if rows > SMALL_STREAM else "tasks"
