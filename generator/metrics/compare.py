"""Baseline versus current (METRICS.md section 4): change, 95% bootstrap interval, Mann–Whitney p, verdict.

`compare_periods` gives one entry per comparable metric (the `comparison` object of
metrics.json), `stage_contributions` splits the change in mean lead time by stage (the
waterfall), `ecdf` draws the overlaid distributions. docs/comparison.md explains the methods.

Each metric's bootstrap has its own numpy Generator, seeded from a SHA-256 of (stream, metric
key, both periods' bounds), so an interval depends on nothing else. Quantile replicates are
exact order statistics of multinomial resamples (drawn by a binomial descent, O(log n) per
resample); means and flow efficiency resample items, or log bins above BIN_ABOVE items.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from generator.metrics.aggregates import PeriodResult
from generator.metrics.periods import DAY_NS
from generator.parallel import run_jobs

CONFIDENCE = 0.95
ALPHA = 0.05
MIN_ITEMS = 5  # fewer values on either side: not enough data
MIN_WEEKS = 3  # fewer whole ISO weeks on either side: not enough data (throughput)
NOISE = 1e-9  # |differences| up to this (days, items a week, a fraction) are float noise
BIN_ABOVE = 10_000  # more items on either side: means and flow efficiency resample log bins
BIN_WIDTH = 0.005  # relative width of a log bin (upper edge / lower edge - 1)
CORE_COUNTS = (8, 30, 100, 1000)  # bins holding at least this many items may form the core
CORE_ERROR = 0.05 * BIN_WIDTH  # largest core skewness error allowed, relative to the mean
CHUNK = 1 << 22  # values per resample block (bounds memory)


@dataclass(frozen=True)
class _Sample:
    """One period's values for one metric.

    days: float64 values in the frame's order (days, weekly counts, or process days for flow
    efficiency); ordered: the same sorted (flow efficiency: unsorted, unused); ranked: what
    Mann–Whitney ranks, sorted (int64 ns for durations, so ties are exact); total: flow
    efficiency's process + wait days per item; distinct, before: for quantiles, the sorted
    distinct values and how many values come before each (n appended).
    """

    days: np.ndarray
    ordered: np.ndarray
    ranked: np.ndarray
    total: np.ndarray | None = None
    distinct: np.ndarray | None = None
    before: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.days)


@dataclass(frozen=True)
class _Metric:
    key: str
    label: str
    kind: str  # quantile | mean | ratio | weeks
    q: float
    direction: str  # lower | higher
    unit: str  # days | per week | ratio
    values: str  # value set (shared by metrics over the same values, e.g. lead p50 and p85)
    noun: str  # what n counts, for sentences


FIXED = (  # key, label, kind, q, direction of good, unit, value set, what n counts
    ("lead_time_p50", "Lead time p50", "quantile", 0.5, "lower", "days", "lead", "items"),
    ("lead_time_p85", "Lead time p85", "quantile", 0.85, "lower", "days", "lead", "items"),
    ("cycle_time_p50", "Cycle time p50", "quantile", 0.5, "lower", "days", "cycle", "items"),
    ("cycle_time_p85", "Cycle time p85", "quantile", 0.85, "lower", "days", "cycle", "items"),
    ("throughput_per_week", "Throughput", "weeks", 0, "higher", "per week", "weeks", "whole weeks"),
    ("flow_efficiency", "Flow efficiency", "ratio", 0, "higher", "ratio", "flow", "items"),
)


def _metrics(stage_ids: list[str], names: Mapping[str, str]) -> list[_Metric]:
    out = [_Metric(*row) for row in FIXED]
    for s in stage_ids:
        key, name = f"stage:{s}", names.get(s, s)
        where, visited = f"time in {name}", f"items that visited {name}"
        out.append(
            _Metric(
                f"{key}:mean", f"Mean {where}", "mean", 0, "lower", "days", f"{key}:all", "items"
            )
        )
        out.append(
            _Metric(
                f"{key}:p50",
                f"Median {where}",
                "quantile",
                0.5,
                "lower",
                "days",
                f"{key}:visited",
                visited,
            )
        )
    return out


# ---------------------------------------------------------------- values


def _exact_sum(ns: np.ndarray) -> int:
    """Exact sum of int64 nanoseconds (a plain int64 sum overflows past ~3,500 items of 30 days)."""
    hi, lo = np.divmod(np.asarray(ns, dtype=np.int64), np.int64(1 << 32))
    return int(hi.sum()) * (1 << 32) + int(lo.sum())


def _durations(ns: np.ndarray, ranked: np.ndarray | None = None, distinct: bool = False) -> _Sample:
    """A duration sample from int64 ns in the frame's order (`ranked`: the same sorted, if known)."""
    ranked = np.sort(ns) if ranked is None else ranked
    ordered = np.asarray(ranked, dtype=np.float64) / DAY_NS
    days = ordered if ns is ranked else np.asarray(ns, dtype=np.float64) / DAY_NS
    if not distinct:
        return _Sample(days, ordered, ranked)
    first = (
        np.concatenate(([True], ranked[1:] != ranked[:-1])) if len(ranked) else np.zeros(0, bool)
    )
    before = np.append(np.flatnonzero(first), len(ranked)).astype(np.int64)
    return _Sample(days, ordered, ranked, distinct=ordered[first], before=before)


def _ns(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A duration column as int64 ns, missing values dropped."""
    if column not in frame or not len(frame):
        return np.zeros(0, dtype=np.int64)
    values = frame[column]
    if values.dtype == np.int64:
        return values.to_numpy()
    return values.dropna().to_numpy(dtype=np.int64)


def _samples(period: PeriodResult, group: str) -> dict[str, _Sample]:
    """The value sets of one group (lead, cycle, weeks, flow or stage:<id>) in one period."""
    frame = period.completed
    if group == "weeks":
        weekly = period.weekly
        counts = (
            np.sort(weekly["completed"].to_numpy(dtype=np.float64))
            if "completed" in weekly
            else np.zeros(0)
        )
        return {group: _Sample(counts, counts, counts)}
    if group == "flow":
        p, w = _ns(frame, "process_ns"), _ns(frame, "wait_ns")
        keep = (p + w) > 0  # the items whose own flow efficiency is defined
        process = np.asarray(p[keep], dtype=np.float64) / DAY_NS
        return {
            group: _Sample(
                process,
                process,
                np.zeros(0),
                np.asarray(p[keep] + w[keep], dtype=np.float64) / DAY_NS,
            )
        }
    if group in ("lead", "cycle"):
        return {group: _durations(_ns(frame, f"{group}_ns"), distinct=True)}
    values = _ns(frame, f"stage_ns:{group.removeprefix('stage:')}")
    ranked = np.sort(values)
    visited = ranked[np.searchsorted(ranked, 0, side="right") :]  # the items that visited the stage
    return {
        f"{group}:all": _durations(values, ranked),
        f"{group}:visited": _durations(visited, visited, distinct=True),
    }


def _lerp(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """numpy's own linear interpolation for quantiles, so results equal np.quantile bit for bit."""
    diff = b - a
    return np.asarray(np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma))


def _ranks(n: int, q: float) -> tuple[int, int, float]:
    """The two order statistics (0-based) and the weight of numpy's linear q-quantile of n values."""
    virtual = (n - 1) * q
    below = min(math.floor(virtual), n - 1)
    return below, min(below + 1, n - 1), virtual - math.floor(virtual)


def quantile_sorted(ordered: np.ndarray, q: float) -> float:
    """np.quantile(values, q, method="linear") of already sorted values, without a partition."""
    below, above, gamma = _ranks(len(ordered), q)
    return float(_lerp(ordered[below], ordered[above], gamma))


def _point(metric: _Metric, sample: _Sample, period: PeriodResult) -> float | None:
    """The period's own figure, computed exactly as aggregates.py does (identical floats)."""
    if not sample.n:
        return None
    if metric.kind == "quantile":
        return quantile_sorted(sample.ordered, metric.q)
    if metric.kind == "ratio":
        frame = period.completed
        process, wait = (
            _exact_sum(frame[c].to_numpy(dtype=np.int64)) for c in ("process_ns", "wait_ns")
        )
        return float(process) / float(process + wait)
    return float(sample.days.mean())


# ---------------------------------------------------------------- resampling


def _quantile_replicates(
    rng: np.random.Generator, sample: _Sample, q: float, resamples: int
) -> np.ndarray:
    """The linear q-quantile of each of `resamples` resamples of n items drawn with replacement.

    A resample is a multinomial count per distinct value; only the two order statistics the
    quantile needs are drawn, by descending a balanced tree over the sorted distinct values.
    At a node holding N draws the count in its left half is Binomial(N, left items / items),
    the multinomial's chain rule, so the replicates have exactly the item bootstrap's
    distribution at O(log n) draws per resample.
    """
    assert sample.distinct is not None and sample.before is not None
    values, cum, n = sample.distinct, sample.before, sample.n
    below, above, gamma = _ranks(n, q)
    # per resample, for each of the two ranks: the node [lo, hi) of distinct values holding it,
    # the number of draws in that node, and the rank's position among them
    lo = np.zeros((2, resamples), dtype=np.int64)
    hi = np.full((2, resamples), len(values), dtype=np.int64)
    held = np.full((2, resamples), n, dtype=np.int64)
    rank = np.repeat(np.array([[below], [above]], dtype=np.int64), resamples, axis=1)
    # a node of one value has mid = lo, so its share is 0: it draws 0 (consuming no random
    # numbers) and the steps below leave it as it is, without a mask
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        first = cum[lo]
        left = rng.binomial(held, (cum[mid] - first) / (cum[hi] - first))
        same = (lo[0] == lo[1]) & (hi[0] == hi[1])  # both ranks in one node: one split
        np.copyto(left[1], left[0], where=same)
        go_left = rank < left
        lo = np.where(go_left, lo, mid)
        hi = np.where(go_left, mid, hi)
        rank = np.where(go_left, rank, rank - left)
        held = np.where(go_left, left, held - left)
    return _lerp(values[lo[0]], values[lo[1]], gamma)


def _item_sums(
    rng: np.random.Generator, columns: tuple[np.ndarray, ...], resamples: int
) -> list[np.ndarray]:
    """Each column's sum over `resamples` resamples of the items (one index matrix per block)."""
    n = len(columns[0])
    rows = max(1, CHUNK // n)
    sums: list[list[np.ndarray]] = [[] for _ in columns]
    for start in range(0, resamples, rows):
        drawn = rng.integers(
            0, n, size=(min(rows, resamples - start), n), dtype=np.int32 if n < 2**31 else np.int64
        )
        # numpy converts int32 indices to intp on every take: once here is a third of the time
        idx = drawn.astype(np.intp, copy=False)
        for out, col in zip(sums, columns, strict=True):
            out.append(np.take(col, idx).sum(axis=1))
    return [np.concatenate(out) for out in sums]


def log_bins(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's bin (0..bins-1) and each bin's count: log-spaced bins of relative width
    BIN_WIDTH on a fixed grid (edges (1 + BIN_WIDTH)^k), by sign; zero has its own bin."""
    magnitude = np.floor(
        np.log(np.where(values != 0, np.abs(values), 1.0)) / math.log1p(BIN_WIDTH)
    ).astype(np.int64)
    code = np.where(values > 0, 3 * magnitude + 1, np.where(values < 0, 3 * magnitude + 2, 0))
    code -= code.min() if len(code) else 0
    all_counts = np.bincount(code)
    occupied = np.flatnonzero(all_counts)
    lookup = np.zeros(len(all_counts), dtype=np.int64)
    lookup[occupied] = np.arange(len(occupied))
    return lookup[code], all_counts[occupied]


def _moments(n: float, s1: float, s2: float, s3: float) -> tuple[float, float, float]:
    """Mean, variance and third central moment from power sums of deviations from a shift."""
    m1 = s1 / n
    var = max(s2 / n - m1 * m1, 0.0)
    return m1, var, s3 / n - 3 * m1 * s2 / n + 2 * m1**3


def _core(
    counts: np.ndarray, sums: list[tuple[np.ndarray, np.ndarray, np.ndarray]], means: list[float]
) -> np.ndarray:
    """The bins whose draws may be summed as one normal (a mask over bins; maybe none).

    The core is the bins holding at least k items, for the smallest k in CORE_COUNTS whose
    error bound holds for every column: summing the core's draws as a normal ignores its
    skewness, which moves the 2.5% and 97.5% points of a resample mean by about
    0.47 |m3| / (variance x n) (Cornish–Fisher); that must stay under CORE_ERROR x |mean|.
    The bins left out are the sparse ones, where the long tails are: they stay exact.
    """
    n = int(counts.sum())
    for k in CORE_COUNTS:
        core = counts >= k
        size = float(counts[core].sum())
        if not size:
            continue
        bounds = []
        for (s1, s2, s3), mean in zip(sums, means, strict=True):
            _, var, m3 = _moments(
                size, float(s1[core].sum()), float(s2[core].sum()), float(s3[core].sum())
            )
            bounds.append(var == 0 or 0.4733 * abs(m3) / (var * n) <= CORE_ERROR * abs(mean))
        if all(bounds):
            return core
    return np.zeros(len(counts), dtype=bool)


def _binned_sums(
    rng: np.random.Generator, key: np.ndarray, num: np.ndarray, resamples: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sums of `key` and `num` over `resamples` resamples of n items, the items binned by `key`.

    A resample draws one multinomial count per bin (shares = the bins' shares of the items).
    A bin adds count x its mean key and count x its mean num, plus a normal term with the exact
    variance of num summed over that many draws from the bin (key varies by at most BIN_WIDTH
    within a bin). The core's bins (see _core) are one cell of the multinomial, whose draws are
    summed as a bivariate normal with the core items' exact means and covariance.
    """
    n = len(key)
    inverse, counts = log_bins(key)
    columns = (key,) if num is key else (key, num)
    means = [float(c.mean()) for c in columns]
    devs = [c - m for c, m in zip(columns, means, strict=True)]
    sums = [
        (np.bincount(inverse, d), np.bincount(inverse, d * d), np.bincount(inverse, d * d * d))
        for d in devs
    ]
    cross = np.bincount(inverse, devs[0] * devs[-1])
    core = _core(counts, sums, means)
    rest = ~core
    size = counts[rest]
    mean_key = means[0] + sums[0][0][rest] / size
    mean_num = means[-1] + sums[-1][0][rest] / size
    var_num = np.maximum(sums[-1][1][rest] / size - (sums[-1][0][rest] / size) ** 2, 0.0)
    n_core = int(counts[core].sum())
    mu_k = mu_n = l00 = l10 = l11 = 0.0
    if n_core:
        dk, var_k, _ = _moments(n_core, *(float(s[core].sum()) for s in sums[0]))
        dn, var_n, _ = _moments(n_core, *(float(s[core].sum()) for s in sums[-1]))
        mu_k, mu_n = means[0] + dk, means[-1] + dn
        cov = float(cross[core].sum()) / n_core - dk * dn
        l00 = math.sqrt(var_k)
        l10 = cov / l00 if l00 > 0 else 0.0
        l11 = math.sqrt(max(var_n - l10 * l10, 0.0))
    shares = np.concatenate(([n_core], size)) / n
    rows = max(1, CHUNK // len(shares))
    key_out, num_out = [], []
    for start in range(0, resamples, rows):
        drawn = rng.multinomial(n, shares, size=min(rows, resamples - start)).astype(np.float64)
        z = rng.standard_normal((len(drawn), 3))
        in_core, outside = drawn[:, 0], drawn[:, 1:]
        root = np.sqrt(in_core)
        key_out.append(outside @ mean_key + in_core * mu_k + root * l00 * z[:, 0])
        spread = np.sqrt(outside @ var_num) * z[:, 2]
        num_out.append(
            outside @ mean_num + spread + in_core * mu_n + root * (l10 * z[:, 0] + l11 * z[:, 1])
        )
    return np.concatenate(key_out), np.concatenate(num_out)


def _replicates(
    metric: _Metric, sample: _Sample, rng: np.random.Generator, resamples: int, binned: bool
) -> np.ndarray:
    """The metric over each of `resamples` bootstrap resamples of one period's values."""
    if metric.kind == "quantile":
        return _quantile_replicates(rng, sample, metric.q, resamples)
    if metric.kind == "ratio":
        assert sample.total is not None
        if binned:
            total, process = _binned_sums(rng, sample.total, sample.days, resamples)
            return np.asarray(np.clip(process, 0.0, total) / total)
        process, total = _item_sums(rng, (sample.days, sample.total), resamples)
        return np.asarray(process / total)
    if binned:
        return _binned_sums(rng, sample.ordered, sample.ordered, resamples)[1] / sample.n
    return _item_sums(rng, (sample.ordered,), resamples)[0] / sample.n


def seed_for(stream_id: str, key: str, baseline: PeriodResult, current: PeriodResult) -> int:
    """One metric's bootstrap seed: SHA-256 of (stream, metric key, both periods' bounds)."""
    bounds = (baseline.span.start, baseline.span.end, current.span.start, current.span.end)
    text = "\x1f".join([stream_id, key, *(str(int(v)) for v in bounds)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def _interval(
    metric: _Metric, base: _Sample, cur: _Sample, seed: int, resamples: int, binned: bool
) -> tuple[float, float]:
    """Percentile bootstrap interval of current - baseline, each period resampled independently."""
    rng = np.random.default_rng(seed)
    before = _replicates(metric, base, rng, resamples, binned)  # baseline first, then current
    after = _replicates(metric, cur, rng, resamples, binned)
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(after - before, [tail, 1 - tail], method="linear")
    return float(low), float(high)


def preload_statistics() -> None:
    """Start importing scipy.stats (over a second) in a background thread while the build reads its
    data, so the first comparison does not wait for it; _p_value's own import then finds it loaded."""
    threading.Thread(
        target=importlib.import_module, args=("scipy.stats",), name="vsm-preload-scipy", daemon=True
    ).start()


def _p_value(base: _Sample, cur: _Sample) -> float | None:
    """Two-sided Mann–Whitney U (scipy); the inputs are sorted, which only speeds up its ranking."""
    from scipy.stats import mannwhitneyu  # imported here: scipy.stats costs ~1 s to import

    p = float(mannwhitneyu(base.ranked, cur.ranked, alternative="two-sided").pvalue)
    return p if math.isfinite(p) else None


# ---------------------------------------------------------------- the comparison


def _verdict(
    metric: _Metric,
    n_base: int,
    n_cur: int,
    change: float | None,
    low: float | None,
    high: float | None,
    p: float | None,
) -> str:
    """METRICS.md 4: enough values, then an interval excluding 0 and (where there is one) p < 0.05."""
    minimum = MIN_WEEKS if metric.kind == "weeks" else MIN_ITEMS
    if n_base < minimum or n_cur < minimum or change is None or low is None or high is None:
        return "not enough data"
    if metric.kind != "ratio" and (p is None or p >= ALPHA):
        return "no significant change"
    # the interval must exclude 0 on the side of the change: a percentile interval that
    # excluded its own estimate would not support it
    up, down = low > NOISE and change > NOISE, high < -NOISE and change < -NOISE
    if not (up or down):
        return "no significant change"
    return "improved" if up == (metric.direction == "higher") else "worse"


def compare_periods(
    stream_id: str,
    baseline: PeriodResult,
    current: PeriodResult,
    stage_ids: list[str],
    resamples: int = 2000,
    *,
    stage_names: Mapping[str, str] | None = None,
    workers: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Baseline versus current for every comparable metric, in the metrics.json key order.

    Keys: lead_time_p50, lead_time_p85, cycle_time_p50, cycle_time_p85, throughput_per_week,
    flow_efficiency, then stage:<id>:mean and stage:<id>:p50 per stage id. Each value:
    baseline, current, change, relative_change, ci_low, ci_high, p_value, verdict, direction,
    n_baseline, n_current, method, unit, sentence; throughput also has summary_baseline and
    summary_current (the periods' own throughput_per_week). Durations in days; throughput as
    the mean completed count over whole ISO weeks; flow efficiency as a fraction.
    `stage_names` (id -> display name) words the stage sentences; `workers` threads share the
    work (default: the CPUs, at most 4), and the result never depends on it.
    """
    metrics = _metrics(list(stage_ids), stage_names or {})
    names = list(dict.fromkeys(m.values for m in metrics))
    groups = list(
        dict.fromkeys(name.removesuffix(":all").removesuffix(":visited") for name in names)
    )
    built = run_jobs(
        [partial(_samples, period, group) for group in groups for period in (baseline, current)],
        workers,
    )
    samples = {(side % 2, name): s for side, found in enumerate(built) for name, s in found.items()}

    def both(name: str) -> tuple[_Sample, _Sample]:
        return samples[(0, name)], samples[(1, name)]

    tested = [name for name in names if name != "flow" and min(s.n for s in both(name)) >= 1]
    with_data = [m for m in metrics if min(s.n for s in both(m.values)) >= 1]
    binned = {
        m.key: m.kind in ("mean", "ratio") and max(s.n for s in both(m.values)) > BIN_ABOVE
        for m in metrics
    }
    jobs: list[Callable[[], Any]] = [partial(_p_value, *both(name)) for name in tested]
    jobs += [
        partial(
            _interval,
            m,
            *both(m.values),
            seed_for(stream_id, m.key, baseline, current),
            resamples,
            binned[m.key],
        )
        for m in with_data
    ]
    results = run_jobs(jobs, workers)
    p_values = dict(zip(tested, results[: len(tested)], strict=True))
    intervals = dict(zip([m.key for m in with_data], results[len(tested) :], strict=True))

    out: dict[str, dict[str, Any]] = {}
    for m in metrics:
        base, cur = both(m.values)
        before, after = _point(m, base, baseline), _point(m, cur, current)
        change = after - before if before is not None and after is not None else None
        low, high = intervals.get(m.key, (None, None))
        p = p_values.get(m.values)
        entry: dict[str, Any] = {
            "baseline": before,
            "current": after,
            "change": change,
            "relative_change": change / before if change is not None and before else None,
            "ci_low": low,
            "ci_high": high,
            "p_value": p,
            "verdict": _verdict(m, base.n, cur.n, change, low, high, p),
            "direction": m.direction,
            "n_baseline": base.n,
            "n_current": cur.n,
            "method": "weeks" if m.kind == "weeks" else ("binned" if binned[m.key] else "items"),
            "unit": m.unit,
        }
        entry["sentence"] = sentence(m.label, m.unit, entry, m.noun)
        if m.kind == "weeks":
            entry["summary_baseline"] = baseline.summary.get("throughput_per_week")
            entry["summary_current"] = current.summary.get("throughput_per_week")
        out[m.key] = entry
    return out


# ---------------------------------------------------------------- sentences

MINUS = "\u2212"


def _magnitude(x: float) -> str:
    """|x| with one decimal; a non-zero value that would read 0.0 gets two significant digits."""
    if abs(x) < 1e-6:  # float noise (NOISE in days, hours, points): shown as zero
        return "0.0"
    text = f"{abs(x):.1f}"
    if float(text) == 0:
        text = np.format_float_positional(abs(x), precision=2, fractional=False, trim="-")
    return text


def _plain(x: float) -> str:
    return (MINUS if x < 0 and _magnitude(x) != "0.0" else "") + _magnitude(x)


def _signed(x: float) -> str:
    text = _magnitude(x)
    return text if text == "0.0" else ("+" if x > 0 else MINUS) + text


def _hours(*days: float) -> bool:
    return all(abs(d) < 1 for d in days)


def _value(unit: str, x: float) -> str:
    """One value with its unit: durations under a day in hours, ratios as percentages."""
    if unit == "ratio":
        return f"{_plain(100 * x)}%"
    if unit == "per week":
        return f"{_plain(x)} items a week"
    return f"{_plain(x * 24)} hours" if _hours(x) else f"{_plain(x)} days"


def _from_to(unit: str, a: float, b: float) -> str:
    if unit == "ratio":
        return f"from {_value(unit, a)} to {_value(unit, b)}"
    if unit == "per week":
        return f"from {_plain(a)} to {_value(unit, b)}"
    if _hours(a) == _hours(b):
        return f"from {_value(unit, a).split(' ')[0]} to {_value(unit, b)}"
    return f"from {_value(unit, a)} to {_value(unit, b)}"


def _range(unit: str, low: float, high: float) -> str:
    if unit == "ratio":
        return f"{_signed(100 * low)} to {_signed(100 * high)} percentage points"
    if unit == "per week":
        return f"{_signed(low)} to {_signed(high)} items a week"
    if _hours(low, high):
        return f"{_signed(24 * low)} to {_signed(24 * high)} hours"
    return f"{_signed(low)} to {_signed(high)} days"


def format_p(p: float) -> str:
    """'p = 0.021', 'p < 0.001': two significant digits, more when rounding would cross ALPHA."""
    if p < 0.001:
        return "p < 0.001"
    for digits in range(2, 8):
        text = np.format_float_positional(p, precision=digits, fractional=False, trim="-")
        if (float(text) < ALPHA) == (p < ALPHA):
            return f"p = {text}"
    return f"p = {p!r}"


def _items(n: int, noun: str) -> str:
    return noun.replace("items", "item").replace("weeks", "week") if n == 1 else noun


def sentence(label: str, unit: str, entry: dict[str, Any], noun: str = "items") -> str:
    """One plain sentence for a comparison entry; a change is called an improvement only when its verdict is."""
    before, after, change = entry["baseline"], entry["current"], entry["change"]
    low, high, p, verdict = entry["ci_low"], entry["ci_high"], entry["p_value"], entry["verdict"]
    n_base, n_cur = entry["n_baseline"], entry["n_current"]
    if verdict == "not enough data":
        need = MIN_WEEKS if unit == "per week" else MIN_ITEMS
        counts = f"{n_base} and {n_cur} {noun}; at least {need} each are needed"
        if before is None or after is None:
            return f"{label} cannot be compared: not enough data (baseline {n_base} {_items(n_base, noun)}, current {n_cur}; at least {need} each are needed)."
        return f"{label} was {_value(unit, before)} in the baseline and {_value(unit, after)} in the current period, but there is not enough data to compare ({counts})."
    test = format_p(p) if p is not None else None
    test_text = f"Mann–Whitney {test}" if test else None
    if verdict in ("improved", "worse"):
        details = []
        if unit == "per week":
            details.append(f"weekly means over {n_base} and {n_cur} whole weeks")
        if unit == "ratio":
            details.append(f"{_signed(100 * change)} percentage points")
        elif entry["relative_change"] is not None:
            shorter, longer = ("fewer", "more") if unit == "per week" else ("shorter", "longer")
            pct = abs(entry["relative_change"]) * 100
            details.append(
                f"{f'{pct:.0f}' if pct >= 0.5 else 'under 1'}% {shorter if change < 0 else longer}"
            )
        details.append(f"95% interval of the change {_range(unit, low, high)}")
        support = test_text or "the interval excludes zero; flow efficiency has no p-value"
        word = "improvement" if verdict == "improved" else "worsening"
        return f"{label} {'fell' if change < 0 else 'rose'} {_from_to(unit, before, after)} ({'; '.join(details)}), a significant {word} ({support})."
    tail = f"95% interval {_range(unit, low, high)}" + (f"; {test_text}" if test_text else "")
    if abs(change) <= NOISE or _value(unit, before) == _value(unit, after):
        return f"{label} stayed at about {_value(unit, before)} ({tail.replace('95% interval', '95% interval of the change', 1)}), no significant change."
    moved = f"{label} {'fell' if change < 0 else 'rose'} {_from_to(unit, before, after)}"
    excludes = low > NOISE or high < -NOISE
    if test and not excludes and p < ALPHA:  # say which half of the rule failed
        return f"{moved}, but the change is not significant: its 95% interval, {_range(unit, low, high)}, includes zero (Mann–Whitney {test})."
    if test and excludes:
        return f"{moved}, but the change is not significant: Mann–Whitney {test} is not below {ALPHA} (95% interval {_range(unit, low, high)})."
    return f"{moved}, but the change is not significant ({tail})."


# ---------------------------------------------------------------- waterfall and distributions


def stage_contributions(
    baseline: PeriodResult, current: PeriodResult, stage_ids: list[str]
) -> list[dict[str, Any]]:
    """Each stage's change in mean time over completed items; the changes sum to the change in mean lead time.

    One row per stage: stage_ids first, then any other stage column of the frames (every stage
    counts, or the sum would not close), then `unmapped`. Columns: stage, kind, baseline_days,
    current_days (means over all completed items, 0 for items that skipped the stage),
    change_days, share_of_change (change / change in mean lead time; None when that is 0).
    """
    found = [
        c.removeprefix("stage_ns:")
        for frame in (baseline.completed, current.completed)
        for c in frame.columns
        if c.startswith("stage_ns:")
    ]
    order = list(
        dict.fromkeys(
            [s for s in stage_ids if s != "unmapped"]
            + [s for s in found if s != "unmapped"]
            + ["unmapped"]
        )
    )

    def mean(period: PeriodResult, column: str) -> float | None:
        frame = period.completed
        if not len(frame):
            return None
        if column not in frame:
            return 0.0
        return float((frame[column].to_numpy(dtype=np.float64) / DAY_NS).mean())

    lead_before, lead_after = mean(baseline, "lead_ns"), mean(current, "lead_ns")
    lead_change = (
        lead_after - lead_before if lead_before is not None and lead_after is not None else None
    )
    rows = []
    for sid in order:
        before, after = mean(baseline, f"stage_ns:{sid}"), mean(current, f"stage_ns:{sid}")
        change = after - before if before is not None and after is not None else None
        kind = (
            (baseline.summary.get("stages") or current.summary.get("stages") or {})
            .get(sid, {})
            .get("kind", "unmapped" if sid == "unmapped" else None)
        )
        rows.append(
            {
                "stage": sid,
                "kind": kind,
                "baseline_days": before,
                "current_days": after,
                "change_days": change,
                "share_of_change": change / lead_change
                if change is not None and lead_change
                else None,
            }
        )
    return rows


def ecdf(values_days: Any, max_points: int = 500) -> tuple[np.ndarray, np.ndarray]:
    """Empirical CDF (x ascending, y = share of values <= x), at most `max_points` points.

    Points are taken at evenly spaced ranks, each moved to the last of its tied values so that
    y is the exact ECDF at x; the smallest and largest values are always kept.
    """
    try:
        v = np.asarray(values_days, dtype=np.float64).ravel()
    except (TypeError, ValueError):  # pd.NA and other missing markers
        v = pd.to_numeric(pd.Series(list(values_days), dtype="object"), errors="coerce").to_numpy(
            dtype=np.float64
        )
    v = np.sort(v[np.isfinite(v)])
    n = len(v)
    if not n:
        return np.zeros(0), np.zeros(0)
    picks = np.unique(np.round(np.linspace(0, n - 1, min(n, max_points))).astype(np.int64))
    last = np.unique(np.searchsorted(v, v[picks], side="right") - 1)
    return v[last], (last + 1) / n


# ---------------------------------------------------------------- intervals for other modules


def _tails(replicates: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail], method="linear")
    return float(low), float(high)


def quantile_interval(
    values_ns: np.ndarray, q: float, seed: int, resamples: int = 2000
) -> tuple[float, float] | None:
    """95% percentile-bootstrap interval (days) of numpy's linear q-quantile of int64 ns values:
    `resamples` item resamples, drawn as the comparisons draw them (exact order statistics)."""
    values = np.asarray(values_ns, dtype=np.int64)
    if not len(values):
        return None
    sample = _durations(values, distinct=True)
    return _tails(_quantile_replicates(np.random.default_rng(seed), sample, q, resamples))


def ratio_interval(
    process_ns: np.ndarray, wait_ns: np.ndarray, seed: int, resamples: int = 2000
) -> tuple[float, float] | None:
    """95% bootstrap interval of Σ process / Σ (process + wait) over resampled items (flow
    efficiency, as the comparison resamples it: items, or log bins above BIN_ABOVE items)."""
    p, w = np.asarray(process_ns, dtype=np.int64), np.asarray(wait_ns, dtype=np.int64)
    keep = (p + w) > 0
    if not keep.any():
        return None
    process = np.asarray(p[keep], dtype=np.float64) / DAY_NS
    total = np.asarray(p[keep] + w[keep], dtype=np.float64) / DAY_NS
    metric = _Metric(*FIXED[5])  # flow_efficiency: a ratio of sums
    sample = _Sample(process, process, np.zeros(0), total)
    rng = np.random.default_rng(seed)
    return _tails(_replicates(metric, sample, rng, resamples, len(process) > BIN_ABOVE))
