"""Hand-computed cases, one (or a few) per rule of METRICS.md sections 1 and 2.

Each case is data: events, given created instants, as_of and the expected
per-item values (only the keys a case lists are checked; an expected value of
None for an item means the item must be absent). The same CASES run against
the engine in test_engine_vs_reference.py.

Times are in hours from an arbitrary origin (h(n) = n hours in nanoseconds).
Stream (STREAM):

    backlog (wait: Backlog, To Do) -> dev (active: In Progress)
    -> review-queue (wait: Ready for Review) -> review (active: In Review)
    -> done (done: Done, Closed) -> dropped (cancelled: Won't Do, Duplicate)
    commitment: dev; blocked states: Blocked
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from reference import (
    HAND_OFFS_CANCELLED_END,
    RefEvent,
    RefStage,
    RefStream,
    reference_items,
    reference_pct_ca,
    reference_rolled_pct_ca,
)


def h(n: int) -> int:
    return n * 3600 * 10**9


STREAM = RefStream(
    stages=(
        RefStage("backlog", "wait", ("Backlog", "To Do")),
        RefStage("dev", "active", ("In Progress",)),
        RefStage("review-queue", "wait", ("Ready for Review",)),
        RefStage("review", "active", ("In Review",)),
        RefStage("done", "done", ("Done", "Closed")),
        RefStage("dropped", "cancelled", ("Won't Do", "Duplicate")),
    ),
    commitment="dev",
    blocked_states=("Blocked",),
)

# Two done stages, to show that consecutive time in done stages is one visit.
TWO_DONE_STREAM = RefStream(
    stages=(
        RefStage("backlog", "wait", ("To Do",)),
        RefStage("dev", "active", ("In Progress",)),
        RefStage("done", "done", ("Done",)),
        RefStage("released", "done", ("Released",)),
        RefStage("dropped", "cancelled", ("Won't Do",)),
    ),
    commitment="dev",
    blocked_states=("Blocked",),
)

TIME_KEYS = ("created", "committed", "done", "cancelled", "lead", "cycle",
             "process", "wait", "blocked")


@dataclass
class Case:
    name: str
    events: list[RefEvent]
    created: dict[str, int]
    as_of: int
    expected: dict[str, dict | None]
    stream: RefStream = field(default=STREAM)


def ev(item: str, hours: int, state: str | None, blocked: bool | None = None,
       actor: str | None = None, source: int = 0, line: int | None = None) -> dict:
    return dict(item_id=item, ts=h(hours), state=state, blocked=blocked, actor=actor,
                source=source, line=line)


def rows(*specs: dict) -> list[RefEvent]:
    """RefEvents; a row without a line gets its position in the list (+2, after a header)."""
    return [RefEvent(**{**spec, "line": spec["line"] if spec["line"] is not None else i + 2})
            for i, spec in enumerate(specs)]


def ex(stream: RefStream = STREAM, stage: dict[str, int] | None = None, **values) -> dict:
    """Expected values; times in hours (converted to ns); `stage` fills every stage column."""
    out: dict = {}
    for key, value in values.items():
        if key in TIME_KEYS and value is not None:
            value = h(value)
        out[key] = value
    if stage is not None:
        unknown = set(stage) - {s.id for s in stream.stages} - {"unmapped"}
        assert not unknown, unknown
        for s in [*(s.id for s in stream.stages), "unmapped"]:
            out[f"stage:{s}"] = h(stage.get(s, 0))
    return out


CASES: list[Case] = [
    Case(
        # A: backlog [0,2) dev [2,5) review-queue [5,6) review [6,8) done from 8.
        # lead 8-0=8, cycle 8-2=6, process dev 3 + review 2 = 5, wait 8-5=3
        # (backlog 2 + queue 1), flow efficiency 5/8. No actor column -> None.
        "linear flow",
        rows(ev("A", 0, "To Do"), ev("A", 2, "In Progress"), ev("A", 5, "Ready for Review"),
             ev("A", 6, "In Review"), ev("A", 8, "Done")),
        {}, h(10),
        {"A": ex(created=0, committed=2, done=8, cancelled=None, lead=8, cycle=6, process=5,
                 wait=3, blocked=0, flow_efficiency=5 / 8, reworked=False, hand_offs=None,
                 current_stage="done", status="done",
                 stage={"backlog": 2, "dev": 3, "review-queue": 1, "review": 2})},
    ),
    Case(
        # B skips the review stages: backlog [0,1) dev [1,4) done 4: lead 4 cycle 3,
        # process 3 wait 1. C skips dev: review is after dev, so entering it at 3
        # commits: backlog [0,3) review [3,5) done 5: lead 5 cycle 2 process 2 wait 3.
        "skipped stages",
        rows(ev("B", 0, "To Do"), ev("B", 1, "In Progress"), ev("B", 4, "Done"),
             ev("C", 0, "To Do"), ev("C", 3, "In Review"), ev("C", 5, "Done")),
        {}, h(10),
        {"B": ex(created=0, committed=1, done=4, lead=4, cycle=3, process=3, wait=1,
                 blocked=0, flow_efficiency=0.75, reworked=False, status="done",
                 stage={"backlog": 1, "dev": 3}),
         "C": ex(created=0, committed=3, done=5, lead=5, cycle=2, process=2, wait=3,
                 flow_efficiency=0.4, reworked=False, status="done",
                 stage={"backlog": 3, "review": 2})},
    ),
    Case(
        # D: backlog [0,5) then done: committed = done = 5, cycle 0, lead 5,
        # process 0, wait 5, efficiency 0/5 = 0.0.
        # E: its only event is Closed at 3: created = committed = done = 3, lead 0,
        # cycle 0, an empty window: process = wait = 0, efficiency empty (None).
        "straight to done",
        rows(ev("D", 0, "To Do"), ev("D", 5, "Done"), ev("E", 3, "Closed")),
        {}, h(6),
        {"D": ex(created=0, committed=5, done=5, lead=5, cycle=0, process=0, wait=5,
                 flow_efficiency=0.0, reworked=False, status="done", stage={"backlog": 5}),
         "E": ex(created=3, committed=3, done=3, lead=0, cycle=0, process=0, wait=0,
                 blocked=0, flow_efficiency=None, reworked=False, current_stage="done",
                 status="done", stage={})},
    ),
    Case(
        # F: backlog [0,1) dev [1,3) review [3,4) dev [4,6) review [6,7) done 7.
        # review -> dev is a move back. dev 2+2=4, review 1+1=2; process 6,
        # wait 1 (backlog), lead 7, cycle 7-1=6, efficiency 6/7.
        # G (in progress): dev [0,2) backlog [2,3) dev [3,8=as_of): dev -> backlog
        # is a move back; dev 2+5=7, backlog 1, process 7, wait 1, no lead/cycle.
        "sent back",
        rows(ev("F", 0, "To Do"), ev("F", 1, "In Progress"), ev("F", 3, "In Review"),
             ev("F", 4, "In Progress"), ev("F", 6, "In Review"), ev("F", 7, "Done"),
             ev("G", 0, "In Progress"), ev("G", 2, "To Do"), ev("G", 3, "In Progress")),
        {}, h(8),
        {"F": ex(created=0, committed=1, done=7, lead=7, cycle=6, process=6, wait=1,
                 flow_efficiency=6 / 7, reworked=True, status="done",
                 stage={"backlog": 1, "dev": 4, "review": 2}),
         "G": ex(created=0, committed=0, done=None, lead=None, cycle=None, process=7,
                 wait=1, blocked=0, flow_efficiency=7 / 8, reworked=True,
                 current_stage="dev", status="in_progress",
                 stage={"dev": 7, "backlog": 1})},
    ),
    Case(
        # H: dev [0,2) unmapped "QA Hold" [2,3) backlog [3,4) dev [4,6) done 6.
        # The previous mapped visit before backlog is dev (unmapped skipped), so
        # backlog is a move back. dev 4, unmapped 1, backlog 1; process 4, wait 2,
        # lead 6, cycle 6 (committed at 0), efficiency 4/6.
        "sent back through an unmapped state",
        rows(ev("H", 0, "In Progress"), ev("H", 2, "QA Hold"), ev("H", 3, "To Do"),
             ev("H", 4, "In Progress"), ev("H", 6, "Done")),
        {}, h(7),
        {"H": ex(created=0, committed=0, done=6, lead=6, cycle=6, process=4, wait=2,
                 flow_efficiency=4 / 6, reworked=True, status="done",
                 stage={"dev": 4, "unmapped": 1, "backlog": 1})},
    ),
    Case(
        # I: dev [0,2) unmapped [2,3) dev [3,5) done 5: dev -> unmapped -> dev is
        # not a move back. dev 4 unmapped 1, process 4 wait 1, lead = cycle = 5.
        "dev -> unmapped -> dev is not rework",
        rows(ev("I", 0, "In Progress"), ev("I", 2, "QA Hold"), ev("I", 3, "In Progress"),
             ev("I", 5, "Done")),
        {}, h(7),
        {"I": ex(created=0, committed=0, done=5, lead=5, cycle=5, process=4, wait=1,
                 flow_efficiency=0.8, reworked=False, status="done",
                 stage={"dev": 4, "unmapped": 1})},
    ),
    Case(
        # J: dev [0,2) done [2,3) dev [3,6=as_of): left done and did not come
        # back: not done. done -> dev is a move back. Window [0,6): dev 5,
        # done 1 (counted as wait), process 5, wait 1.
        "reopened",
        rows(ev("J", 0, "In Progress"), ev("J", 2, "Done"), ev("J", 3, "In Progress")),
        {}, h(6),
        {"J": ex(created=0, committed=0, done=None, cancelled=None, lead=None, cycle=None,
                 process=5, wait=1, blocked=0, flow_efficiency=5 / 6, reworked=True,
                 current_stage="dev", status="in_progress", stage={"dev": 5, "done": 1})},
    ),
    Case(
        # K: backlog [0,1) dev [1,3) done [3,4) dev [4,6) done from 6: done = 6
        # (start of the last visit). Window [0,6): backlog 1, dev 4, done 1 (time in
        # done before the final done goes to done's column, and to wait).
        # lead 6, cycle 6-1=5, process 4, wait 2.
        # L: backlog [0,2) done [2,3) backlog [3,5) done 5: committed at the first
        # entry to done (2), done = 5: lead 5, cycle 3, backlog 4, done 1, wait 5.
        "reopened then done again",
        rows(ev("K", 0, "To Do"), ev("K", 1, "In Progress"), ev("K", 3, "Done"),
             ev("K", 4, "In Progress"), ev("K", 6, "Done"),
             ev("L", 0, "To Do"), ev("L", 2, "Done"), ev("L", 3, "To Do"), ev("L", 5, "Done")),
        {}, h(8),
        {"K": ex(created=0, committed=1, done=6, lead=6, cycle=5, process=4, wait=2,
                 flow_efficiency=4 / 6, reworked=True, status="done",
                 stage={"backlog": 1, "dev": 4, "done": 1}),
         "L": ex(created=0, committed=2, done=5, lead=5, cycle=3, process=0, wait=5,
                 flow_efficiency=0.0, reworked=True, status="done",
                 stage={"backlog": 4, "done": 1})},
    ),
    Case(
        # M: backlog [0,1) dev [1,4) dropped 4: cancelled = 4, window [0,4): backlog 1
        # dev 3, process 3 wait 1; no lead/cycle.
        # N: backlog [0,2) Duplicate 2: cancelled 2; never committed (DECISION:
        # entering a cancelled stage is not commitment).
        # O: backlog [0,1) dropped [1,2) backlog [2,6): reopened, in progress, not
        # cancelled; dropped -> backlog is a move back; backlog 5 dropped 1, wait 6.
        # P: dev [0,2) done [2,3) dropped 3: cancelled 3, not done; dropped comes
        # after done in stream order, so no move back. dev 2 done 1, process 2 wait 1.
        "cancelled",
        rows(ev("M", 0, "To Do"), ev("M", 1, "In Progress"), ev("M", 4, "Won't Do"),
             ev("N", 0, "To Do"), ev("N", 2, "Duplicate"),
             ev("O", 0, "To Do"), ev("O", 1, "Won't Do"), ev("O", 2, "To Do"),
             ev("P", 0, "In Progress"), ev("P", 2, "Done"), ev("P", 3, "Won't Do")),
        {}, h(6),
        {"M": ex(created=0, committed=1, done=None, cancelled=4, lead=None, cycle=None,
                 process=3, wait=1, blocked=0, flow_efficiency=0.75, reworked=False,
                 current_stage="dropped", status="cancelled",
                 stage={"backlog": 1, "dev": 3}),
         "N": ex(created=0, committed=None, done=None, cancelled=2, process=0, wait=2,
                 flow_efficiency=0.0, reworked=False, current_stage="dropped",
                 status="cancelled", stage={"backlog": 2}),
         "O": ex(created=0, committed=None, done=None, cancelled=None, process=0, wait=6,
                 flow_efficiency=0.0, reworked=True, current_stage="backlog",
                 status="in_progress", stage={"backlog": 5, "dropped": 1}),
         "P": ex(created=0, committed=0, done=None, cancelled=3, lead=None, process=2,
                 wait=1, flow_efficiency=2 / 3, reworked=False, current_stage="dropped",
                 status="cancelled", stage={"dev": 2, "done": 1})},
    ),
    Case(
        # Q: dev [0,4) with the flag true over [2,3), review [4,5), done 5:
        # blocked 1, process dev 3 + review 1 = 4, wait 1 (blocked time in an active
        # stage is wait), lead = cycle = 5, dev 4 (blocked time included), review 1.
        # R: the flag persists across a reopen: dev [0,2) flag from 1, done [2,3),
        # dev [3,6) flag cleared at 4. blocked [1,4) = 3, process [0,1)+[4,6) = 3,
        # wait 3, dev 5, done 1, in progress.
        # S: the flag set on a state row: backlog [0,1) dev [1,3), flag true from 0
        # to 3 (cleared on the Done row): blocked 3, process 0, wait 3, lead 3, cycle 2.
        "blocked flag",
        rows(ev("Q", 0, "In Progress"), ev("Q", 2, None, blocked=True),
             ev("Q", 3, "", blocked=False), ev("Q", 4, "In Review"), ev("Q", 5, "Done"),
             ev("R", 0, "In Progress"), ev("R", 1, None, blocked=True), ev("R", 2, "Done"),
             ev("R", 3, "In Progress"), ev("R", 4, None, blocked=False),
             ev("S", 0, "To Do", blocked=True), ev("S", 1, "In Progress"),
             ev("S", 3, "Done", blocked=False)),
        {}, h(6),
        {"Q": ex(created=0, committed=0, done=5, lead=5, cycle=5, process=4, wait=1,
                 blocked=1, flow_efficiency=0.8, reworked=False, status="done",
                 stage={"dev": 4, "review": 1}),
         "R": ex(created=0, committed=0, done=None, process=3, wait=3, blocked=3,
                 flow_efficiency=0.5, reworked=True, current_stage="dev",
                 status="in_progress", stage={"dev": 5, "done": 1}),
         "S": ex(created=0, committed=1, done=3, lead=3, cycle=2, process=0, wait=3,
                 blocked=3, flow_efficiency=0.0, reworked=False, status="done",
                 stage={"backlog": 1, "dev": 2})},
    ),
    Case(
        # T: dev [0,2) Blocked [2,3) dev [3,4) done 4: the blocked state keeps dev
        # (one visit, no move back): dev 4, blocked 1, process 3, wait 1, lead 4.
        # U: Blocked first: no stage yet -> unmapped [0,1) (blocked), backlog [1,2),
        # dev [2,4): blocked 1, process 2, wait 2, committed 2.
        # V: blocked state at as_of: review [0,3), blocked from 2: current stage review.
        # W: flag and state together: dev [0,1), Blocked with flag true at 1, back to
        # In Progress at 2 (flag still true), flag cleared at 3: blocked [1,3) = 2.
        # X: Blocked after done keeps done: done from 2, blocked time is after done.
        "blocked state",
        rows(ev("T", 0, "In Progress"), ev("T", 2, "Blocked"), ev("T", 3, "In Progress"),
             ev("T", 4, "Done"),
             ev("U", 0, "Blocked"), ev("U", 1, "To Do"), ev("U", 2, "In Progress"),
             ev("V", 0, "In Review"), ev("V", 2, "Blocked"),
             ev("W", 0, "In Progress"), ev("W", 1, "Blocked", blocked=True),
             ev("W", 2, "In Progress"), ev("W", 3, None, blocked=False),
             ev("X", 0, "In Progress"), ev("X", 2, "Done"), ev("X", 3, "Blocked")),
        {}, h(4),
        {"T": ex(created=0, committed=0, done=4, lead=4, cycle=4, process=3, wait=1,
                 blocked=1, flow_efficiency=0.75, reworked=False, current_stage="done",
                 status="done", stage={"dev": 4}),
         "U": ex(created=0, committed=2, done=None, process=2, wait=2, blocked=1,
                 flow_efficiency=0.5, reworked=False, current_stage="dev",
                 status="in_progress", stage={"unmapped": 1, "backlog": 1, "dev": 2}),
         "V": ex(created=0, committed=0, process=2, wait=2, blocked=2, flow_efficiency=0.5,
                 current_stage="review", status="in_progress", stage={"review": 4}),
         "W": ex(created=0, committed=0, process=2, wait=2, blocked=2, flow_efficiency=0.5,
                 reworked=False, current_stage="dev", status="in_progress",
                 stage={"dev": 4}),
         "X": ex(created=0, committed=0, done=2, lead=2, cycle=2, process=2, wait=0,
                 blocked=0, flow_efficiency=1.0, reworked=False, current_stage="done",
                 status="done", stage={"dev": 2})},
        # (V: review [0,4=as_of) blocked over [2,4): process 2, wait 2, blocked 2.)
    ),
    Case(
        # Y: backlog [0,1) dev [1,2) queue [2,5) with Blocked over [3,4) (stays in
        # the queue), review [5,6), done 6. Blocked time in a wait stage is wait and
        # blocked: blocked 1; process 2 (dev 1 + review 1), wait 4, lead 6, cycle 5.
        # Z: flag blocked inside backlog [0,2), cleared at 2, dev [3,4), done 4:
        # blocked 2, backlog 3, dev 1, process 1, wait 3, lead 4, cycle 1.
        "blocked inside a wait stage",
        rows(ev("Y", 0, "To Do"), ev("Y", 1, "In Progress"), ev("Y", 2, "Ready for Review"),
             ev("Y", 3, "Blocked"), ev("Y", 4, "Ready for Review"), ev("Y", 5, "In Review"),
             ev("Y", 6, "Done"),
             ev("Z", 0, "To Do", blocked=True), ev("Z", 2, None, blocked=False),
             ev("Z", 3, "In Progress"), ev("Z", 4, "Done")),
        {}, h(7),
        {"Y": ex(created=0, committed=1, done=6, lead=6, cycle=5, process=2, wait=4,
                 blocked=1, flow_efficiency=2 / 6, reworked=False, status="done",
                 stage={"backlog": 1, "dev": 1, "review-queue": 3, "review": 1}),
         "Z": ex(created=0, committed=3, done=4, lead=4, cycle=1, process=1, wait=3,
                 blocked=2, flow_efficiency=0.25, reworked=False, status="done",
                 stage={"backlog": 3, "dev": 1})},
    ),
    Case(
        # AA: backlog [0,1) "Parked" [1,3) dev [3,4) done 4: unmapped 2 (time kept),
        # wait 3, process 1, lead 4, cycle 1.
        # AB: still "Parked" at as_of: current stage unmapped, in progress.
        "unmapped state",
        rows(ev("AA", 0, "To Do"), ev("AA", 1, "Parked"), ev("AA", 3, "In Progress"),
             ev("AA", 4, "Done"),
             ev("AB", 0, "To Do"), ev("AB", 1, "Parked")),
        {}, h(5),
        {"AA": ex(created=0, committed=3, done=4, lead=4, cycle=1, process=1, wait=3,
                  flow_efficiency=0.25, reworked=False, status="done",
                  stage={"backlog": 1, "unmapped": 2, "dev": 1}),
         "AB": ex(created=0, committed=None, done=None, process=0, wait=5,
                  flow_efficiency=0.0, reworked=False, current_stage="unmapped",
                  status="in_progress", stage={"backlog": 1, "unmapped": 4})},
    ),
    Case(
        # AC: every state written differently; after NFKC + casefold + removing
        # whitespace they all match: backlog [0,1) dev [1,3) ("IN  PROGRESS", then
        # "in<nbsp>progress\t" continues the visit) queue [3,4) ("readyforreview")
        # review [4,7) (fullwidth "In Review", then " blocked " over [5,6), then
        # "in review") done 7 ("DONE"). process dev 2 + review 2 = 4, wait 3
        # (backlog 1 + queue 1 + blocked 1), blocked 1, lead 7, cycle 6.
        # AD: "In-Progress" is not "In Progress" (a hyphen is not whitespace): unmapped.
        "state matching",
        rows(ev("AC", 0, "to do"), ev("AC", 1, "IN  PROGRESS"),
             ev("AC", 2, "in\u00a0progress\t"), ev("AC", 3, "readyforreview"),
             ev("AC", 4, "\uff29\uff4e\u3000\uff32\uff45\uff56\uff49\uff45\uff57"),
             ev("AC", 5, " blocked "), ev("AC", 6, "in review"), ev("AC", 7, "DONE"),
             ev("AD", 0, "In-Progress")),
        {}, h(8),
        {"AC": ex(created=0, committed=1, done=7, lead=7, cycle=6, process=4, wait=3,
                  blocked=1, flow_efficiency=4 / 7, reworked=False, status="done",
                  stage={"backlog": 1, "dev": 2, "review-queue": 1, "review": 3}),
         "AD": ex(created=0, committed=None, process=0, wait=8, current_stage="unmapped",
                  status="in_progress", stage={"unmapped": 8})},
    ),
    Case(
        # AE: In Progress and In Review both at 2 (in line order): only the last
        # state lasts; dev has zero length (not a visit): backlog [0,2) review [2,4)
        # done 4: dev 0, review 2, committed 2, lead 4, cycle 2, process 2, wait 2.
        # AF: review -> backlog -> review all at 3: backlog has zero length, so no
        # move back and no backlog time: dev [0,2) review [2,5) done 5.
        # AG: sources order before lines: at 2, source 0 line 50 (In Progress) comes
        # before source 1 line 2 (In Review): the item ends the instant in review.
        # AH: two flag rows at one instant, true then false: never blocked.
        # AI: (DECISION, rows applied one by one) at 2, "Parked" then "Blocked": the
        # blocked state keeps the stage set by the row before it (unmapped), even
        # though that row's interval has zero length: dev [0,2) unmapped [2,6) blocked.
        # BL: To Do, then In Progress and To Do at 2: the zero-length pass through
        # dev is not a visit, so (DECISION) it does not commit and is no move back.
        "several rows at one instant",
        rows(ev("AE", 0, "To Do"), ev("AE", 2, "In Progress"), ev("AE", 2, "In Review"),
             ev("AE", 4, "Done"),
             ev("AF", 0, "In Progress"), ev("AF", 2, "In Review"), ev("AF", 3, "To Do"),
             ev("AF", 3, "In Review"), ev("AF", 5, "Done"),
             ev("AG", 0, "To Do", source=0, line=40), ev("AG", 2, "In Review", source=1, line=2),
             ev("AG", 2, "In Progress", source=0, line=50), ev("AG", 4, "Done", source=0, line=51),
             ev("AH", 0, "In Progress"), ev("AH", 2, None, blocked=True),
             ev("AH", 2, None, blocked=False), ev("AH", 3, "Done"),
             ev("AI", 0, "In Progress"), ev("AI", 2, "Parked"), ev("AI", 2, "Blocked"),
             ev("BL", 0, "To Do"), ev("BL", 2, "In Progress"), ev("BL", 2, "To Do")),
        {}, h(6),
        {"AE": ex(created=0, committed=2, done=4, lead=4, cycle=2, process=2, wait=2,
                  reworked=False, status="done", stage={"backlog": 2, "review": 2}),
         "AF": ex(created=0, committed=0, done=5, lead=5, cycle=5, process=5, wait=0,
                  flow_efficiency=1.0, reworked=False, status="done",
                  stage={"dev": 2, "review": 3}),
         "AG": ex(created=0, committed=2, done=4, lead=4, cycle=2, process=2, wait=2,
                  reworked=False, stage={"backlog": 2, "review": 2}),
         "AH": ex(created=0, committed=0, done=3, lead=3, process=3, wait=0, blocked=0,
                  stage={"dev": 3}),
         "AI": ex(created=0, committed=0, process=2, wait=4, blocked=4, reworked=False,
                  current_stage="unmapped", status="in_progress",
                  stage={"dev": 2, "unmapped": 4}),
         "BL": ex(created=0, committed=None, process=0, wait=6, reworked=False,
                  current_stage="backlog", stage={"backlog": 6})},
    ),
    Case(
        # The linear flow of "linear flow", rows given in reverse order (and with
        # reversed line numbers): ordering is by instant, so nothing changes.
        "out-of-order rows",
        rows(ev("A", 8, "Done"), ev("A", 6, "In Review"), ev("A", 5, "Ready for Review"),
             ev("A", 2, "In Progress"), ev("A", 0, "To Do")),
        {}, h(10),
        {"A": ex(created=0, committed=2, done=8, lead=8, cycle=6, process=5, wait=3,
                 blocked=0, flow_efficiency=5 / 8, reworked=False, status="done",
                 stage={"backlog": 2, "dev": 3, "review-queue": 1, "review": 2})},
    ),
    Case(
        # AJ: at 1: source 0 has In Progress (actor a) then In Review (actor b);
        # source 1 repeats In Progress (actor a) exactly, which sorts last at that
        # instant. Counted once (the first is kept), the item ends the instant in
        # review: backlog [0,1) review [1,3) done 3. Hand-offs in (0,3]: x -> a at 1,
        # a -> b at 1 (the Done row by b is not a change): 2. Without deduplication
        # the item would end the instant in dev and have 3 hand-offs.
        # AK: a plain duplicate of a whole row from another source changes nothing.
        # BM: (DECISION) duplicates compare raw values: "in progress" from source 1
        # is not a duplicate of "In Progress", so it is applied last at 1 and the
        # item ends the instant in dev: backlog [0,1) dev [1,3) done 3.
        "duplicates",
        rows(ev("AJ", 0, "To Do", actor="x"), ev("AJ", 1, "In Progress", actor="a"),
             ev("AJ", 1, "In Review", actor="b"),
             ev("AJ", 1, "In Progress", actor="a", source=1, line=2),
             ev("AJ", 3, "Done", actor="b"),
             ev("AK", 0, "In Progress"), ev("AK", 1, None, blocked=True),
             ev("AK", 1, None, blocked=True, source=1, line=3), ev("AK", 2, None, blocked=False),
             ev("AK", 3, "Done"), ev("AK", 3, "Done", source=1, line=4),
             ev("BM", 0, "To Do"), ev("BM", 1, "In Progress"), ev("BM", 1, "In Review"),
             ev("BM", 1, "in progress", source=1, line=5), ev("BM", 3, "Done")),
        {}, h(4),
        {"AJ": ex(created=0, committed=1, done=3, lead=3, cycle=2, process=2, wait=1,
                  reworked=False, hand_offs=2, stage={"backlog": 1, "review": 2}),
         "AK": ex(created=0, committed=0, done=3, lead=3, process=2, wait=1, blocked=1,
                  hand_offs=0, stage={"dev": 3}),
         "BM": ex(committed=1, done=3, process=2, wait=1, hand_offs=0,
                  stage={"backlog": 1, "dev": 2})},
    ),
    Case(
        # as_of 4. AL: Done at 5 is ignored: in progress, backlog [0,1) dev [1,4).
        # AM: its only event (at 6) is after as_of and it has no created: ignored.
        # Events after as_of are ignored even for "is there an actor": the only
        # actor is on AL's row at 6, so hand-offs are None.
        "events after as_of",
        rows(ev("AL", 0, "To Do"), ev("AL", 1, "In Progress"), ev("AL", 5, "Done"),
             ev("AL", 6, None, actor="z"), ev("AM", 6, "To Do")),
        {}, h(4),
        {"AL": ex(created=0, committed=1, done=None, process=3, wait=1, flow_efficiency=0.75,
                  hand_offs=None, current_stage="dev", status="in_progress",
                  stage={"backlog": 1, "dev": 3}),
         "AM": None},
    ),
    Case(
        # as_of 4. AN: Done at 4 counts: done = 4, lead 4, dev 4, process 4.
        # AO: back to backlog at 4: current stage backlog; (DECISION) the stage the
        # item is in at as_of is a visit even with zero length, so it is a move back.
        # AP: created by an event at as_of: everything 0, efficiency empty.
        "event at as_of",
        rows(ev("AN", 0, "In Progress"), ev("AN", 4, "Done"),
             ev("AO", 0, "In Progress"), ev("AO", 4, "To Do"),
             ev("AP", 4, "To Do")),
        {}, h(4),
        {"AN": ex(created=0, committed=0, done=4, lead=4, cycle=4, process=4, wait=0,
                  flow_efficiency=1.0, reworked=False, current_stage="done", status="done",
                  stage={"dev": 4}),
         "AO": ex(created=0, committed=0, done=None, process=4, wait=0, flow_efficiency=1.0,
                  reworked=True, current_stage="backlog", status="in_progress",
                  stage={"dev": 4}),
         "AP": ex(created=4, committed=None, done=None, process=0, wait=0,
                  flow_efficiency=None, reworked=False, current_stage="backlog",
                  status="in_progress", stage={})},
    ),
    Case(
        # AQ: created given as 3 but the first event is at 1: created moves back to 1.
        # backlog [1,2) dev [2,5) done 5: lead 4, cycle 3, process 3, wait 1.
        "created given later than the first event",
        rows(ev("AQ", 1, "To Do"), ev("AQ", 2, "In Progress"), ev("AQ", 5, "Done")),
        {"AQ": h(3)}, h(6),
        {"AQ": ex(created=1, committed=2, done=5, lead=4, cycle=3, process=3, wait=1,
                  flow_efficiency=0.75, stage={"backlog": 1, "dev": 3})},
    ),
    Case(
        # AR: created 0, first event at 2: unmapped [0,2) backlog [2,3) dev [3,6)
        # done 6: lead 6, cycle 3, process 3, wait 3. Actors a, b, b: the first
        # actor is not a hand-off, a -> b is: 1.
        # AS: created equal to its first event: no unmapped time.
        "time before the first event is unmapped",
        rows(ev("AR", 2, "To Do", actor="a"), ev("AR", 3, "In Progress", actor="b"),
             ev("AR", 6, "Done", actor="b"),
             ev("AS", 1, "In Progress"), ev("AS", 3, "Done")),
        {"AR": h(0), "AS": h(1)}, h(7),
        {"AR": ex(created=0, committed=3, done=6, lead=6, cycle=3, process=3, wait=3,
                  blocked=0, flow_efficiency=0.5, reworked=False, hand_offs=1,
                  stage={"unmapped": 2, "backlog": 1, "dev": 3}),
         "AS": ex(created=1, committed=1, done=3, lead=2, cycle=2, process=2, wait=0,
                  hand_offs=0, stage={"dev": 2})},
    ),
    Case(
        # as_of 5. AT: created 1, no events: (DECISION) kept, unmapped [1,5).
        # AU: created 2, its only event is after as_of: the same, unmapped [2,5).
        # AV: created after as_of, no events: ignored.
        # AW: created given after as_of, but an event at 3 moves it back: backlog [3,5).
        "created given, no events yet",
        rows(ev("AU", 6, "In Progress"), ev("AW", 3, "To Do")),
        {"AT": h(1), "AU": h(2), "AV": h(7), "AW": h(7)}, h(5),
        {"AT": ex(created=1, committed=None, done=None, process=0, wait=4, blocked=0,
                  flow_efficiency=0.0, reworked=False, current_stage="unmapped",
                  status="in_progress", stage={"unmapped": 4}),
         "AU": ex(created=2, committed=None, process=0, wait=3, current_stage="unmapped",
                  status="in_progress", stage={"unmapped": 3}),
         "AV": None,
         "AW": ex(created=3, wait=2, current_stage="backlog", stage={"backlog": 2})},
    ),
    Case(
        # as_of 7.
        # AX: rows at 0 (a, at created: sets the previous actor, not counted), 1 (no
        # actor), 2 (b: 1), 3 ('' ignored, then b: same), 4 (a: 2), 5 Done (c: 3),
        # 6 (d, after done: not counted) -> 3. Timeline backlog [0,1) dev [1,2)
        # review [2,3) queue [3,4) review [4,5) done 5 (review -> queue is a move back).
        # AY (in progress): (0, as_of]: a -> b at 2, b -> a at 3: 2.
        # AZ (cancelled at 1): (DECISION, see reference.HAND_OFFS_CANCELLED_END)
        # counted over (created, as_of] like every item that is not done: a -> b at
        # 1, b -> c at 2: 2. (Over (created, cancelled] it would be 1.)
        # BA: no actor at all, in a stream that has actors: 0.
        "hand-offs",
        rows(ev("AX", 0, "To Do", actor="a"), ev("AX", 1, "In Progress"),
             ev("AX", 2, "In Review", actor="b"), ev("AX", 3, None, actor=""),
             ev("AX", 3, "Ready for Review", actor="b"), ev("AX", 4, "In Review", actor="a"),
             ev("AX", 5, "Done", actor="c"), ev("AX", 6, None, actor="d"),
             ev("AY", 0, "To Do", actor="a"), ev("AY", 2, "In Progress", actor="b"),
             ev("AY", 3, None, actor="a"),
             ev("AZ", 0, "To Do", actor="a"), ev("AZ", 1, "Won't Do", actor="b"),
             ev("AZ", 2, None, actor="c"),
             ev("BA", 0, "To Do"), ev("BA", 1, "Done")),
        {}, h(7),
        {"AX": ex(created=0, committed=1, done=5, lead=5, cycle=4, process=3, wait=2,
                  flow_efficiency=0.6, reworked=True, hand_offs=3,
                  stage={"backlog": 1, "dev": 1, "review": 2, "review-queue": 1}),
         "AY": ex(hand_offs=2, status="in_progress", stage={"backlog": 2, "dev": 5}),
         "AZ": ex(cancelled=1, hand_offs=2 if HAND_OFFS_CANCELLED_END == "as_of" else 1,
                  status="cancelled", wait=1, process=0,
                  stage={"backlog": 1}),
         "BA": ex(done=1, hand_offs=0)},
    ),
    Case(
        # TWO_DONE_STREAM (done -> released, both done stages).
        # BB: dev [0,2) done [2,4) released from 4: one visit to the done stages,
        # done = 2, lead 2, done and released columns 0 (after done).
        # BC: dev [0,1) released [1,2) dev [2,3) done [3,5) released 5: done = 3
        # (start of the last run), released 1 before the final done, dev 2, process 2,
        # wait 1; released -> dev is a move back.
        # BF: dev [0,1) released [1,2) done from 2: one visit to the done stages from
        # 1, so done = 1. released -> done (an earlier stage) is after done: it does
        # not count (DECISION: moves count in (created, done], like hand-offs).
        # BG: dev [0,1) released [1,2) unmapped [2,3) done 3: the unmapped time ends
        # the done visit, so done = 3. released -> (unmapped) -> done is a move back
        # at done itself: it counts. Window [0,3): dev 1, released 1, unmapped 1.
        # BH: dev [0,1) released [1,2) done [2,3) dropped 3: cancelled at 3; released
        # -> done at 2 is a move back (visits are per stage); done -> dropped is
        # forward. dev 1, released 1, done 1.
        "consecutive done stages are one visit",
        rows(ev("BB", 0, "In Progress"), ev("BB", 2, "Done"), ev("BB", 4, "Released"),
             ev("BC", 0, "In Progress"), ev("BC", 1, "Released"), ev("BC", 2, "In Progress"),
             ev("BC", 3, "Done"), ev("BC", 5, "Released"),
             ev("BF", 0, "In Progress"), ev("BF", 1, "Released"), ev("BF", 2, "Done"),
             ev("BG", 0, "In Progress"), ev("BG", 1, "Released"), ev("BG", 2, "Parked"),
             ev("BG", 3, "Done"),
             ev("BH", 0, "In Progress"), ev("BH", 1, "Released"), ev("BH", 2, "Done"),
             ev("BH", 3, "Won't Do")),
        {}, h(6),
        {"BB": ex(TWO_DONE_STREAM, created=0, committed=0, done=2, lead=2, cycle=2,
                  process=2, wait=0, flow_efficiency=1.0, reworked=False,
                  current_stage="released", status="done", stage={"dev": 2}),
         "BC": ex(TWO_DONE_STREAM, created=0, committed=0, done=3, lead=3, cycle=3,
                  process=2, wait=1, flow_efficiency=2 / 3, reworked=True,
                  current_stage="released", status="done", stage={"dev": 2, "released": 1}),
         "BF": ex(TWO_DONE_STREAM, created=0, committed=0, done=1, lead=1, cycle=1,
                  process=1, wait=0, reworked=False, current_stage="done", status="done",
                  stage={"dev": 1}),
         "BG": ex(TWO_DONE_STREAM, created=0, committed=0, done=3, lead=3, cycle=3,
                  process=1, wait=2, reworked=True, current_stage="done", status="done",
                  stage={"dev": 1, "released": 1, "unmapped": 1}),
         "BH": ex(TWO_DONE_STREAM, created=0, committed=0, done=None, cancelled=3,
                  process=1, wait=2, reworked=True, current_stage="dropped",
                  status="cancelled", stage={"dev": 1, "released": 1, "done": 1})},
        TWO_DONE_STREAM,
    ),
    Case(
        # BD: backlog [0,1) dropped [1,2) done 2: (DECISION) the cancelled stage does
        # not commit, the done stage does: committed = done = 2, cycle 0, lead 2.
        # BE: straight from unmapped to done: committed = done = 1.
        # BD also: dropped -> done is a move back in stream order (dropped is listed
        # after done), at done itself (DECISION: moves count in (created, done]):
        # reworked.
        "commitment",
        rows(ev("BD", 0, "To Do"), ev("BD", 1, "Won't Do"), ev("BD", 2, "Done"),
             ev("BE", 0, "Parked"), ev("BE", 1, "Done")),
        {}, h(3),
        {"BD": ex(created=0, committed=2, done=2, lead=2, cycle=0, status="done", reworked=True,
                  stage={"backlog": 1, "dropped": 1}),
         "BE": ex(created=0, committed=1, done=1, lead=1, cycle=0, wait=1,
                  stage={"unmapped": 1})},
    ),
    Case(
        # BJ and BK are the same item, BK with an extra row at as_of that only sets
        # the blocked flag (after done). review [4,11) dropped [11,12) done 12:
        # lead 8, cycle 8 (committed on entering review at 4), process 7, wait 1,
        # blocked 0 (the flag comes after done), reworked (dropped -> done at done).
        # The extra row must change nothing.
        "rows after done change nothing",
        rows(ev("BJ", 4, "In Review"), ev("BJ", 11, "Won't Do"), ev("BJ", 12, "Done"),
             ev("BK", 4, "In Review"), ev("BK", 11, "Won't Do"), ev("BK", 12, "Done"),
             ev("BK", 13, "", blocked=True)),
        {}, h(13),
        {item: ex(created=4, committed=4, done=12, lead=8, cycle=8, process=7, wait=1,
                  blocked=0, reworked=True, current_stage="done", status="done",
                  stage={"review": 7, "dropped": 1})
         for item in ("BJ", "BK")},
    ),
]


def check_case_result(case: Case, result: dict[str, dict]) -> list[str]:
    """Differences between `result` (item -> values) and the case's expectations."""
    problems: list[str] = []
    for item_id, expected in case.expected.items():
        if expected is None:
            if item_id in result:
                problems.append(f"{item_id}: expected absent, got {result[item_id]}")
            continue
        if item_id not in result:
            problems.append(f"{item_id}: missing")
            continue
        got = result[item_id]
        for key, want in expected.items():
            have = got.get(key, "<no such key>")
            if isinstance(want, float) and isinstance(have, float):
                same = math.isclose(want, have, rel_tol=1e-12, abs_tol=0.0)
            else:
                same = want == have and type(want) is type(have)
            if not same:
                problems.append(f"{item_id}.{key}: expected {want!r}, got {have!r}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reference_case(case: Case) -> None:
    result = reference_items(case.stream, case.events, case.created, case.as_of)
    problems = check_case_result(case, result)
    assert not problems, "\n".join(problems)


def test_case_names_are_unique() -> None:
    assert len({c.name for c in CASES}) == len(CASES)


def test_result_has_every_key() -> None:
    case = CASES[0]
    result = reference_items(case.stream, case.events, case.created, case.as_of)
    keys = {"created", "committed", "done", "cancelled", "lead", "cycle", "process", "wait",
            "blocked", "flow_efficiency", "reworked", "hand_offs", "current_stage", "status",
            "stage:unmapped", *(f"stage:{s.id}" for s in STREAM.stages)}
    assert set(result["A"]) == keys


# --------------------------------------------------------------------------
# %C&A and rolled %C&A (aggregates over completed items; reference only)


@dataclass
class PctCase:
    name: str
    events: list[RefEvent]
    item_ids: list[str]
    expected: dict[str, float | None]
    rolled: float | None
    as_of: int = h(10)


PCT_CA_CASES: list[PctCase] = [
    PctCase(
        # dev (visited by CA1, CA2, CA3, CA4, CA5, CA7; CA6's dev has zero length):
        #   CA1 clean; CA2 review -> dev after entering dev: not clean; CA3 done -> dev:
        #   not clean; CA4 dev -> (unmapped) -> backlog: a move back, but from dev
        #   itself, not from a stage after dev: clean; CA5 review -> dev is its first
        #   entry to dev, but it was sent back to dev from a later stage: not clean; CA7
        #   review-queue (a wait stage after dev) -> dev: not clean. 2 / 6 = 1/3.
        # review (visited by CA1, CA2, CA3, CA5, CA6, CA7): only CA3 (done -> dev,
        #   from after review to before it) is not clean: 5 / 6 (CA5's review -> dev
        #   comes from review itself).
        # rolled: 1/3 * 5/6 = 5/18.
        "percent complete and accurate",
        rows(ev("CA1", 0, "To Do"), ev("CA1", 1, "In Progress"), ev("CA1", 2, "In Review"),
             ev("CA1", 3, "Done"),
             ev("CA2", 0, "In Progress"), ev("CA2", 1, "In Review"), ev("CA2", 2, "In Progress"),
             ev("CA2", 3, "In Review"), ev("CA2", 4, "Done"),
             ev("CA3", 0, "In Progress"), ev("CA3", 1, "Ready for Review"),
             ev("CA3", 2, "In Review"), ev("CA3", 3, "Done"), ev("CA3", 4, "In Progress"),
             ev("CA3", 5, "In Review"), ev("CA3", 6, "Done"),
             ev("CA4", 0, "In Progress"), ev("CA4", 1, "QA Hold"), ev("CA4", 2, "To Do"),
             ev("CA4", 3, "In Progress"), ev("CA4", 4, "Done"),
             ev("CA5", 0, "To Do"), ev("CA5", 1, "In Review"), ev("CA5", 2, "In Progress"),
             ev("CA5", 3, "Done"),
             ev("CA6", 0, "To Do"), ev("CA6", 1, "In Progress"), ev("CA6", 1, "In Review"),
             ev("CA6", 2, "Done"),
             ev("CA7", 0, "In Progress"), ev("CA7", 1, "Ready for Review"),
             ev("CA7", 2, "In Progress"), ev("CA7", 3, "In Review"), ev("CA7", 4, "Done")),
        ["CA1", "CA2", "CA3", "CA4", "CA5", "CA6", "CA7"],
        {"dev": 1 / 3, "review": 5 / 6},
        5 / 18,
    ),
    PctCase(
        # Q1 clean; Q2 review-queue -> dev: not clean -> dev 1/2. Nobody visited
        # review: None, and it is left out of the rolled figure: rolled = 0.5.
        "stage nobody visited is left out of rolled %C&A",
        rows(ev("Q1", 0, "In Progress"), ev("Q1", 1, "Done"),
             ev("Q2", 0, "In Progress"), ev("Q2", 1, "Ready for Review"),
             ev("Q2", 2, "In Progress"), ev("Q2", 3, "Done")),
        ["Q1", "Q2"],
        {"dev": 0.5, "review": None},
        0.5,
    ),
    PctCase(
        # No completed item given (Q3 is still in progress): every stage None,
        # rolled None.
        "no completed items",
        rows(ev("Q3", 0, "In Progress")),
        [],
        {"dev": None, "review": None},
        None,
    ),
]


@pytest.mark.parametrize("case", PCT_CA_CASES, ids=[c.name for c in PCT_CA_CASES])
def test_reference_pct_ca(case: PctCase) -> None:
    pct = reference_pct_ca(STREAM, case.events, {}, case.as_of, case.item_ids)
    assert set(pct) == set(case.expected)
    for stage_id, want in case.expected.items():
        if want is None:
            assert pct[stage_id] is None, stage_id
        else:
            assert pct[stage_id] == pytest.approx(want, rel=1e-12), stage_id
    rolled = reference_rolled_pct_ca(pct)
    if case.rolled is None:
        assert rolled is None
    else:
        assert rolled == pytest.approx(case.rolled, rel=1e-12)


def test_pct_ca_rejects_items_not_done() -> None:
    events = rows(ev("X1", 0, "In Progress"))
    with pytest.raises(ValueError):
        reference_pct_ca(STREAM, events, {}, h(2), ["X1"])
