"""%C&A (METRICS.md section 3) on every path a move back can take, as hypothesis properties.

The rule: among completed items that visited an active stage s, the share with no move back
from a stage after s to s or to a stage before it, after first entering s. A move back is a
visit to a stage earlier in stream order than the previous *mapped* visit. docs/metrics.md
settles the reading: a move back from after s that lands *in* s counts even when it is the
item's first entry into s (the item was sent back to s); one that lands *before* s counts only
once s had been entered.

Each test builds one item's history by construction: a forward walk, one move back of a
given kind, and a forward walk to done. The expected flag for every active stage follows from
the construction (worked out in the test from the stage positions alone, not from the
engine), and the engine (compute_items -> ca_ok) and the plain-Python reference
(tests/reference.py) must both give it. Kinds of move back: direct; through an unmapped state;
from a done or a cancelled stage (a reopen); landing in the wait stage just before s; with
other rows at the same instant. Metamorphic properties: zero-length passes at one instant,
unmapped visits between two mapped ones and blocked-state rows change no flag.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import RefEvent, RefStage, RefStream, reference_items, reference_pct_ca
from test_engine_vs_reference import EPOCH, HOUR, events_frame, items_frame, stream_def
from test_reference_cases import PCT_CA_CASES, STREAM, PctCase

from generator.metrics.engine import compute_items

# stream order: 0 backlog (wait), 1 dev (active), 2 rq (wait), 3 review (active), 4 test (active),
# 5 done, 6 released (done), 7 dropped (cancelled)
PATHS = RefStream(
    stages=(
        RefStage("backlog", "wait", ("Open",)),
        RefStage("dev", "active", ("In Progress",)),
        RefStage("rq", "wait", ("Ready for Review",)),
        RefStage("review", "active", ("In Review",)),
        RefStage("test", "active", ("Testing",)),
        RefStage("done", "done", ("Done",)),
        RefStage("released", "done", ("Released",)),
        RefStage("dropped", "cancelled", ("Won't Do",)),
    ),
    commitment="dev",
    blocked_states=("Blocked",),
)
STATE = [s.states[0] for s in PATHS.stages]
ACTIVE = [i for i, s in enumerate(PATHS.stages) if s.kind == "active"]  # 1, 3, 4
DONE, RELEASED, DROPPED = 5, 6, 7
UNMAPPED_STATE = "Triage"
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def engine_flags(stream: RefStream, events: list[RefEvent], as_of: int) -> dict[str, dict[str, bool | None]]:
    """item -> active stage -> True (clean), False (sent back), None (not visited in the window)."""
    result = compute_items(events_frame(events), items_frame({}), stream_def(stream), as_of)
    out: dict[str, dict[str, bool | None]] = {}
    for row, item in enumerate(result.items["item_id"].astype(str)):
        flags: dict[str, bool | None] = {}
        for stage in stream.stages:
            if stage.kind != "active":
                continue
            visited = int(result.items[f"stage_ns:{stage.id}"].iloc[row]) > 0
            flags[stage.id] = bool(result.ca_ok[stage.id].iloc[row]) if visited else None
        out[item] = flags
    return out


def reference_flags(stream: RefStream, events: list[RefEvent], as_of: int, item: str) -> dict[str, bool | None]:
    pct = reference_pct_ca(stream, events, {}, as_of, [item])
    return {k: None if v is None else v == 1.0 for k, v in pct.items()}


def history(stages: list[int | str], same_instant: dict[int, list[int | str]] | None = None) -> list[RefEvent]:
    """One item X: row k at hour k enters stages[k] (an index, or a state name for unmapped and
    blocked rows). same_instant[k] lists rows written at the same hour *before* row k (only
    row k's state lasts)."""
    events: list[RefEvent] = []
    line = 2
    for k, stage in enumerate(stages):
        for extra in (same_instant or {}).get(k, []):
            state = STATE[extra] if isinstance(extra, int) else extra
            events.append(RefEvent("X", EPOCH + k * HOUR, state, line=line))
            line += 1
        state = STATE[stage] if isinstance(stage, int) else stage
        events.append(RefEvent("X", EPOCH + k * HOUR, state, line=line))
        line += 1
    return events


def check(stages: list[int | str], expected: dict[str, bool | None],
          same_instant: dict[int, list[int | str]] | None = None) -> None:
    events = history(stages, same_instant)
    as_of = EPOCH + (len(stages) + 1) * HOUR
    engine = engine_flags(PATHS, events, as_of)["X"]
    assert reference_items(PATHS, events, {}, as_of)["X"]["status"] == "done"
    reference = reference_flags(PATHS, events, as_of, "X")
    assert engine == expected, (stages, same_instant, engine, expected)
    assert reference == expected, (stages, same_instant, reference, expected)


@st.composite
def forward(draw: Any, start: int, stop: int) -> list[int]:
    """A strictly increasing walk of stage positions in (start, stop], skipping some."""
    if stop <= start:
        return []
    return sorted(draw(st.sets(st.integers(start + 1, stop), max_size=stop - start)))


def expected_flags(walk: list[int], move_at: int) -> dict[str, bool | None]:
    """Expected flag per active stage for a walk with exactly one move back, at index move_at
    (walk[move_at] < walk[move_at - 1]); every other step goes forward. Worked out from positions:
    s unvisited -> None; the move counts against s when it comes from after s and lands in s,
    or lands before s after s was first visited."""
    out: dict[str, bool | None] = {}
    src, dst = walk[move_at - 1], walk[move_at]
    for s in ACTIVE:
        sid = PATHS.stages[s].id
        visits = [k for k, stage in enumerate(walk) if stage == s and k < len(walk) - 1]
        if not visits:
            out[sid] = None
            continue
        hit = src > s and (dst == s or (dst < s and visits[0] < move_at))
        out[sid] = not hit
    return out


@st.composite
def one_move_back(draw: Any, source: st.SearchStrategy[int] | None = None,
                  landing: st.SearchStrategy[int] | None = None) -> list[int]:
    """A walk backlog .. src, a move back to dst < src, then forward to a done stage."""
    src = draw(source if source is not None else st.integers(1, RELEASED))
    dst = draw(landing if landing is not None else st.integers(0, src - 1))
    head = [0, *draw(forward(0, src - 1)), src] if src > 0 else [0]
    tail = draw(forward(dst, 4))
    end = draw(st.sampled_from([DONE, RELEASED]))
    return [*head, dst, *tail, end]


# ---------------------------------------------------------------- the paths


@SETTINGS
@given(one_move_back())
def test_direct_move_back(walk: list[int]) -> None:
    """backlog -> ... -> src -> dst (dst < src) -> ... -> done, one row per stage."""
    check(walk, expected_flags(walk, _move_index(walk)))


def _move_index(walk: list[int]) -> int:
    return next(k for k in range(1, len(walk)) if walk[k] < walk[k - 1])


@SETTINGS
@given(one_move_back(), st.integers(1, 3))
def test_move_back_through_unmapped_states(walk: list[int], n_unmapped: int) -> None:
    """src -> Triage (unmapped, positive length) -> dst: unmapped visits are skipped when finding
    the previous mapped visit, so the flags are those of the direct move."""
    k = _move_index(walk)
    expected = expected_flags(walk, k)
    check([*walk[:k], *[UNMAPPED_STATE] * n_unmapped, *walk[k:]], expected)


@SETTINGS
@given(one_move_back(source=st.sampled_from([DONE, RELEASED, DROPPED]), landing=st.integers(0, 4)))
def test_reopen_from_a_done_or_cancelled_stage(walk: list[int]) -> None:
    """An item done (or cancelled) and reopened into an earlier stage: the done or cancelled
    stage comes after every active stage, so the reopen counts against each active stage it
    lands in or, once entered, lands before."""
    k = _move_index(walk)
    assert walk[k - 1] in (DONE, RELEASED, DROPPED)
    check(walk, expected_flags(walk, k))


@SETTINGS
@given(st.sampled_from(ACTIVE), st.data())
def test_landing_in_the_wait_stage_before_s(s: int, data: Any) -> None:
    """Sent back from after s to the wait stage just before s (backlog for dev, rq for review):
    counts against s once s was entered; not when s was skipped on the way forward."""
    wait_before = max(i for i in range(s) if PATHS.stages[i].kind == "wait")
    visit_s = data.draw(st.booleans())
    src = data.draw(st.integers(s + 1, RELEASED))
    head = [0, *[i for i in range(1, src) if i != s or visit_s], src]
    walk = [*head, wait_before, *range(wait_before + 1, 5), DONE]
    k = _move_index(walk)
    expected = expected_flags(walk, k)
    assert expected[PATHS.stages[s].id] is (not visit_s)  # by construction: entered -> sent back
    check(walk, expected)


@SETTINGS
@given(one_move_back(), st.data())
def test_same_instant_rows_change_nothing(walk: list[int], data: Any) -> None:
    """Rows at the instant of a move back (or any other row) that pass through other stages,
    unmapped states or a blocked state before the row whose state lasts are zero-length: not
    visits, not entries, not moves. The flags are those of the walk without them."""
    expected = expected_flags(walk, _move_index(walk))
    extra = data.draw(st.dictionaries(
        st.integers(1, len(walk) - 1),
        st.lists(st.one_of(st.integers(0, DROPPED), st.just(UNMAPPED_STATE)), min_size=1, max_size=3),
        max_size=3,
    ))
    # a row equal to the lasting one at its instant would be a duplicate (kept once, the first)
    extra = {k: [e for e in rows if e != walk[k]] for k, rows in extra.items()}
    check(walk, expected, same_instant=extra)


@SETTINGS
@given(one_move_back(), st.data())
def test_blocked_state_rows_keep_the_stage(walk: list[int], data: Any) -> None:
    """A blocked state row after a mapped row keeps the item where it was: no visit, no move."""
    at = sorted(data.draw(st.sets(st.integers(1, len(walk) - 1), min_size=1, max_size=3)), reverse=True)
    stages: list[int | str] = list(walk)
    for k in at:
        stages.insert(k, "Blocked")
    check(stages, expected_flags(walk, _move_index(walk)))


def test_moves_from_s_itself_and_landing_after_s_do_not_count() -> None:
    """review -> rq (from review itself, to before it): not against review; test -> review lands
    after dev: not against dev. dev 1 (clean), review 1, test: review -> ... never moved back."""
    # backlog, dev, rq, review, rq (from review itself), review, test, review (from test), test, done
    walk = [0, 1, 2, 3, 2, 3, 4, 3, 4, DONE]
    check(walk, {"dev": True, "review": False, "test": True})
    # the move from review to rq alone: clean everywhere
    check([0, 1, 2, 3, 2, 3, 4, DONE], {"dev": True, "review": True, "test": True})


def test_first_entry_by_a_move_back_counts() -> None:
    """Worked example (docs/metrics.md, %C&A): an item that skipped review went test -> review.
    It was sent back to review from a later stage, so review is not clean although that move is
    its first entry; dev is clean (the move landed after dev); test is clean (not from after it).
    Had test sent it to rq instead (before review, which it had never entered), review would be
    clean."""
    check([0, 1, 4, 3, 4, DONE], {"dev": True, "review": False, "test": True})
    check([0, 1, 4, 2, 3, 4, DONE], {"dev": True, "review": True, "test": True})


@pytest.mark.parametrize("case", PCT_CA_CASES, ids=[c.name for c in PCT_CA_CASES])
def test_engine_pct_ca_on_the_hand_computed_cases(case: PctCase) -> None:
    """The reference's hand-computed %C&A cases, through the engine's flags."""
    flags = engine_flags(STREAM, case.events, case.as_of)
    for stage_id, want in case.expected.items():
        values = [flags[i][stage_id] for i in case.item_ids if flags[i][stage_id] is not None]
        have = sum(values) / len(values) if values else None
        assert have == (None if want is None else pytest.approx(want, rel=1e-12)), stage_id


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_engine_flags_match_the_reference_on_random_logs(data: Any) -> None:
    """Per item and active stage, on the random logs of test_engine_vs_reference (reopens,
    cancels, unmapped and blocked states, rows at one instant, duplicates, several sources)."""
    from test_engine_vs_reference import logs

    stream, events, created, items_csv, as_of = data.draw(logs())
    result = compute_items(events_frame(events), items_frame(items_csv), stream_def(
        stream, max([e.source for e in events], default=0) + 1), as_of)
    done = [str(i) for i, s in zip(result.items["item_id"], result.items["status"], strict=True) if s == "done"]
    rows = {str(i): r for r, i in enumerate(result.items["item_id"])}
    for item in done:
        want = reference_pct_ca(stream, events, created, as_of, [item])
        for stage_id, value in want.items():
            visited = int(result.items[f"stage_ns:{stage_id}"].iloc[rows[item]]) > 0
            have = float(result.ca_ok[stage_id].iloc[rows[item]]) if visited else None
            assert have == value, (item, stage_id)


# docs/metrics.md example 3.1: (path as stage ids, with "Triage" for the unmapped state and a
# tuple for rows at one instant, the last lasting) -> dev, review, test
EXAMPLE_3_1 = [
    (["backlog", "dev", "review", "test", "dev", "review", "test", "done"], (False, False, True)),
    (["backlog", "dev", "review", "test", "Triage", "rq", "review", "test", "done"], (True, False, True)),
    (["backlog", "dev", "review", "test", "done", "dev", "review", "test", "done"], (False, False, False)),
    (["backlog", "dev", "review", "test", "dropped", "backlog", "dev", "review", "test", "done"],
     (False, False, False)),
    (["backlog", "dev", "review", "rq", "review", "test", "done"], (True, True, True)),
    (["backlog", "dev", "test", "review", "test", "done"], (True, False, True)),
    (["backlog", "dev", "test", "rq", "review", "test", "done"], (True, True, True)),
    (["backlog", "dev", "review", "test", ("dev", "test"), "done"], (True, True, True)),
]


@pytest.mark.parametrize(("path", "verdicts"), EXAMPLE_3_1, ids=[str(i) for i in range(len(EXAMPLE_3_1))])
def test_docs_example_3_1(path: list[Any], verdicts: tuple[bool, bool, bool]) -> None:
    """Each row of the table in docs/metrics.md's %C&A section, worked out by hand there."""
    index = {s.id: i for i, s in enumerate(PATHS.stages)}

    def code(name: str) -> int | str:
        return index.get(name, name)

    stages: list[int | str] = []
    same: dict[int, list[int | str]] = {}
    for k, step in enumerate(path):
        if isinstance(step, tuple):
            same[k] = [code(x) for x in step[:-1]]
            step = step[-1]
        stages.append(code(step))
    check(stages, dict(zip(("dev", "review", "test"), verdicts, strict=True)), same_instant=same)
