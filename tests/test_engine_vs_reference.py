"""Cross-check of the engine (generator.metrics.engine.compute_items) against the
plain-Python reference (tests/reference.py), on the hand-computed CASES and on
random event logs (a seeded loop and hypothesis).

Every field is compared exactly (integers exactly, floats to 1e-12 relative).
On a mismatch the log is printed as Python so it can be pasted into a case.
"""

from __future__ import annotations

import math
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import RefEvent, RefStream, reference_items
from test_reference_cases import CASES, STREAM, TWO_DONE_STREAM, Case, check_case_result

from generator.metrics.engine import compute_items
from generator.validate.schema import StreamDef

HOUR = 3600 * 10**9
EPOCH = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z, so instants look like real data

TIME_KEYS = {"created": "created", "committed": "committed", "done": "done",
             "cancelled": "cancelled", "lead": "lead_ns", "cycle": "cycle_ns",
             "process": "process_ns", "wait": "wait_ns", "blocked": "blocked_ns"}


# --------------------------------------------------------------------------
# Adapters: reference inputs -> engine frames, engine result -> reference dicts


def stream_def(stream: RefStream, n_sources: int = 1) -> StreamDef:
    return StreamDef.model_validate({
        "name": "Cross-check",
        "sources": [{"kind": "events-csv", "path": f"events{i}.csv"}
                    for i in range(max(1, n_sources))],
        "stages": [{"id": s.id, "states": list(s.states), "kind": s.kind}
                   for s in stream.stages],
        "commitment": stream.commitment,
        "blocked": {"states": list(stream.blocked_states)},
    })


def events_frame(events: list[RefEvent]) -> pd.DataFrame:
    return pd.DataFrame({
        "item_id": pd.array([e.item_id for e in events], dtype="string"),
        "ts": np.array([e.ts for e in events], dtype="int64"),
        "state": pd.array([e.state for e in events], dtype="string"),
        "blocked": np.array([-1 if e.blocked is None else int(e.blocked) for e in events],
                            dtype="int8"),
        # the contract: actor is a string or <NA> (a loader reads an empty cell as <NA>)
        "actor": pd.array([e.actor or None for e in events], dtype="string"),
        "source": np.array([e.source for e in events], dtype="int16"),
        "file": pd.Categorical([f"events{e.source}.csv" for e in events]),
        "line": np.array([e.line for e in events], dtype="int64"),
    })


def items_frame(item_created: dict[str, int | None]) -> pd.DataFrame:
    ids = list(item_created)
    return pd.DataFrame({
        "item_id": pd.array(ids, dtype="string"),
        "type": pd.array([None] * len(ids), dtype="string"),
        "title": pd.array([f"Item {i}" for i in ids], dtype="string"),
        "created": pd.array([item_created[i] for i in ids], dtype="Int64"),
        "url": pd.array([None] * len(ids), dtype="string"),
        "file": pd.array(["items.csv"] * len(ids), dtype="string"),
        "line": np.arange(2, len(ids) + 2, dtype="int64"),
    })


def _plain(value: Any) -> Any:
    """pandas/numpy scalars -> Python (NA and NaN -> None)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, str):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def engine_items(
    stream: RefStream,
    events: list[RefEvent],
    item_created: dict[str, int | None],
    as_of: int,
) -> dict[str, dict]:
    """Run the engine; return item -> dict with the reference's keys."""
    n_sources = max([e.source for e in events], default=0) + 1
    result = compute_items(events_frame(events), items_frame(item_created),
                           stream_def(stream, n_sources), as_of)
    frame = result.items
    stage_ids = [s.id for s in stream.stages] + ["unmapped"]
    out: dict[str, dict] = {}
    for record in frame.to_dict("records"):
        item_id = str(record["item_id"])
        assert item_id not in out, f"engine returned {item_id} twice"
        row: dict[str, Any] = {}
        for key, column in TIME_KEYS.items():
            row[key] = _plain(record[column])
        row["flow_efficiency"] = _plain(record["flow_efficiency"])
        row["reworked"] = _plain(record["reworked"])
        row["hand_offs"] = _plain(record["hand_offs"])
        row["current_stage"] = _plain(record["current_stage"])
        row["status"] = _plain(record["status"])
        for stage_id in stage_ids:
            row[f"stage:{stage_id}"] = _plain(record[f"stage_ns:{stage_id}"])
        out[item_id] = row
    return out


def same_value(key: str, want: Any, have: Any) -> bool:
    if key == "flow_efficiency" and want is not None and have is not None:
        return math.isclose(want, have, rel_tol=1e-12, abs_tol=1e-15)
    return want == have and type(want) is type(have)


def compare(ref: dict[str, dict], eng: dict[str, dict]) -> list[str]:
    problems: list[str] = []
    if set(ref) != set(eng):
        problems.append(f"items: only in reference {sorted(set(ref) - set(eng))}, "
                        f"only in engine {sorted(set(eng) - set(ref))}")
    for item_id in sorted(set(ref) & set(eng)):
        for key, want in ref[item_id].items():
            have = eng[item_id].get(key, "<missing>")
            if not same_value(key, want, have):
                problems.append(f"{item_id}.{key}: reference {want!r}, engine {have!r}")
    return problems


def describe(stream: RefStream, events: list[RefEvent], created: dict, as_of: int) -> str:
    name = "TWO_DONE_STREAM" if stream == TWO_DONE_STREAM else "STREAM"
    lines = [f"stream = {name}", f"as_of = {as_of - EPOCH} + EPOCH ({as_of / HOUR - EPOCH / HOUR:g} h)",
             f"created = {{{', '.join(f'{k!r}: {v if v is None else v - EPOCH}' for k, v in created.items())}}}  # + EPOCH",
             "events = ["]
    for e in sorted(events, key=lambda e: (e.item_id, e.ts, e.source, e.line)):
        lines.append(f"  RefEvent({e.item_id!r}, EPOCH + {e.ts - EPOCH}, {e.state!r}, "
                     f"{e.blocked!r}, {e.actor!r}, {e.source}, {e.line}),"
                     f"  # {(e.ts - EPOCH) / HOUR:g} h")
    lines.append("]")
    return "\n".join(lines)


# --------------------------------------------------------------------------
# (a) The hand-computed cases


def _case_items(case: Case) -> dict[str, int | None]:
    """items.csv for a case: every item of the case, created where given."""
    out: dict[str, int | None] = {}
    for item_id in [*case.created, *(e.item_id for e in case.events)]:
        out.setdefault(item_id, case.created.get(item_id))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_engine_on_case(case: Case) -> None:
    result = engine_items(case.stream, case.events, _case_items(case), case.as_of)
    problems = check_case_result(case, result)
    # and, beyond the keys the case lists, every field against the reference
    ref = reference_items(case.stream, case.events, case.created, case.as_of)
    problems += compare(ref, result)
    assert not problems, "\n".join(dict.fromkeys(problems))


# --------------------------------------------------------------------------
# (b) Random event logs


class RandomChooser:
    """Choices from a seeded random.Random."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def int(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def pick(self, options: list) -> Any:
        return options[self.rng.randrange(len(options))]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def shuffle(self, values: list) -> list:
        values = list(values)
        self.rng.shuffle(values)
        return values


class DrawChooser:
    """The same choices drawn through hypothesis (so failures shrink)."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw

    def int(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def pick(self, options: list) -> Any:
        return self.draw(st.sampled_from(options))

    def chance(self, p: float) -> bool:
        # shrinks towards False
        return self.draw(st.integers(0, 999)) >= 1000 - round(p * 1000)

    def shuffle(self, values: list) -> list:
        return list(self.draw(st.permutations(list(values))))


def _fullwidth(text: str) -> str:
    return "".join("\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch
                   for ch in text)


def spellings(state: str) -> list[str]:
    """Ways a tracker might write `state` that must still match it."""
    return [state, state.lower(), state.upper(), state.replace(" ", "  "), f" {state}\t",
            state.replace(" ", "\u00a0"), state.replace(" ", ""), _fullwidth(state)]


UNMAPPED_STATES = ["Parked", "QA Hold", "Triage", "In-Progress", "Done!"]
ACTORS = ["ann", "bob", "cy"]


def random_log(
    c: RandomChooser | DrawChooser,
    distinct_instants: bool = False,
) -> tuple[RefStream, list[RefEvent], dict[str, int | None], dict[str, int | None], int]:
    """(stream, events, created given, items.csv rows, as_of).

    Edges: unmapped states and spelling variants, blocked states, flag changes,
    rows at one instant, duplicates (other source or same source), reopen,
    cancel, events after as_of, an event at as_of, created before/at/after the
    first event or after as_of, items only in items.csv, several sources, rows
    in random order. With distinct_instants, no two rows of an item share an
    instant (so there are no duplicates either).
    """
    stream = c.pick([STREAM, STREAM, TWO_DONE_STREAM])
    stages = stream.stages
    n_sources = c.int(1, 3)
    use_actors = c.chance(0.6)
    raw: list[dict] = []
    first_ts: dict[str, int] = {}
    for k in range(c.int(1, 6)):
        item = f"I{k}"
        t = c.int(0, 6)
        pos = -1  # index of the stage the walk is in (-1: none yet)
        for j in range(c.int(0, 8)):
            if j:
                step = c.pick([1, 1, 2, 3, 7]) if distinct_instants else c.pick([0, 0, 1, 1, 2, 3, 7])
                t += step
            kind = c.int(0, 11)
            if kind <= 4:  # forward along the stream (done/cancelled at the end)
                pos = min(pos + c.int(1, 2), len(stages) - 1)
                state = c.pick(list(stages[pos].states))
            elif kind == 5:  # anywhere: move back, reopen, cancel, done
                pos = c.int(0, len(stages) - 1)
                state = c.pick(list(stages[pos].states))
            elif kind == 6:  # a different spelling of a mapped state
                pos = c.int(0, len(stages) - 1)
                state = c.pick(spellings(c.pick(list(stages[pos].states))))
            elif kind == 7:
                state = c.pick(UNMAPPED_STATES)
            elif kind == 8:
                state = c.pick(spellings(c.pick(list(stream.blocked_states))))
            else:  # state unchanged: the row changes only the flag or the actor
                state = c.pick([None, None, ""])
            blocked = c.pick([None, None, None, None, True, False])
            actor = c.pick([None, None, "", *ACTORS]) if use_actors else None
            jitter = c.pick([0, 0, 0, 0, 1, 999])  # near but distinct instants
            ts = EPOCH + t * HOUR + (0 if distinct_instants else jitter)
            raw.append(dict(item_id=item, ts=ts, state=state, blocked=blocked, actor=actor,
                            source=c.int(0, n_sources - 1)))
            first_ts[item] = min(first_ts.get(item, ts), ts)
            if not distinct_instants and c.chance(0.08):  # an exact duplicate
                raw.append({**raw[-1], "source": c.int(0, n_sources - 1)})

    all_ts = sorted(r["ts"] for r in raw) or [EPOCH]
    as_of_kind = c.int(0, 3)
    if as_of_kind == 0:
        as_of = all_ts[-1]  # the default: the latest event
    elif as_of_kind == 1:
        as_of = c.pick(all_ts)  # an event exactly at as_of, later ones ignored
    elif as_of_kind == 2:
        as_of = all_ts[0] + c.int(0, max(0, (all_ts[-1] - all_ts[0]) // HOUR)) * HOUR
    else:
        as_of = all_ts[-1] + c.int(1, 10) * HOUR

    created: dict[str, int | None] = {}
    items_csv: dict[str, int | None] = {}
    for item, first in first_ts.items():
        how = c.int(0, 5)
        if how == 0:
            given = first - c.int(1, 5) * HOUR  # time before the first event: unmapped
        elif how == 1:
            given = first
        elif how == 2:
            given = first + c.int(1, 5) * HOUR  # moved back to the first event
        elif how == 3:
            given = as_of + c.int(1, 5) * HOUR  # after as_of
        else:
            given = None
        if given is not None:
            created[item] = given
            items_csv[item] = given
        elif c.chance(0.5):
            items_csv[item] = None  # listed in items.csv without created
    for k in range(c.int(0, 1) if c.chance(0.3) else 0):  # items with no events at all
        given = as_of + c.int(-10, 3) * HOUR
        created[f"N{k}"] = given
        items_csv[f"N{k}"] = given

    # line numbers: a random order inside each source; then the rows shuffled
    events: list[RefEvent] = []
    for source in range(n_sources):
        mine = [r for r in raw if r["source"] == source]
        lines = c.shuffle(list(range(2, len(mine) + 2)))
        events += [RefEvent(line=line, **r) for r, line in zip(mine, lines, strict=True)]
    events = c.shuffle(events)
    return stream, events, created, items_csv, as_of


@st.composite
def logs(draw: Any, distinct_instants: bool = False):
    return random_log(DrawChooser(draw), distinct_instants=distinct_instants)


def check_log(stream, events, created, items_csv, as_of) -> list[str]:
    ref = reference_items(stream, events, created, as_of)
    eng = engine_items(stream, events, items_csv, as_of)
    return compare(ref, eng)


SEEDS = range(200)


@pytest.mark.slow
def test_engine_matches_reference_on_seeded_random_logs() -> None:
    failures: list[tuple[int, int, str]] = []
    for seed in SEEDS:
        stream, events, created, items_csv, as_of = random_log(RandomChooser(random.Random(seed)))
        problems = check_log(stream, events, created, items_csv, as_of)
        if problems:
            report = "\n".join(problems) + "\n" + describe(stream, events, created, as_of)
            failures.append((len(events), seed, report))
    if failures:
        failures.sort()
        size, seed, report = failures[0]
        pytest.fail(f"{len(failures)} of {len(SEEDS)} seeds differ; the smallest (seed {seed}, "
                    f"{size} rows):\n{report}")


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs())
def test_engine_matches_reference_hypothesis(log) -> None:
    stream, events, created, items_csv, as_of = log
    problems = check_log(stream, events, created, items_csv, as_of)
    assert not problems, "\n".join(problems) + "\n" + describe(stream, events, created, as_of)


def test_an_empty_and_a_missing_state_at_one_instant_are_one_duplicate() -> None:
    """METRICS.md 1: rows equal in (item, instant, state, blocked, actor) count once. An empty
    state and a missing one both mean "unchanged", so these two flag-only rows are equal
    (as the reference's item_rows has it): one duplicate. The third row differs in blocked."""
    from generator.metrics.prepare import prepare

    events = [RefEvent("D1", EPOCH, "To Do", line=2),
              RefEvent("D1", EPOCH + HOUR, "", blocked=True, line=3),
              RefEvent("D1", EPOCH + HOUR, None, blocked=True, source=1, line=2),
              RefEvent("D1", EPOCH + HOUR, None, blocked=False, source=1, line=3)]
    prepared = prepare(events_frame(events), items_frame({}), stream_def(STREAM, 2))
    assert prepared.duplicates == 1
    assert len(prepared.ts) == 3
