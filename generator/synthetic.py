"""Seeded synthetic value-stream event logs in the canonical CSV format.

`generate(profile, seed)` simulates `profile.n_items` work items flowing through
the profile's states and returns the canonical `events.csv` and `items.csv`
tables as pandas frames of strings; `write_stream_data` writes them as files.
The same profile and seed give the same bytes on every machine.

Everything is vectorised over items: the profile is first compiled into a
fixed *plan* of steps (state visits in flow order, rework loops, detours to
other states, reopen, close and cancel), each with a per-item mask of the items
that take it; the timeline is then built step by step with numpy, every step
processing all items at once. Only loops over steps (a few dozen) remain.

Time is simulated as local wall-clock seconds in the profile's time zone, so
that people act in office hours (Monday to Friday, 08:00-18:00, say) whatever
the season; timestamps are written with the UTC offset of that wall time
(`offset`) or without one (`naive`, read by the site in the stream's zone).
No event falls between 00:00 and 06:00 local time unless a role acts then, so
naive timestamps do not land in a DST gap or in the repeated hour (if one
would, it is moved an hour on).

Command line::

    python -m generator.synthetic OUT_DIR --profile development|support|bench --items N --seed S
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.render.csv_writer import csv_chunks

EVENT_COLUMNS: tuple[str, ...] = ("item_id", "timestamp", "state", "blocked", "actor")
ITEM_COLUMNS: tuple[str, ...] = ("item_id", "type", "title", "created", "url")
DEFAULT_SEED = 20261001

DAY = 86_400
_EPOCH = dt.date(1970, 1, 1)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


# --------------------------------------------------------------------------- profile


@dataclass(frozen=True)
class Hours:
    """When a role acts, in local wall time: events are moved forward into this window."""

    start: float = 0.0  # hour of day
    end: float = 24.0
    weekdays_only: bool = False

    @property
    def always(self) -> bool:
        return self.start <= 0 and self.end >= 24 and not self.weekdays_only


ANY_TIME = Hours()
OFFICE = Hours(8.0, 18.0, True)


@dataclass(frozen=True)
class Role:
    """Who makes a change: each item gets one member of each role for its whole life."""

    name: str
    members: tuple[str, ...] = ()  # actor texts; empty: the actor column stays empty
    hours: Hours = ANY_TIME
    distinct_from: str = ""  # another role with the same members (a reviewer is not the author)


@dataclass(frozen=True)
class State:
    """A tracker state on the main path, in flow order."""

    name: str
    kind: Literal["wait", "active"]
    mean_days: float  # mean of the lognormal time in the state
    sigma: float = 0.8  # lognormal shape (log-space standard deviation)
    role: str = ""  # the role whose member moves the item into this state
    skip: float = 0.0  # probability that an item skips the state
    size_weight: float | None = None  # exponent of the item size; default 1 (active), 0.3 (wait)

    @property
    def size_exponent(self) -> float:
        if self.size_weight is not None:
            return self.size_weight
        return 1.0 if self.kind == "active" else 0.3


@dataclass(frozen=True)
class ItemType:
    name: str
    weight: float
    size: float = 1.0  # multiplies the durations of the item's states
    openers: tuple[str, ...] = ()  # first words of titles; default: the profile's


@dataclass(frozen=True)
class Rework:
    """After a visit to `from_state`, the item is sent back to `to_state` and flows again."""

    from_state: str
    to_state: str
    probability: float
    role: str = ""  # who sends it back; default: the role of from_state


@dataclass(frozen=True)
class Detour:
    """A visit to another state (blocked, on hold, unmapped...) and back.

    `after` names the main-path states it can follow (probability per visit);
    an empty `after` means the item may start in this state, before the first
    main state.
    """

    state: str
    after: tuple[str, ...]
    probability: float
    mean_days: float
    sigma: float = 0.8
    role: str = ""  # who moves it there; default: the role of the state it follows
    return_role: str = ""  # who moves it back; default: the role of the state it returns to
    repeat: float = 0.0  # probability of a second detour right after the first one


@dataclass(frozen=True)
class Blocking:
    """The `blocked` flag set and cleared during a visit to one of `states`."""

    states: tuple[str, ...]
    probability: float  # per visit
    mean_days: float
    sigma: float = 0.8


@dataclass(frozen=True)
class Reopen:
    """A done item moved back to `to_state` after a while; it flows to done again."""

    probability: float
    to_state: str
    mean_days: float  # time in done before it is reopened
    role: str = ""


@dataclass(frozen=True)
class Cancel:
    """An item abandoned: after a visit to one of the `after` states it moves to `state`."""

    state: str
    probability: float
    after: tuple[tuple[str, float], ...]  # (main state, weight)
    role: str = ""


@dataclass(frozen=True)
class Close:
    """A done item moved to a second done state after `days` (e.g. auto-close)."""

    state: str
    days: float
    role: str = ""


@dataclass(frozen=True)
class ProcessChange:
    """From `date` on, visits entered in the named states last `factor` times as long."""

    date: dt.date
    label: str
    factors: tuple[tuple[str, float], ...]


@dataclass(frozen=True)
class Profile:
    """Everything that describes a synthetic stream."""

    name: str
    key_prefix: str  # item keys are f"{key_prefix}-{number}"
    url_prefix: str  # item URL = url_prefix + key
    timezone: str  # IANA zone the wall times are in
    timestamp_style: Literal["offset", "naive"]
    start: dt.date  # first arrival day
    # last day written: later events are left out (items still in progress); None: keep all
    end: dt.date | None
    n_items: int
    states: tuple[State, ...]  # the main path, in flow order (not the done states)
    done: tuple[tuple[str, float], ...]  # done state(s) an item finishes in, with weights
    done_role: str
    item_types: tuple[ItemType, ...]
    roles: tuple[Role, ...]
    title_openers: tuple[str, ...]
    title_objects: tuple[str, ...]
    title_contexts: tuple[str, ...] = ("",)  # appended to titles; start with a space or are empty
    special_titles: tuple[str, ...] = ()  # each given to one random item (escaping tests)
    arrival_days: int | None = None  # items arrive over this many days; default: start..end
    weekend_rate: float = 0.05  # arrival rate on Saturdays and Sundays relative to weekdays
    holiday_rate: float = 0.3  # arrival rate from 24 December to 1 January
    first_key: int = 1
    size_sigma: float = 0.5  # spread of item sizes (lognormal, mean 1)
    blocking: Blocking | None = None
    rework: tuple[Rework, ...] = ()
    detours: tuple[Detour, ...] = ()
    reopen: Reopen | None = None
    cancel: Cancel | None = None
    close: Close | None = None
    change: ProcessChange | None = None

    def state_names(self) -> tuple[str, ...]:
        """Every state the profile can write, main path first."""
        names: list[str] = [s.name for s in self.states]
        extra = [d.state for d in self.detours] + [name for name, _ in self.done]
        if self.close is not None:
            extra.append(self.close.state)
        if self.cancel is not None:
            extra.append(self.cancel.state)
        for name in extra:
            if name not in names:
                names.append(name)
        return tuple(names)


# --------------------------------------------------------------------------- ready-made profiles

_DEV_OBJECTS = (
    "coupon code field",
    "payment retry flow",
    "basket summary",
    "address lookup",
    "invoice PDF",
    "checkout timeout",
    "currency rounding",
    "gift card balance",
    "order history page",
    "shipping estimate",
    "saved cards list",
    "3-D Secure challenge",
    "tax calculation",
    "refund webhook",
    "express checkout button",
    "order confirmation e-mail",
    "delivery slot picker",
    "basket merge on login",
    "promo banner",
    "fraud score check",
)
_DEV_CONTEXTS = (
    "",
    "",
    "",
    " on mobile",
    " for guest users",
    " in the EU region",
    " after login",
    " for returning customers",
    " behind a feature flag",
    " in the admin panel",
    " for B2B accounts",
)
_DEV_TYPES = (
    ItemType(
        "Story",
        0.52,
        1.0,
        ("Add", "Allow editing the", "Show", "Support", "Redesign", "Personalise"),
    ),
    ItemType(
        "Bug", 0.25, 0.7, ("Fix", "Crash in", "Wrong value in", "Error when loading", "Flaky")
    ),
    ItemType(
        "Tech Debt", 0.10, 1.1, ("Refactor", "Remove legacy", "Upgrade library behind", "Migrate")
    ),
    ItemType(
        "Risk",
        0.07,
        1.2,
        ("Assess", "Pen-test findings for", "Mitigate outage risk in", "PCI review of"),
    ),
    ItemType(
        "Sub-task",
        0.06,
        0.5,
        ("Write tests for", "Update docs for", "Add tracking to", "Review copy for"),
    ),
)

DEVELOPMENT = Profile(
    name="development",
    key_prefix="DEV",
    url_prefix="https://tracker.example.com/browse/",
    timezone="Europe/Amsterdam",
    timestamp_style="offset",
    start=dt.date(2025, 4, 1),
    end=dt.date(2026, 9, 30),
    n_items=1_900,
    first_key=1001,
    states=(
        State("Open", "wait", 8.0, 0.8, role="pm"),
        State("Selected for Development", "wait", 4.0, 0.8, role="pm"),
        State("In Progress", "active", 3.5, 0.7, role="dev"),
        State("Ready for Review", "wait", 8.5, 0.6, role="dev"),
        State("In Review", "active", 0.8, 0.6, role="reviewer"),
        State("Ready for QA", "wait", 2.0, 0.8, role="reviewer", skip=0.15),
        State("In QA", "active", 1.2, 0.6, role="qa", skip=0.15),
        State("Ready to Deploy", "wait", 2.5, 0.6, role="qa"),
    ),
    done=(("Done", 0.85), ("Closed", 0.15)),
    done_role="release",
    item_types=_DEV_TYPES,
    roles=(
        Role("pm", ("pm-a", "pm-b", "po-c"), OFFICE),
        Role("dev", tuple(f"dev-{c}" for c in "abcdefgh"), OFFICE),
        Role("reviewer", tuple(f"dev-{c}" for c in "abcdefgh"), OFFICE, distinct_from="dev"),
        Role("qa", ("qa-a", "qa-b", "qa-c"), OFFICE),
        Role("release", ("release-bot",), OFFICE),
    ),
    title_openers=("Improve",),
    title_objects=_DEV_OBJECTS,
    title_contexts=_DEV_CONTEXTS,
    special_titles=(
        'Show "Save & continue" on the <b>payment</b> step',
        "Coupon codes containing & or < are rejected",
        "Basket total < 0 after a partial refund",
        "Escape ' and \" in search suggestions",
        "Strip <script> tags from gift messages",
        "Tax line shows &amp; instead of &",
    ),
    weekend_rate=0.03,
    blocking=Blocking(("In Progress", "In Review", "In QA", "Ready to Deploy"), 0.035, 3.0, 0.7),
    rework=(
        Rework("In Review", "In Progress", 0.15, role="reviewer"),
        Rework("In QA", "In Progress", 0.12, role="qa"),
    ),
    detours=(
        Detour("Triage", (), 0.03, 1.5, 0.6, role="pm"),
        Detour("On Hold", ("Selected for Development",), 0.02, 10.0, 0.6, role="pm"),
        Detour("Blocked", ("In Progress", "In QA"), 0.012, 4.0, 0.6),
    ),
    reopen=Reopen(0.003, "In Progress", 6.0, role="qa"),
    cancel=Cancel(
        "Won't Do",
        0.07,
        (
            ("Open", 0.6),
            ("Selected for Development", 0.2),
            ("In Progress", 0.15),
            ("In Review", 0.05),
        ),
        role="pm",
    ),
    change=ProcessChange(
        dt.date(2026, 5, 4), "Review rota introduced", (("Ready for Review", 0.4),)
    ),
)
"""Software development, feature request to production: 18 months to 2026-09-30."""

_SUP_OBJECTS = (
    "customer portal",
    "invoice download",
    "order tracking page",
    "password reset e-mail",
    "mobile app login",
    "payment confirmation",
    "delivery address form",
    "loyalty points balance",
    "subscription renewal",
    "API token page",
    "two-factor setup",
    "return label",
)
_SUP_CONTEXTS = (
    "",
    "",
    " since this morning",
    " for business accounts",
    " on Android",
    " after the last update",
    " in the EU shop",
    " (urgent)",
)
_SUP_TYPES = (
    ItemType(
        "Incident", 0.28, 0.6, ("Cannot access", "Error when opening", "Timeout on", "Outage of")
    ),
    ItemType(
        "Question", 0.38, 0.7, ("How do I change the", "Question about the", "Where can I find the")
    ),
    ItemType(
        "Bug report",
        0.20,
        1.4,
        ("Wrong total in", "Typo in", "Broken link in", "Incorrect date on"),
    ),
    ItemType(
        "Change request",
        0.11,
        2.2,
        ("Please add export to", "Extend the", "Add a second contact to"),
    ),
    ItemType("Sub-task", 0.03, 0.6, ("Follow-up:", "Check logs for", "Update macro for")),
)

SUPPORT = Profile(
    name="support",
    key_prefix="SUP",
    url_prefix="https://support.example.com/tickets/",
    timezone="Europe/Berlin",
    timestamp_style="naive",
    start=dt.date(2025, 10, 1),
    end=dt.date(2026, 9, 30),
    n_items=2_600,
    first_key=4001,
    states=(
        State("New", "wait", 0.1, 0.8, role="customer"),
        State("In Triage", "active", 0.04, 0.6, role="dispatch", size_weight=0.0),
        State("Waiting for Agent", "wait", 0.8, 0.9, role="dispatch"),
        State("In Progress", "active", 0.35, 0.9, role="agent"),
    ),
    done=(("Resolved", 1.0),),
    done_role="agent",
    item_types=_SUP_TYPES,
    roles=(
        Role("customer", ("customer",), Hours(6.0, 23.0, False)),
        Role("dispatch", ("dispatch-a", "dispatch-b"), OFFICE),
        Role("agent", tuple(f"agent-{i:02d}" for i in range(1, 13)), Hours(8.0, 19.0, True)),
        Role("bot", ("auto-close",), Hours(6.0, 7.0, False)),
    ),
    title_openers=("Problem with the",),
    title_objects=_SUP_OBJECTS,
    title_contexts=_SUP_CONTEXTS,
    special_titles=(
        'Invoice shows "&lt;none&gt;" as company name',
        'Login fails: "password < 8 characters"',
        "Order link <broken> in confirmation e-mail",
        "Refund for R&D department account",
        "<script>alert(1)</script> typed into contact form",
    ),
    weekend_rate=0.35,
    detours=(
        Detour(
            "Waiting for Customer",
            ("In Progress",),
            0.45,
            1.8,
            0.9,
            return_role="customer",
            repeat=0.3,
        ),
        Detour("Pending Vendor", ("In Progress",), 0.03, 4.0, 0.6),
        Detour("Escalated", ("In Progress",), 0.025, 1.5, 0.7),
    ),
    reopen=Reopen(0.04, "In Progress", 2.0, role="customer"),
    cancel=Cancel(
        "Rejected",
        0.06,
        (("New", 0.3), ("In Triage", 0.6), ("Waiting for Agent", 0.1)),
        role="dispatch",
    ),
    close=Close("Closed", 7.0, role="bot"),
)
"""Customer support, ticket to resolution: 12 months to 2026-09-30, naive Berlin wall times."""


def bench_profile(n_items: int) -> Profile:
    """A plain, large stream for benchmarks: exactly 7 events per item over about two years.

    Every item goes Open -> Selected for Development -> In Progress -> In Review
    -> In QA -> Ready to Deploy -> Done (states the development stream maps),
    timestamps are all `YYYY-MM-DDTHH:MM:SS+00:00`, blocked and actor are empty.
    Nothing is cut at an end date, so the last items' events run past
    2026-09-30 (a site computed as of 2026-10-01 ignores those).
    """
    return Profile(
        name="bench",
        key_prefix="BENCH",
        url_prefix="https://tracker.example.com/browse/",
        timezone="UTC",
        timestamp_style="offset",
        start=dt.date(2024, 10, 1),
        end=None,
        arrival_days=730,
        n_items=n_items,
        states=(
            State("Open", "wait", 6.0, 0.9),
            State("Selected for Development", "wait", 3.0, 0.8),
            State("In Progress", "active", 3.0, 0.7),
            State("In Review", "active", 1.0, 0.6),
            State("In QA", "active", 1.0, 0.6),
            State("Ready to Deploy", "wait", 2.0, 0.6),
        ),
        done=(("Done", 1.0),),
        done_role="",
        item_types=_DEV_TYPES[:4],
        roles=(),
        title_openers=("Improve",),
        title_objects=_DEV_OBJECTS,
        title_contexts=_DEV_CONTEXTS,
        weekend_rate=0.3,
        holiday_rate=1.0,
    )


PROFILES: dict[str, Profile] = {"development": DEVELOPMENT, "support": SUPPORT}


# --------------------------------------------------------------------------- the plan


@dataclass
class _Step:
    """One potential state visit, for every item at once."""

    state: I64  # state code per item
    mask: BOOL  # items that take this step
    mean: F64 | float  # mean days in the state (before size, change and scale)
    sigma: F64 | float  # lognormal shape
    size_exponent: float
    role: int  # index into the roles; -1: no actor
    change_factor: float = 1.0
    scale: float = 1.0
    block: BOOL | None = None  # items whose blocked flag goes on and off during this visit


class _Planner:
    """Compiles a profile into steps; every random draw happens in a fixed order."""

    def __init__(self, profile: Profile, rng: np.random.Generator, n: int) -> None:
        self.p = profile
        self.rng = rng
        self.n = n
        self.names = profile.state_names()
        self.code = {name: i for i, name in enumerate(self.names)}
        self.role_index = {r.name: i for i, r in enumerate(profile.roles)}
        self.steps: list[_Step] = []
        self.factors = dict(profile.change.factors) if profile.change else {}

    def role(self, name: str) -> int:
        return self.role_index.get(name, -1)

    def _full(self, name: str) -> I64:
        return np.full(self.n, self.code[name], dtype=np.int64)

    def add_state(self, state: State, mask: BOOL, role: str = "", scale: float = 1.0) -> _Step:
        step = _Step(
            state=self._full(state.name),
            mask=mask,
            mean=state.mean_days,
            sigma=state.sigma,
            size_exponent=state.size_exponent,
            role=self.role(role or state.role),
            change_factor=self.factors.get(state.name, 1.0),
            scale=scale,
        )
        self.steps.append(step)
        return step

    def add_detour(self, detour: Detour, after: State | None, mask: BOOL) -> None:
        role = detour.role or (after.role if after else "")
        self.steps.append(
            _Step(
                state=self._full(detour.state),
                mask=mask,
                mean=detour.mean_days,
                sigma=detour.sigma,
                size_exponent=0.0,
                role=self.role(role),
                change_factor=self.factors.get(detour.state, 1.0),
            )
        )
        if after is not None:  # back to where it was, for a shorter while
            self.add_state(after, mask, role=detour.return_role or after.role, scale=0.5)

    def build(self) -> list[_Step]:
        p, rng, n = self.p, self.rng, self.n
        states = p.states
        skip = {s.name: rng.random(n) < s.skip for s in states}
        cancelled = np.zeros(n, dtype=bool)
        cut = np.full(n, -1, dtype=np.int64)
        if p.cancel is not None:
            cancelled = rng.random(n) < p.cancel.probability
            after_names = [name for name, _ in p.cancel.after]
            weights = np.array([w for _, w in p.cancel.after], dtype=float)
            picks = rng.choice(len(after_names), size=n, p=weights / weights.sum())
            position = {s.name: i for i, s in enumerate(states)}
            cut_pos = np.array([position[name] for name in after_names], dtype=np.int64)[picks]
            cut = np.where(cancelled, cut_pos, -1)
        alive = np.ones(n, dtype=bool)

        for detour in p.detours:
            if not detour.after:
                self.add_detour(detour, None, rng.random(n) < detour.probability)

        for i, state in enumerate(states):
            step = self.add_state(state, alive & ~skip[state.name])
            alive = alive & ~(cut == i)
            visited = step.mask & alive
            for detour in p.detours:
                if state.name in detour.after:
                    first = visited & (rng.random(n) < detour.probability)
                    self.add_detour(detour, state, first)
                    if detour.repeat > 0:
                        self.add_detour(detour, state, first & (rng.random(n) < detour.repeat))
            for rework in p.rework:
                if rework.from_state != state.name:
                    continue
                loop = visited & (rng.random(n) < rework.probability)
                start = next(j for j, s in enumerate(states) if s.name == rework.to_state)
                for j in range(start, i + 1):
                    again = states[j]
                    role = (rework.role or state.role) if j == start else again.role
                    scale = 0.5 if again.kind == "active" else 1.0
                    self.add_state(again, loop & ~skip[again.name], role=role, scale=scale)

        done_names = [name for name, _ in p.done]
        done_w = np.array([w for _, w in p.done], dtype=float)
        done_code = np.array([self.code[name] for name in done_names], dtype=np.int64)[
            rng.choice(len(done_names), size=n, p=done_w / done_w.sum())
        ]
        reopened = np.zeros(n, dtype=bool)
        if p.reopen is not None:
            reopened = alive & (rng.random(n) < p.reopen.probability)
        close_days = p.close.days if p.close is not None else 1.0
        # time in done: until the reopen (spread out) or until the close (almost fixed)
        dwell = np.where(reopened, p.reopen.mean_days if p.reopen else 1.0, close_days)
        done_sigma = np.where(reopened, 0.5, 0.05)
        self.steps.append(_Step(done_code, alive, dwell, done_sigma, 0.0, self.role(p.done_role)))
        if p.reopen is not None:
            start = next(j for j, s in enumerate(states) if s.name == p.reopen.to_state)
            for j in range(start, len(states)):
                again = states[j]
                role = p.reopen.role if j == start else again.role
                self.add_state(again, reopened & ~skip[again.name], role=role, scale=0.7)
            self.steps.append(
                _Step(done_code, reopened, close_days, 0.05, 0.0, self.role(p.done_role))
            )
        if p.close is not None:
            close = p.close
            self.steps.append(
                _Step(self._full(close.state), alive, 1.0, 0.1, 0.0, self.role(close.role))
            )
        if p.cancel is not None:
            self.steps.append(
                _Step(
                    self._full(p.cancel.state), cancelled, 1.0, 0.1, 0.0, self.role(p.cancel.role)
                )
            )

        if p.blocking is not None:
            for step in self.steps:
                name = self.names[int(step.state[0])]
                if name in p.blocking.states:
                    step.block = step.mask & (rng.random(n) < p.blocking.probability)
        return self.steps


# --------------------------------------------------------------------------- simulation
#
# People act in their role's hours. Time in a state is drawn in calendar days
# and then spent on the role's working clock (so that a 3-day mean stays 3
# calendar days on average): an event never falls outside the role's hours,
# and events spread evenly over those hours instead of piling up on Monday
# mornings.


def _clock_of(hours: Hours) -> tuple[int, int]:
    start = round(hours.start * 3600)
    return start, max(round(hours.end * 3600) - start, 60)


def _to_work(t: I64, hours: Hours) -> I64:
    """Wall seconds -> seconds on the role's working clock (off hours: the next working instant)."""
    start, length = _clock_of(hours)
    day = t // DAY
    within: I64 = np.clip(t - day * DAY - start, 0, length)
    if not hours.weekdays_only:
        return day * length + within
    monday_days = day + 3  # days since Monday 1969-12-29
    weekday = monday_days % 7
    before = (monday_days // 7) * 5 + np.minimum(weekday, 5)
    return before * length + np.where(weekday >= 5, 0, within)


def _from_work(b: I64, hours: Hours) -> I64:
    """Seconds on the role's working clock -> wall seconds."""
    start, length = _clock_of(hours)
    k = b // length
    rest = b - k * length
    day = (k // 5) * 7 + k % 5 - 3 if hours.weekdays_only else k
    return day * DAY + start + rest


def _advance(t: I64, seconds: I64 | F64, hours: Hours) -> I64:
    """The wall time `seconds` of calendar-equivalent time after t, in the role's hours."""
    if hours.always:
        return t + np.maximum(np.rint(seconds).astype(np.int64), 1)
    _, length = _clock_of(hours)
    ratio = length / DAY * (5 / 7 if hours.weekdays_only else 1.0)
    step = np.maximum(np.rint(np.asarray(seconds, dtype=float) * ratio).astype(np.int64), 1)
    return _from_work(_to_work(t, hours) + step, hours)


def _days(date: dt.date) -> int:
    return (date - _EPOCH).days


def _lognormal(rng: np.random.Generator, sigma: F64 | float, n: int) -> F64:
    """Lognormal factors with mean 1."""
    return np.exp(rng.normal(-sigma * sigma / 2, sigma, size=n))


def _arrivals(p: Profile, rng: np.random.Generator, n: int, first_hours: Hours) -> I64:
    """Creation instants (local wall seconds), sorted: weekday/weekend/holiday weighted."""
    if p.arrival_days is not None:
        span = p.arrival_days
    elif p.end is not None:
        span = (p.end - p.start).days + 1
    else:
        span = 365
    days = _days(p.start) + np.arange(span, dtype=np.int64)
    weekday = (days + 3) % 7
    weights = np.where(weekday >= 5, p.weekend_rate, 1.0)
    dates = pd.to_datetime(days, unit="D")
    holiday = ((dates.month == 12) & (dates.day >= 24)) | ((dates.month == 1) & (dates.day == 1))
    weights = np.where(np.asarray(holiday), weights * p.holiday_rate, weights)
    day = rng.choice(days, size=n, p=weights / weights.sum())
    if first_hours.always:
        return np.sort(day * DAY + rng.integers(0, DAY, size=n))
    _, length = _clock_of(first_hours)
    # busiest a little before the middle of the working day
    shape = rng.normal(0.45 * length, 0.25 * length, size=n)
    within = np.clip(shape, 0, length - 1).astype(np.int64)
    return np.sort(_from_work(_to_work(day * DAY, first_hours) + within, first_hours))


@dataclass
class _Events:
    item: I64
    t: I64  # local wall seconds
    state: I64
    blocked: I64  # -1 unchanged, 0 false, 1 true
    actor: I64  # -1 none
    seq: I64


def _members(
    p: Profile, rng: np.random.Generator, planner: _Planner
) -> tuple[list[I64], list[str]]:
    """Per role, each item's actor code; and the actor texts."""
    n = planner.n
    names: list[str] = []
    member: list[I64] = []
    for role in p.roles:
        base = len(names)
        names.extend(role.members)
        k = len(role.members)
        if k == 0:
            member.append(np.full(n, -1, dtype=np.int64))
            continue
        pick = rng.integers(0, k, size=n)
        other = planner.role(role.distinct_from)
        if 0 <= other < len(member) and k > 1:
            pick = (member[other] - base + 1 + rng.integers(0, k - 1, size=n)) % k
        member.append(base + pick)
    # equal texts in two roles (author and reviewer) share one code
    unique = list(dict.fromkeys(names))
    remap = np.array([unique.index(name) for name in names] or [0], dtype=np.int64)
    return [np.where(m >= 0, remap[np.maximum(m, 0)], -1) for m in member], unique


def _simulate(p: Profile, seed: int) -> tuple[_Events, I64, I64, list[str], list[str]]:
    """The events, each item's created time and type, and the state and actor names."""
    rng = np.random.default_rng(seed)
    n = p.n_items
    if n < 1:
        raise ValueError("a profile needs at least one item")
    hours = [r.hours for r in p.roles]
    planner = _Planner(p, rng, n)
    first_role = p.states[0].role
    for detour in p.detours:
        if not detour.after:
            first_role = detour.role or first_role
    first = planner.role(first_role)
    created = _arrivals(p, rng, n, hours[first] if first >= 0 else ANY_TIME)
    if p.timestamp_style == "naive":
        created = np.sort(_exists_once(created, p.timezone))
    type_w = np.array([t.weight for t in p.item_types], dtype=float)
    item_type = rng.choice(len(p.item_types), size=n, p=type_w / type_w.sum()).astype(np.int64)
    size = np.array([t.size for t in p.item_types], dtype=float)[item_type] * _lognormal(
        rng, p.size_sigma, n
    )
    member, actor_names = _members(p, rng, planner)
    steps = planner.build()
    change_t = _days(p.change.date) * DAY if p.change is not None else None

    t_last = created.copy()  # the item's latest event
    d_last = np.zeros(n, dtype=np.int64)  # calendar seconds from it to the next one
    started = np.zeros(n, dtype=bool)
    parts: list[tuple[I64, I64, I64, int, I64, int]] = []
    none = np.full(n, -1, dtype=np.int64)

    def emit(mask: BOOL, t: I64, state: I64, flag: int, actor: I64, seq: int) -> None:
        idx = np.flatnonzero(mask)
        parts.append((idx, t[idx], state[idx], flag, actor[idx], seq))

    for k, step in enumerate(steps):
        m = step.mask
        h = hours[step.role] if step.role >= 0 else ANY_TIME
        actor = member[step.role] if step.role >= 0 else none
        entry = np.where(started, _advance(t_last, d_last, h), created)
        days = np.asarray(step.mean, dtype=float) * _lognormal(rng, step.sigma, n) * step.scale
        days = days * size**step.size_exponent
        if change_t is not None and step.change_factor != 1.0:
            days = np.where(entry >= change_t, days * step.change_factor, days)
        dur = np.maximum(np.rint(days * DAY).astype(np.int64), 60)
        emit(m, entry, step.state, -1, actor, 3 * k)
        last = entry
        if step.block is not None and p.blocking is not None and step.block.any():
            b = p.blocking
            u = rng.uniform(0.1, 0.7, size=n)
            on = _advance(entry, u * dur, h)
            off = _advance(on, np.maximum(b.mean_days * _lognormal(rng, b.sigma, n) * DAY, 3600), h)
            emit(step.block, on, step.state, 1, actor, 3 * k + 1)
            emit(step.block, off, step.state, 0, actor, 3 * k + 2)
            last = np.where(step.block, off, entry)
            dur = np.where(step.block, np.maximum(((1 - u) * dur).astype(np.int64), 60), dur)
        t_last = np.where(m, last, t_last)
        d_last = np.where(m, dur, d_last)
        started |= m

    def joined(i: int) -> I64:
        return np.concatenate(
            [np.broadcast_to(np.asarray(part[i], dtype=np.int64), part[0].shape) for part in parts]
        )

    events = _Events(*(joined(i) for i in range(6)))
    if p.timestamp_style == "naive":
        events.t = _exists_once(events.t, p.timezone)
    if p.end is not None:
        keep = events.t < (_days(p.end) + 1) * DAY
        events = _Events(*(getattr(events, f.name)[keep] for f in dataclasses.fields(_Events)))
    return events, created, item_type, list(planner.names), actor_names


# --------------------------------------------------------------------------- text


def _civil(days: I64) -> tuple[I64, I64, I64]:
    """Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def _utc_offsets(wall: I64, timezone: str) -> tuple[I64, I64]:
    """(wall seconds, offset seconds): wall times that do not exist move forward by the gap."""
    if timezone == "UTC" or len(wall) == 0:
        return wall, np.zeros(len(wall), dtype=np.int64)
    uniq, inverse = np.unique(wall, return_inverse=True)
    local = pd.DatetimeIndex(uniq.astype("datetime64[s]")).tz_localize(
        timezone, ambiguous=np.ones(len(uniq), dtype=bool), nonexistent="shift_forward"
    )
    utc = local.tz_convert("UTC").tz_localize(None).as_unit("s").asi8
    offset = np.asarray(local.tz_localize(None).as_unit("s").asi8 - utc, dtype=np.int64)
    fixed = np.asarray(utc + offset, dtype=np.int64)
    return fixed[inverse], offset[inverse]


def _exists_once(wall: I64, timezone: str) -> I64:
    """Move naive wall times out of a DST gap or repeated hour (an hour on), so they read exactly."""
    if timezone == "UTC" or len(wall) == 0:
        return wall
    uniq, inverse = np.unique(wall, return_inverse=True)
    local = pd.DatetimeIndex(uniq.astype("datetime64[s]")).tz_localize(
        timezone, ambiguous="NaT", nonexistent="NaT"
    )
    bad = np.asarray(local.isna())[inverse]
    return np.where(bad, wall + 3600, wall)


def _digits(value: I64, width: int) -> npt.NDArray[np.uint8]:
    """ASCII digits of non-negative integers, zero-padded: shape (len(value), width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (48 + (value[:, None] // powers) % 10).astype(np.uint8)


_CLOCK: npt.NDArray[np.uint8] | None = None


def _clock() -> npt.NDArray[np.uint8]:
    """`HH:MM:SS` for every second of a day, shape (86400, 8)."""
    global _CLOCK
    if _CLOCK is None:
        sec = np.arange(DAY, dtype=np.int64)
        table = np.full((DAY, 8), ord(":"), dtype=np.uint8)
        table[:, 0:2] = _digits(sec // 3600, 2)
        table[:, 3:5] = _digits((sec // 60) % 60, 2)
        table[:, 6:8] = _digits(sec % 60, 2)
        _CLOCK = table
    return _CLOCK


def _format_times(wall: I64, p: Profile) -> pa.Array:
    """ISO 8601 text for local wall seconds, with `+hh:mm` (offset style) or without (naive).

    Built as fixed-width bytes from small lookup tables (one row per day of the
    span, per second of the day and per distinct offset), so millions of values
    take a fraction of a second.
    """
    n = len(wall)
    offset: I64 | None = None
    if p.timestamp_style == "offset":
        wall, offset = _utc_offsets(wall, p.timezone)
    width = 19 + (6 if offset is not None else 0)
    out = np.empty((n, width), dtype=np.uint8)
    if n:
        day = wall // DAY
        first = int(day.min())
        span = np.arange(first, int(day.max()) + 1, dtype=np.int64)
        y, m, d = _civil(span)
        dates = np.full((len(span), 11), ord("-"), dtype=np.uint8)
        dates[:, 0:4] = _digits(y, 4)
        dates[:, 5:7] = _digits(m, 2)
        dates[:, 8:10] = _digits(d, 2)
        dates[:, 10] = ord("T")
        out[:, 0:11] = np.take(dates, day - first, axis=0)
        out[:, 11:19] = np.take(_clock(), wall - day * DAY, axis=0)
        if offset is not None:
            kinds, which = np.unique(offset, return_inverse=True)
            mag = np.abs(kinds) // 60
            signs = np.full((len(kinds), 6), ord(":"), dtype=np.uint8)
            signs[:, 0] = np.where(kinds < 0, ord("-"), ord("+"))
            signs[:, 1:3] = _digits(mag // 60, 2)
            signs[:, 4:6] = _digits(mag % 60, 2)
            out[:, 19:25] = np.take(signs, which, axis=0)
    kind = pa.string() if n * width < 2**31 else pa.large_string()
    offsets = np.arange(n + 1, dtype=np.int32 if kind == pa.string() else np.int64) * width
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(out)])


def _dictionary(names: Sequence[str], codes: I64) -> pa.DictionaryArray:
    """names[codes], dictionary-encoded; negative codes are nulls."""
    indices = pa.array(codes.astype(np.int32), mask=codes < 0, type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(names) or [""], type=pa.string()))


def _titles(p: Profile, rng: np.random.Generator, item_type: I64) -> pa.Array:
    n = len(item_type)
    openers: list[str] = []
    start: list[int] = []
    count: list[int] = []
    for t in p.item_types:
        words = t.openers or p.title_openers
        start.append(len(openers))
        count.append(len(words))
        openers.extend(words)
    first = np.array(start)[item_type] + (rng.random(n) * np.array(count)[item_type]).astype(
        np.int64
    )
    obj = rng.integers(0, len(p.title_objects), size=n)
    ctx = rng.integers(0, len(p.title_contexts), size=n)
    # openers and objects are joined by a space; contexts carry their own
    title = pc.binary_join_element_wise(
        _dictionary(openers, first).dictionary_decode(),
        pc.binary_join_element_wise(
            _dictionary(p.title_objects, obj).dictionary_decode(),
            _dictionary(p.title_contexts, ctx).dictionary_decode(),
            "",
        ),
        " ",
    )
    if p.special_titles and n >= len(p.special_titles):
        chosen = rng.choice(n, size=len(p.special_titles), replace=False)
        mask = np.zeros(n, dtype=bool)
        mask[chosen] = True
        # replace_with_mask fills the masked slots in item order
        values = [p.special_titles[i] for i in np.argsort(chosen)]
        title = pc.replace_with_mask(title, pa.array(mask), pa.array(values, type=pa.string()))
    return title


def _sort_order(t: I64, item: I64, seq: I64) -> I64:
    """Row order by instant, then item, then the item's own order."""
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    t0 = t - t.min()
    n_item = int(item.max()) + 1
    n_seq = int(seq.max()) + 1
    if float(t0.max() + 1) * n_item * n_seq < 2**62:
        key = (t0 * n_item + item) * n_seq + seq  # unique, so any sort gives the same order
        return np.argsort(key)
    return np.lexsort((seq, item, t))


def _tables(p: Profile, seed: int) -> tuple[pa.Table, pa.Table]:
    """The events and items tables; repeated texts stay dictionary-encoded."""
    events, created, item_type, state_names, actor_names = _simulate(p, seed)
    n = len(created)
    numbers = pc.cast(pa.array(p.first_key + np.arange(n, dtype=np.int64)), pa.string())
    keys = pc.binary_join_element_wise(f"{p.key_prefix}-", numbers, "")
    rng = np.random.default_rng([seed, 1])  # text draws never move the timeline
    items = pa.table(
        {
            "item_id": keys,
            "type": _dictionary([t.name for t in p.item_types], item_type),
            "title": _titles(p, rng, item_type),
            "created": _format_times(created, p),
            "url": pc.binary_join_element_wise(p.url_prefix, keys, ""),
        }
    )
    order = _sort_order(events.t, events.item, events.seq)
    table = pa.table(
        {
            "item_id": pa.DictionaryArray.from_arrays(
                pa.array(events.item[order].astype(np.int32)), keys
            ),
            "timestamp": _format_times(events.t[order], p),
            "state": _dictionary(state_names, events.state[order]),
            "blocked": _dictionary(("false", "true"), events.blocked[order]),
            "actor": _dictionary(actor_names, events.actor[order]),
        }
    )
    return table, items


def _decoded(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.fill_null(array, "")


def _to_frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: _decoded(table[name]).to_pandas() for name in table.column_names})


def generate(profile: Profile, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, items) as frames of strings (empty = ""), sorted by timestamp, then item."""
    events, items = _tables(profile, seed)
    return _to_frame(events), _to_frame(items)


# --------------------------------------------------------------------------- CSV


def _write_csv(table: pa.Table, path: Path) -> None:
    """Minimal quoting, `\\n` line ends, UTF-8 (generator/render/csv_writer.py)."""
    with path.open("wb") as out:
        for part in csv_chunks(table):
            out.write(part)


def write_stream_data(folder: Path, profile: Profile, seed: int) -> None:
    """Write folder/events.csv and folder/items.csv (UTF-8, \\n, no index), same bytes per seed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    events, items = _tables(profile, seed)
    _write_csv(events, folder / "events.csv")
    _write_csv(items, folder / "items.csv")


# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.synthetic",
        description="Write a synthetic events.csv and items.csv into OUT_DIR.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument(
        "--profile", choices=["development", "support", "bench"], default="development"
    )
    parser.add_argument(
        "--items", type=int, default=None, help="number of items (default: the profile's)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    if args.items is not None and args.items < 1:
        parser.error("--items must be at least 1")
    if args.profile == "bench":
        profile = bench_profile(args.items or 100_000)
    else:
        profile = PROFILES[args.profile]
        if args.items is not None:
            profile = dataclasses.replace(profile, n_items=args.items)
    began = time.perf_counter()
    write_stream_data(args.out_dir, profile, args.seed)
    took = time.perf_counter() - began
    sys.stderr.write(
        f"{profile.name}: {profile.n_items} items written to {args.out_dir} in {took:.1f} s\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
