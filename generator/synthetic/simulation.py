"""The simulation: a profile compiled into a plan of steps, then timelines built step by step.

Every step handles all items at once with numpy, in local wall-clock seconds
and office hours (see the package docstring).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.synthetic.localtime import exists_once
from generator.synthetic.profile import (
    ANY_TIME,
    BOOL,
    DAY,
    EPOCH,
    F64,
    I64,
    Detour,
    Hours,
    Profile,
    State,
)

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
    return (date - EPOCH).days


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


def simulate(p: Profile, seed: int) -> tuple[_Events, I64, I64, list[str], list[str]]:
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
        created = np.sort(exists_once(created, p.timezone))
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
        events.t = exists_once(events.t, p.timezone)
    if p.end is not None:
        keep = events.t < (_days(p.end) + 1) * DAY
        events = _Events(*(getattr(events, f.name)[keep] for f in dataclasses.fields(_Events)))
    return events, created, item_type, list(planner.names), actor_names
