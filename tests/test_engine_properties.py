"""Hypothesis properties of the engine's per-item measures (METRICS.md 1-2).

These hold whatever the reference says: identities of the definitions, and
invariances the spec promises (row order, events after as_of).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import RefEvent
from test_engine_vs_reference import (
    HOUR,
    DrawChooser,
    describe,
    engine_items,
    logs,
    random_log,
)

SETTINGS = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(logs())
def test_identities_of_each_item(log) -> None:
    stream, events, created, items_csv, as_of = log
    result = engine_items(stream, events, items_csv, as_of)
    context = describe(stream, events, created, as_of)
    stage_keys = [f"stage:{s.id}" for s in stream.stages] + ["stage:unmapped"]
    for item_id, row in result.items():
        where = f"{item_id}: {row}\n{context}"
        window_end = {"done": row["done"], "cancelled": row["cancelled"]}.get(row["status"], as_of)
        window = window_end - row["created"]
        assert row["process"] + row["wait"] == window, where
        assert sum(row[k] for k in stage_keys) == window, where
        assert 0 <= row["blocked"] <= window and 0 <= row["process"] <= window, where
        if row["status"] == "done":
            # process + wait = lead time exactly (integers), lead >= cycle >= 0
            assert row["process"] + row["wait"] == row["lead"], where
            assert row["lead"] == row["done"] - row["created"], where
            assert row["cycle"] == row["done"] - row["committed"], where
            assert row["lead"] >= row["cycle"] >= 0, where
        else:
            assert row["lead"] is None and row["cycle"] is None and row["done"] is None, where
        if row["flow_efficiency"] is None:
            assert window == 0, where
        else:
            assert 0.0 <= row["flow_efficiency"] <= 1.0, where
        assert row["created"] <= as_of, where


@st.composite
def reordered(draw: Any):
    """A log with distinct instants per item, and the same rows with new sources,
    new line numbers and in another order."""
    stream, events, created, items_csv, as_of = random_log(DrawChooser(draw),
                                                           distinct_instants=True)
    n_sources = max([e.source for e in events], default=0) + 1
    moved = [replace(e, source=draw(st.integers(0, n_sources - 1))) for e in events]
    lines = draw(st.permutations(list(range(2, len(moved) + 2))))
    moved = [replace(e, line=line) for e, line in zip(moved, lines, strict=True)]
    moved = list(draw(st.permutations(moved)))
    return stream, events, moved, created, items_csv, as_of


@SETTINGS
@given(reordered())
def test_reordering_rows_with_distinct_instants_changes_nothing(case) -> None:
    stream, events, moved, created, items_csv, as_of = case
    before = engine_items(stream, events, items_csv, as_of)
    after = engine_items(stream, moved, items_csv, as_of)
    assert before == after, describe(stream, events, created, as_of)


@st.composite
def shuffled(draw: Any):
    """Any log (same instants and duplicates included), and the same rows, with
    the same sources and line numbers, handed over in another order."""
    stream, events, created, items_csv, as_of = draw(logs())
    return stream, events, list(draw(st.permutations(events))), created, items_csv, as_of


@SETTINGS
@given(shuffled())
def test_order_of_the_input_frame_changes_nothing(case) -> None:
    # Order is by (instant, source, line); the order rows arrive in is not part of it.
    stream, events, moved, created, items_csv, as_of = case
    before = engine_items(stream, events, items_csv, as_of)
    after = engine_items(stream, moved, items_csv, as_of)
    assert before == after, describe(stream, events, created, as_of)


@st.composite
def with_later_events(draw: Any):
    """A log, and the same log with extra rows after as_of (for its items and for
    new items that have no other row), as_of pinned."""
    stream, events, created, items_csv, as_of = draw(logs())
    c = DrawChooser(draw)
    states = [s for stage in stream.stages for s in stage.states]
    states += [*stream.blocked_states, "Parked", None]
    item_ids = [*sorted({e.item_id for e in events} | set(created)), "LATE1", "LATE2"]
    n_sources = max([e.source for e in events], default=0) + 1
    next_line = max([e.line for e in events], default=1) + 1
    extra = []
    for _ in range(c.int(1, 8)):
        extra.append(RefEvent(
            item_id=c.pick(item_ids),
            ts=as_of + c.int(1, 20 * HOUR),
            state=c.pick(states),
            blocked=c.pick([None, True, False]),
            actor=c.pick([None, "ann", "zed"]),
            source=c.int(0, n_sources - 1),
            line=next_line,
        ))
        next_line += 1
    later = c.shuffle(events + extra)
    return stream, events, later, created, items_csv, as_of


@SETTINGS
@given(with_later_events())
def test_events_after_as_of_change_nothing(case) -> None:
    stream, events, later, created, items_csv, as_of = case
    before = engine_items(stream, events, items_csv, as_of)
    after = engine_items(stream, later, items_csv, as_of)
    assert before == after, describe(stream, later, created, as_of)
