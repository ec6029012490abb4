"""What a synthetic stream is made of.

Working hours, roles, states and item types, and what bends the flow: rework,
detours, blocking, reopening, cancelling, closing and a process change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

EVENT_COLUMNS: tuple[str, ...] = ("item_id", "timestamp", "state", "blocked", "actor")
ITEM_COLUMNS: tuple[str, ...] = ("item_id", "type", "title", "created", "url")
DEFAULT_SEED = 20261001

DAY = 86_400
EPOCH = dt.date(1970, 1, 1)

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
