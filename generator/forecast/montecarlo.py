"""Monte Carlo forecasts from resampled daily throughput, vectorised over trials.

Each trial draws every future day's throughput independently and uniformly from the window's
days (zero days included) and adds them up. A (trials x days) matrix of draws is summed along
the days in chunks, so memory stays bounded however long the horizon is; there is no Python
loop over trials.

The percentile lines are exact statements about the trials (docs/forecast.md):
- how many by a date: the p% line is the largest n such that at least p% of the trials finish
  at least n items (the lower tail: the higher p, the fewer items promised);
- when will N be done: the p% line is the earliest day by which at least p% of the trials have
  finished all N items (the upper tail: the higher p, the later the date).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np

PERCENTS = (50, 70, 85, 95)
MAX_DAYS = 1096  # "when" is simulated for at most three years
MAX_CELLS = 4_000_000  # draws held in memory at once (trials x days of one chunk)


def seed_for(stream_id: str, what: str, start: int, end: int) -> int:
    """A forecast's seed: SHA-256 of (stream, what is forecast, the window's bounds in ns)."""
    text = f"{stream_id}|{what}|{start}|{end}"
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def _draws(rng: np.random.Generator, daily: np.ndarray, trials: int, days: int) -> np.ndarray:
    """(trials x days) throughputs, each day drawn uniformly from the window's days."""
    positions = rng.integers(0, len(daily), size=(trials, days), dtype=np.uint16)
    drawn: np.ndarray = daily.take(positions)  # take: a third quicker than daily[positions]
    return drawn


def _chunks(total_days: int, trials: int, first: int | None = None) -> list[int]:
    width = max(1, MAX_CELLS // max(trials, 1))
    size = min(width, first or width)
    out, left = [], total_days
    while left > 0:
        out.append(min(size, left))
        left -= out[-1]
    return out


@dataclass(frozen=True)
class HowMany:
    """Items done in `horizon_days` days, over `trials` trials: counts[n] trials finished exactly n."""

    horizon_days: int
    trials: int
    seed: int
    counts: np.ndarray
    lines: dict[int, int]  # p -> at least this many items in p% of the trials
    mean: float


@dataclass(frozen=True)
class When:
    """Days to finish `items` items: counts[d - 1] trials finished on day d (day 1 = the first
    forecast day); `never` trials had not finished within MAX_DAYS."""

    items: int
    trials: int
    seed: int
    counts: np.ndarray
    never: int
    lines: dict[
        int, int | None
    ]  # p -> the day by which p% of the trials finished; None: not within MAX_DAYS


def how_many_lines(counts: np.ndarray, trials: int) -> dict[int, int]:
    """For each p: the largest n with at least p% of the trials at n or more (integer arithmetic)."""
    below = np.concatenate(([0], np.cumsum(counts)))  # below[n] = trials finishing fewer than n
    out = {}
    for p in PERCENTS:
        allowed = (100 - p) * trials  # 100 * trials below n may be at most this
        out[p] = int(np.flatnonzero(100 * below[: len(counts)] <= allowed)[-1])
    return out


def when_lines(counts: np.ndarray, trials: int) -> dict[int, int | None]:
    """For each p: the first day d with at least p% of the trials finished by d (None if none)."""
    done_by = np.cumsum(counts)
    out: dict[int, int | None] = {}
    for p in PERCENTS:
        reached = np.flatnonzero(100 * done_by >= p * trials)
        out[p] = int(reached[0]) + 1 if len(reached) else None
    return out


def how_many(daily: np.ndarray, horizon_days: int, trials: int, seed: int) -> HowMany:
    """Items done over the next `horizon_days` days in each trial."""
    rng = np.random.default_rng(seed)
    values = np.asarray(daily, dtype=np.int32)
    totals = np.zeros(trials, dtype=np.int64)
    for days in _chunks(horizon_days, trials):
        totals += _draws(rng, values, trials, days).sum(axis=1, dtype=np.int64)
    counts = np.bincount(totals)
    return HowMany(
        horizon_days, trials, seed, counts, how_many_lines(counts, trials), float(totals.mean())
    )


def when(daily: np.ndarray, items: int, trials: int, seed: int, max_days: int = MAX_DAYS) -> When:
    """The day each trial finishes `items` items: the first day its running total reaches them."""
    if items <= 0:  # nothing to do: done on day 0 in every trial
        return When(items, trials, seed, np.zeros(0, np.int64), 0, dict.fromkeys(PERCENTS, 0))
    values = np.asarray(daily, dtype=np.int32)
    finish = np.full(trials, max_days + 1, dtype=np.int64)  # max_days + 1: not within max_days
    mean = float(values.mean()) if len(values) else 0.0
    if mean > 0:
        rng = np.random.default_rng(seed)
        # first chunk: about 1.5 times the expected days, so most runs need one chunk
        expected = int(np.ceil(1.5 * items / mean)) + 7
        # 32-bit running totals when no trial can overflow them (int64 otherwise)
        wide: type[np.signedinteger[Any]] = (
            np.int64 if int(values.max()) * max_days >= 2**31 else np.int32
        )
        running: np.ndarray = np.zeros(trials, dtype=wide)
        day = 0
        for days in _chunks(max_days, trials, first=expected):
            path: np.ndarray = np.cumsum(_draws(rng, values, trials, days), axis=1, dtype=wide)
            path += running[:, None]
            # running totals never fall: the days still short of `items` come first
            short = (path < items).sum(axis=1)
            now = (short < days) & (finish > max_days)
            finish[now] = day + short[now] + 1
            running = path[:, -1]
            day += days
            if (finish <= max_days).all():
                break
    done = finish <= max_days
    counts = np.bincount(finish[done] - 1) if done.any() else np.zeros(0, np.int64)
    never = int((~done).sum())
    return When(items, trials, seed, counts.astype(np.int64), never, when_lines(counts, trials))
