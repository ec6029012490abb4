"""A slow, plain-Python reference for METRICS.md sections 1 and 2.

Written straight from the spec text, one item at a time, with no pandas and no
numpy, so that it is easy to check by reading. It is used to cross-check the
engine (tests/test_engine_vs_reference.py); it is not used by the product.

Choices where the spec leaves room (each has a case in test_reference_cases.py):

* Rows of one instant are applied one after the other (a state machine), so a
  blocked state right after another row of the same instant keeps the stage
  that row set, even though that row's own interval has zero length.
* Duplicates are compared on the raw values (state not normalised; an empty
  state or actor equals a missing one); the first row in (instant, source,
  line) order is kept.
* The stage the item is in at as_of is a visit even when it was entered at
  as_of exactly (so an event at as_of can make an item done, committed or
  reworked). Every other visit needs positive length.
* committed: entering a `cancelled` stage does not commit an item; done stages
  do. Zero-length passes through a stage do not commit (they are not visits).
* Move backs compare stream order of stages, done and cancelled stages
  included (done -> dev is a move back; done -> dropped is not; dropped ->
  done is; between two done stages, the later -> the earlier is one: visits are
  per stage). `reworked` looks at the visits entered in (created, done] (done
  items), (created, cancelled] (cancelled items) or up to as_of (others), the
  same interval as hand-offs: the move into the final done visit counts, moves
  between done stages after done do not.
* hand-offs: rows in (created, done] for done items, (created, as_of] for
  every other item (cancelled ones included; see HAND_OFFS_CANCELLED_END).
  `None` for every item when no row up to as_of (of any item) has a non-empty
  actor (rows after as_of are ignored for this too).
* %C&A: a move back from a stage after s counts against s when it lands in s
  (even when that is the item's first entry into s: it was sent back to s), or
  when it lands before s after the item first entered s.
* An item with a given `created` and no events up to as_of is kept: it sits in
  `unmapped` from created to as_of.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

UNMAPPED = "unmapped"

# Where the hand-off count of a *cancelled* item stops. The brief for this
# reference says "(created, done] for done items, (created, as_of] for the
# others"; the measurement window of a cancelled item ends at its cancel
# instant, so "cancelled" is the other reading. One switch, so the project can
# settle it in docs/metrics.md and flip it here.
HAND_OFFS_CANCELLED_END = "cancelled"  # or "as_of"; docs/metrics.md settles it: the window of a cancelled item ends at its cancel instant


@dataclass(frozen=True)
class RefStage:
    id: str
    kind: str  # wait | active | done | cancelled
    states: tuple[str, ...]


@dataclass(frozen=True)
class RefStream:
    stages: tuple[RefStage, ...]
    commitment: str
    blocked_states: tuple[str, ...] = ()


@dataclass(frozen=True)
class RefEvent:
    item_id: str
    ts: int  # UTC nanoseconds
    state: str | None  # None or '' = state unchanged
    blocked: bool | None = None  # None = unchanged
    actor: str | None = None
    source: int = 0
    line: int = 0


# --------------------------------------------------------------------------
# State matching


def normalize_state(name: str) -> str:
    """NFKC, then case folding, then remove all whitespace."""
    text = unicodedata.normalize("NFKC", name)
    text = text.casefold()
    return "".join(ch for ch in text if not ch.isspace())


BLOCKED = object()  # marker: "this state is a blocked state"


def classify_state(stream: RefStream, state: str) -> object:
    """Return a stage id, UNMAPPED, or BLOCKED for a (non-empty) state name."""
    # exact name first
    for stage in stream.stages:
        if state in stage.states:
            return stage.id
    if state in stream.blocked_states:
        return BLOCKED
    # then normalised
    wanted = normalize_state(state)
    for stage in stream.stages:
        for listed in stage.states:
            if normalize_state(listed) == wanted:
                return stage.id
    for listed in stream.blocked_states:
        if normalize_state(listed) == wanted:
            return BLOCKED
    return UNMAPPED


# --------------------------------------------------------------------------
# Helpers on the stream


def stage_index(stream: RefStream, stage_id: str) -> int:
    for i, stage in enumerate(stream.stages):
        if stage.id == stage_id:
            return i
    raise KeyError(stage_id)


def stage_kind(stream: RefStream, stage_id: str) -> str:
    if stage_id == UNMAPPED:
        return UNMAPPED
    return stream.stages[stage_index(stream, stage_id)].kind


def _empty_to_none(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return value


# --------------------------------------------------------------------------
# One item's timeline


@dataclass
class Segment:
    start: int
    end: int
    stage: str
    blocked: bool


@dataclass
class Visit:
    stage: str
    start: int
    end: int


@dataclass
class Timeline:
    item_id: str
    created: int
    rows: list[RefEvent]  # deduplicated, ordered, ts <= as_of
    segments: list[Segment]  # from created to as_of, in order
    visits: list[Visit]  # maximal runs in one stage (the last one may have length 0)


def item_rows(events: list[RefEvent], item_id: str, as_of: int) -> list[RefEvent]:
    """The item's rows up to as_of, ordered by (instant, source, line), duplicates once."""
    rows = [e for e in events if e.item_id == item_id and e.ts <= as_of]
    rows.sort(key=lambda e: (e.ts, e.source, e.line))
    kept: list[RefEvent] = []
    seen: set[tuple] = set()
    for row in rows:
        key = (row.item_id, row.ts, _empty_to_none(row.state), row.blocked,
               _empty_to_none(row.actor))
        if key in seen:
            continue
        seen.add(key)
        kept.append(row)
    return kept


def build_timeline(
    stream: RefStream,
    events: list[RefEvent],
    item_id: str,
    given_created: int | None,
    as_of: int,
) -> Timeline | None:
    """None when the item does not exist at as_of (created after as_of, or unknown)."""
    rows = item_rows(events, item_id, as_of)

    created = given_created
    if rows:
        first = rows[0].ts
        if created is None or first < created:
            created = first
    if created is None or created > as_of:
        return None

    # Apply the rows one after the other; remember the situation after the
    # last row of each instant.
    stage = UNMAPPED
    in_blocked_state = False
    flag = False
    after_instant: list[tuple[int, str, bool]] = []  # (instant, stage, blocked)
    for row in rows:
        state = _empty_to_none(row.state)
        if state is not None:
            target = classify_state(stream, state)
            if target is BLOCKED:
                in_blocked_state = True  # stage unchanged
            else:
                in_blocked_state = False
                stage = target  # type: ignore[assignment]
        if row.blocked is not None:
            flag = row.blocked
        situation = (row.ts, stage, flag or in_blocked_state)
        if after_instant and after_instant[-1][0] == row.ts:
            after_instant[-1] = situation
        else:
            after_instant.append(situation)

    segments: list[Segment] = []
    first_instant = after_instant[0][0] if after_instant else as_of
    # time between created and the first event: unmapped, not blocked
    segments.append(Segment(created, first_instant, UNMAPPED, False))
    for i, (instant, stage_id, blocked) in enumerate(after_instant):
        end = after_instant[i + 1][0] if i + 1 < len(after_instant) else as_of
        segments.append(Segment(instant, end, stage_id, blocked))

    # Visits: positive-length time, merged when the stage stays the same. The
    # segment the item is in at as_of always counts (an event at as_of counts).
    visits: list[Visit] = []
    for i, seg in enumerate(segments):
        is_last = i == len(segments) - 1
        if seg.end <= seg.start and not is_last:
            continue
        if visits and visits[-1].stage == seg.stage:
            visits[-1].end = seg.end
        else:
            visits.append(Visit(seg.stage, seg.start, seg.end))

    return Timeline(item_id, created, rows, segments, visits)


def _end_of_last_run(stream: RefStream, visits: list[Visit], kind: str) -> int | None:
    """Start of the final run of visits to stages of `kind`, if the item ends in one."""
    if not visits or stage_kind(stream, visits[-1].stage) != kind:
        return None
    i = len(visits) - 1
    while i > 0 and stage_kind(stream, visits[i - 1].stage) == kind:
        i -= 1
    return visits[i].start


def _committed(stream: RefStream, visits: list[Visit]) -> int | None:
    commit_at = stage_index(stream, stream.commitment)
    for visit in visits:
        if visit.stage == UNMAPPED:
            continue
        if stage_kind(stream, visit.stage) == "cancelled":
            continue  # project decision: cancelling is not committing
        if stage_index(stream, visit.stage) >= commit_at:
            return visit.start
    return None


def _reworked(stream: RefStream, visits: list[Visit], window_end: int) -> bool:
    """At least one move back among the visits entered up to the end of the window.

    Like hand-offs, which count rows in (created, done], the moves that count are
    those up to and including done (cancelled; as_of for an item in progress): the
    move into the final done visit counts, later moves between done stages do not.
    """
    previous: int | None = None
    for visit in visits:
        if visit.start > window_end:
            break
        if visit.stage == UNMAPPED:
            continue  # skipped when finding the previous mapped visit
        here = stage_index(stream, visit.stage)
        if previous is not None and here < previous:
            return True
        previous = here
    return False


def _hand_offs(rows: list[RefEvent], created: int, end: int) -> int:
    count = 0
    previous: str | None = None
    for row in rows:
        actor = _empty_to_none(row.actor)
        if actor is None:
            continue
        if created < row.ts <= end and previous is not None and actor != previous:
            count += 1
        previous = actor
    return count


def item_measures(
    stream: RefStream, timeline: Timeline, as_of: int, stream_has_actor: bool
) -> dict:
    visits = timeline.visits
    created = timeline.created
    current = visits[-1].stage
    current_kind = stage_kind(stream, current)

    done = _end_of_last_run(stream, visits, "done")
    cancelled = _end_of_last_run(stream, visits, "cancelled")
    if done is not None:
        status = "done"
        window_end = done
    elif cancelled is not None:
        status = "cancelled"
        window_end = cancelled
    else:
        status = "in_progress"
        window_end = as_of
    assert (status == "done") == (current_kind == "done")

    committed = _committed(stream, visits)

    per_stage = {stage.id: 0 for stage in stream.stages}
    per_stage[UNMAPPED] = 0
    process = 0
    blocked = 0
    for seg in timeline.segments:
        start = max(seg.start, created)
        end = min(seg.end, window_end)
        if end <= start:
            continue
        length = end - start
        per_stage[seg.stage] += length
        if seg.blocked:
            blocked += length
        elif stage_kind(stream, seg.stage) == "active":
            process += length
    window = window_end - created
    wait = window - process
    efficiency = None if process + wait == 0 else process / (process + wait)

    hand_off_end = done if done is not None else as_of
    if cancelled is not None and HAND_OFFS_CANCELLED_END == "cancelled":
        hand_off_end = cancelled
    result = {
        "created": created,
        "committed": committed,
        "done": done,
        "cancelled": cancelled,
        "lead": None if done is None else done - created,
        "cycle": None if done is None else done - committed,  # type: ignore[operator]
        "process": process,
        "wait": wait,
        "blocked": blocked,
        "flow_efficiency": efficiency,
        "reworked": _reworked(stream, visits, window_end),
        "hand_offs": (_hand_offs(timeline.rows, created, hand_off_end)
                      if stream_has_actor else None),
        "current_stage": current,
        "status": status,
    }
    for stage_id, total in per_stage.items():
        result[f"stage:{stage_id}"] = total
    return result


# --------------------------------------------------------------------------
# Public API


def _all_item_ids(events: list[RefEvent], created: dict[str, int]) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for item_id in list(created) + [e.item_id for e in events]:
        if item_id not in seen:
            seen.add(item_id)
            ids.append(item_id)
    return ids


def reference_timelines(
    stream: RefStream, events: list[RefEvent], created: dict[str, int], as_of: int
) -> dict[str, Timeline]:
    out: dict[str, Timeline] = {}
    for item_id in _all_item_ids(events, created):
        timeline = build_timeline(stream, events, item_id, created.get(item_id), as_of)
        if timeline is not None:
            out[item_id] = timeline
    return out


def reference_items(
    stream: RefStream, events: list[RefEvent], created: dict[str, int], as_of: int
) -> dict[str, dict]:
    """Per-item measures of METRICS.md section 2, in integer nanoseconds."""
    stream_has_actor = any(
        _empty_to_none(e.actor) is not None for e in events if e.ts <= as_of
    )
    return {
        item_id: item_measures(stream, timeline, as_of, stream_has_actor)
        for item_id, timeline in reference_timelines(stream, events, created, as_of).items()
    }


def reference_pct_ca(
    stream: RefStream,
    events: list[RefEvent],
    created: dict[str, int],
    as_of: int,
    item_ids: list[str],
) -> dict[str, float | None]:
    """%C&A of each active stage over the given completed items (None: no item visited it)."""
    timelines = reference_timelines(stream, events, created, as_of)
    visited = {s.id: 0 for s in stream.stages if s.kind == "active"}
    clean = {s.id: 0 for s in stream.stages if s.kind == "active"}
    for item_id in item_ids:
        timeline = timelines[item_id]
        done = _end_of_last_run(stream, timeline.visits, "done")
        if done is None:
            raise ValueError(f"{item_id} is not a completed item")
        # mapped visits in the window [created, done), then the final done visit
        mapped = [v for v in timeline.visits if v.stage != UNMAPPED and v.start < done]
        mapped.append(Visit(timeline.visits[-1].stage, done, as_of))
        for stage_id in visited:
            s = stage_index(stream, stage_id)
            first = next((i for i, v in enumerate(mapped) if v.stage == stage_id), None)
            if first is None:
                continue
            visited[stage_id] += 1
            ok = True
            # the move into the first visit counts too when it comes from after s (sent back
            # to s); moves that land before s count only once s was entered
            for i in range(max(first, 1), len(mapped)):
                before = stage_index(stream, mapped[i - 1].stage)
                here = stage_index(stream, mapped[i].stage)
                if before > s and here <= s:
                    ok = False
            if ok:
                clean[stage_id] += 1
    return {
        stage_id: (clean[stage_id] / visited[stage_id] if visited[stage_id] else None)
        for stage_id in visited
    }


def reference_rolled_pct_ca(pct_ca: dict[str, float | None]) -> float | None:
    """Product of the %C&A of the active stages that at least one completed item visited."""
    values = [v for v in pct_ca.values() if v is not None]
    if not values:
        return None
    product = 1.0
    for value in values:
        product *= value
    return product
