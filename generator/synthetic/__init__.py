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

The package: `profile` (what a stream is made of), `profiles` (the ready-made
ones), `simulation` (the plan and the timelines), `localtime` (wall clock and
time zones in numpy), `tables` (the CSV tables and files), `cli` (the
command line)::

    python -m generator.synthetic OUT_DIR --profile development|support|bench --items N --seed S
"""

from __future__ import annotations

from generator.synthetic.cli import main
from generator.synthetic.profile import (
    DEFAULT_SEED,
    EVENT_COLUMNS,
    ITEM_COLUMNS,
    Blocking,
    Cancel,
    Close,
    Detour,
    Hours,
    ItemType,
    ProcessChange,
    Profile,
    Reopen,
    Rework,
    Role,
    State,
)
from generator.synthetic.profiles import DEVELOPMENT, PROFILES, SUPPORT, bench_profile
from generator.synthetic.tables import generate, write_stream_data

__all__ = [
    "DEFAULT_SEED",
    "DEVELOPMENT",
    "EVENT_COLUMNS",
    "ITEM_COLUMNS",
    "PROFILES",
    "SUPPORT",
    "Blocking",
    "Cancel",
    "Close",
    "Detour",
    "Hours",
    "ItemType",
    "ProcessChange",
    "Profile",
    "Reopen",
    "Rework",
    "Role",
    "State",
    "bench_profile",
    "generate",
    "main",
    "write_stream_data",
]
