"""Monte Carlo forecasts, back-tests and the SLE (generator/forecast/, docs/forecast.md).

Expected values are worked out by hand in the comments, or by an independent method: the exact
distribution of a sum of i.i.d. days is the daily distribution convolved with itself once per
day (numpy.convolve), which the simulation must match within its sampling error. The bound used
is Dvoretzky-Kiefer-Wolfowitz: with T trials, the largest gap between the simulated and the true
distribution function exceeds sqrt(ln(2 / alpha) / (2 T)) with probability at most alpha;
alpha = 0.001 gives 0.0195 at 10,000 trials.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from generator.forecast import backtest as bt
from generator.forecast import montecarlo as mc
from generator.forecast.history import OPEN, Completions, DayGrid, Inputs, daily_throughput
from generator.forecast.plan import forecast_at
from generator.forecast.sle import risk_of, service_level
from generator.forecast.window import stability
from generator.metrics.aggregates import wip_at
from generator.metrics.periods import span
from generator.metrics.stream import compute_stream
from generator.sources.collect import read_stream
from generator.validate.schema import HowMany, WhenDone
from generator.validate.stream import load_project

TRIALS = 10_000
DKW = math.sqrt(math.log(2 / 0.001) / (2 * TRIALS))  # 0.0195
# a skewed daily distribution, 84 days: many slow days, a few big batches
SKEWED = np.array([0] * 20 + [1] * 25 + [2] * 18 + [3] * 10 + [5] * 6 + [8] * 5)


def exact_sum_pmf(daily: np.ndarray, days: int) -> np.ndarray:
    """P(sum of `days` i.i.d. draws from the window's days = n), by repeated convolution."""
    one = np.bincount(daily) / len(daily)
    out = np.array([1.0])
    for _ in range(days):
        out = np.convolve(out, one)
    return out


# ---------------------------------------------------------------- the simulation, by hand


def test_a_constant_throughput_gives_a_point_forecast() -> None:
    # every window day completed 2: every trial finishes 2 a day
    daily = np.full(84, 2)
    many = mc.how_many(daily, 10, TRIALS, seed=1)
    assert many.lines == {50: 20, 70: 20, 85: 20, 95: 20}
    assert np.flatnonzero(many.counts).tolist() == [20] and many.counts[20] == TRIALS
    # 7 items: running totals 2, 4, 6, 8 -> every trial finishes on day 4
    when = mc.when(daily, 7, TRIALS, seed=2)
    assert when.lines == {50: 4, 70: 4, 85: 4, 95: 4}
    assert when.never == 0 and when.counts.tolist() == [0, 0, 0, TRIALS]


def test_a_window_of_zeros_and_ones_by_hand() -> None:
    # half the days 0, half 1; over 2 days: P(0) = 1/4, P(1) = 1/2, P(2) = 1/4
    # P(at least 1) = 3/4 < 85% -> the 85% and 95% lines are 0; P(at least 2) = 1/4 < 50% -> 50%, 70% are 1
    many = mc.how_many(np.array([0, 1] * 42), 2, TRIALS, seed=3)
    assert many.lines == {50: 1, 70: 1, 85: 0, 95: 0}
    at_least_one = 1 - many.counts[0] / TRIALS
    assert abs(at_least_one - 0.75) < 4 * math.sqrt(0.75 * 0.25 / TRIALS)


def test_lines_are_exact_statements_about_the_trials() -> None:
    # 10 trials finishing 0..9 items: "at least n in p% of trials"
    counts = np.ones(10, dtype=np.int64)
    # 85%: 100 * trials below n may be at most 15 * 10 = 150 -> 1 trial below -> n = 1
    # 50%: at most 5 below -> n = 5; 70%: 3 below -> 3; 95%: 0.5 -> 0 below -> 0
    assert mc.how_many_lines(counts, 10) == {50: 5, 70: 3, 85: 1, 95: 0}
    # finishing on days 1..10, one trial each: 85% finished by day 9 (ceil(8.5)), 95% by day 10
    assert mc.when_lines(counts, 10) == {50: 5, 70: 7, 85: 9, 95: 10}


def test_how_many_matches_the_exact_distribution() -> None:
    horizon = 10
    pmf = exact_sum_pmf(SKEWED, horizon)
    many = mc.how_many(SKEWED, horizon, TRIALS, seed=11)
    size = max(len(pmf), len(many.counts))
    simulated = np.pad(many.counts / TRIALS, (0, size - len(many.counts)))
    exact = np.pad(pmf, (0, size - len(pmf)))
    assert np.abs(np.cumsum(simulated) - np.cumsum(exact)).max() < DKW
    at_least = 1 - np.concatenate(([0.0], np.cumsum(exact)))  # at_least[n] = P(S >= n)
    for p, n in many.lines.items():
        # the simulated line is a line of the exact distribution, within the sampling error
        assert at_least[n] >= p / 100 - DKW
        assert at_least[n + 1] < p / 100 + DKW
    assert abs(many.mean - horizon * SKEWED.mean()) < 0.05 * horizon * SKEWED.mean()


def test_when_matches_the_exact_distribution() -> None:
    items = 25
    # P(done by day d) = P(sum of d days >= items)
    done_by = np.array([1 - exact_sum_pmf(SKEWED, d)[:items].sum() for d in range(1, 41)])
    when = mc.when(SKEWED, items, TRIALS, seed=12)
    simulated = np.cumsum(when.counts)[:40] / TRIALS
    simulated = np.pad(simulated, (0, 40 - len(simulated)), constant_values=simulated[-1])
    assert np.abs(simulated - done_by).max() < DKW
    for p, d in when.lines.items():
        assert d is not None
        assert done_by[d - 1] >= p / 100 - DKW  # done by the line's day
        assert d == 1 or done_by[d - 2] < p / 100 + DKW  # not yet the day before


def test_long_horizons_are_simulated_in_chunks_without_changing_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    # 2,000 trials and at most 20,000 draws at once: chunks of 10 days
    monkeypatch.setattr(mc, "MAX_CELLS", 20_000)
    assert mc._chunks(35, 2_000) == [10, 10, 10, 5]
    horizon = 35
    pmf = exact_sum_pmf(SKEWED, horizon)
    many = mc.how_many(SKEWED, horizon, 2_000, seed=13)
    size = max(len(pmf), len(many.counts))
    gap = np.abs(np.cumsum(np.pad(many.counts / 2_000, (0, size - len(many.counts)))) - np.cumsum(np.pad(pmf, (0, size - len(pmf)))))
    assert gap.max() < math.sqrt(math.log(2 / 0.001) / (2 * 2_000))


def test_no_throughput_means_no_date() -> None:
    when = mc.when(np.zeros(84, dtype=np.int64), 5, 1_000, seed=4)
    assert when.never == 1_000 and all(v is None for v in when.lines.values())
    assert mc.how_many(np.zeros(84, dtype=np.int64), 30, 1_000, seed=5).lines == {50: 0, 70: 0, 85: 0, 95: 0}
    # nothing to do: day 0 in every trial
    assert mc.when(SKEWED, 0, 1_000, seed=6).lines == {50: 0, 70: 0, 85: 0, 95: 0}


def test_seeded_and_reproducible() -> None:
    a = mc.how_many(SKEWED, 20, TRIALS, seed=7)
    b = mc.how_many(SKEWED, 20, TRIALS, seed=7)
    c = mc.how_many(SKEWED, 20, TRIALS, seed=8)
    assert np.array_equal(a.counts, b.counts) and a.lines == b.lines
    assert not np.array_equal(a.counts, c.counts)
    base = mc.seed_for("dev", "how_many:2026-12-31", 1, 2)
    assert base == mc.seed_for("dev", "how_many:2026-12-31", 1, 2)
    assert len({base, mc.seed_for("ops", "how_many:2026-12-31", 1, 2), mc.seed_for("dev", "how_many:2027-01-31", 1, 2),
                mc.seed_for("dev", "how_many:2026-12-31", 0, 2)}) == 4


# ---------------------------------------------------------------- history as known at an instant

STREAM = """\
name: Forecast history
timezone: UTC
as_of: 2026-01-20T00:00:00Z
sources:
  - kind: events-csv
    path: data/events.csv
stages:
  - {id: backlog, states: [Open], kind: wait}
  - {id: dev, states: [In Progress], kind: active}
  - {id: done, states: [Done], kind: done}
  - {id: dropped, states: [Dropped], kind: cancelled}
commitment: dev
"""

# A: done 01-03, reopened 01-05, done again 01-08; B: done 01-04; C: done 01-06, then dropped 01-07;
# D: committed 01-05, in progress at as_of; E: open, never committed
EVENTS = """\
item_id,timestamp,state
A,2026-01-01T09:00:00Z,Open
A,2026-01-02T09:00:00Z,In Progress
A,2026-01-03T09:00:00Z,Done
A,2026-01-05T09:00:00Z,In Progress
A,2026-01-08T09:00:00Z,Done
B,2026-01-02T10:00:00Z,Open
B,2026-01-03T10:00:00Z,In Progress
B,2026-01-04T10:00:00Z,Done
C,2026-01-03T09:00:00Z,Open
C,2026-01-04T09:00:00Z,In Progress
C,2026-01-06T09:00:00Z,Done
C,2026-01-07T09:00:00Z,Dropped
D,2026-01-04T09:00:00Z,Open
D,2026-01-05T09:00:00Z,In Progress
E,2026-01-06T09:00:00Z,Open
"""


def ns(text: str) -> int:
    return int(np.datetime64(text.replace("Z", ""), "ns").astype(np.int64))


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("forecast") / "project"
    stream = root / "streams" / "small"
    (stream / "data").mkdir(parents=True)
    (stream / "stream.yaml").write_text(STREAM)
    (stream / "data" / "events.csv").write_text(EVENTS)
    project, problems = load_project(root)
    assert project.streams, [p.format() for p in problems]
    config = project.streams[0]
    metrics = compute_stream(config, read_stream(root, config))
    return config, metrics


def test_completions_are_the_done_visits(small) -> None:  # type: ignore[no-untyped-def]
    config, metrics = small
    comp = Inputs.make("small", config.definition, metrics.result).completions
    ids = metrics.result.items["item_id"].astype(str).to_numpy()
    got = [(ids[r], s, e) for r, s, e in zip(comp.row, comp.start, comp.end, strict=True)]
    assert got == [
        ("A", ns("2026-01-03T09:00"), ns("2026-01-05T09:00")),  # reopened
        ("B", ns("2026-01-04T10:00"), OPEN),
        ("C", ns("2026-01-06T09:00"), ns("2026-01-07T09:00")),  # dropped after done
        ("A", ns("2026-01-08T09:00"), OPEN),
    ]


def test_daily_throughput_as_known_at_an_instant(small) -> None:  # type: ignore[no-untyped-def]
    config, metrics = small
    inputs = Inputs.make("small", config.definition, metrics.result)
    grid = inputs.grid
    assert grid.first == dt.date(2026, 1, 1)
    # days 1-9 Jan as known on 10 Jan: A's first done was undone, C was dropped -> B on the 4th, A on the 8th
    days = grid.days(dt.date(2026, 1, 1), 9)
    assert daily_throughput(inputs.completions, days, int(days[-1])).tolist() == [0, 0, 0, 1, 0, 0, 0, 1, 0]
    # days 1-4 Jan as known on 5 Jan 00:00 (before A was reopened at 09:00): A on the 3rd, B on the 4th
    days = grid.days(dt.date(2026, 1, 1), 4)
    early = daily_throughput(inputs.completions, days, int(days[-1]))
    assert early.tolist() == [0, 0, 1, 1]
    # the same count as the engine's own period computed as of that instant
    assert metrics.period_for is not None
    period = metrics.period_for(span("x", "x", dt.date(2026, 1, 1), dt.date(2026, 1, 4), "UTC", ns("2026-01-05T00:00")))
    assert period.summary["lead_time"]["count"] == early.sum() == 2


@pytest.mark.parametrize("at", ["2026-01-05T00:00", "2026-01-06T12:00", "2026-01-10T00:00", "2026-01-20T00:00"])
def test_open_items_are_the_wip_of_that_instant(small, at: str) -> None:  # type: ignore[no-untyped-def]
    config, metrics = small
    inputs = Inputs.make("small", config.definition, metrics.result)
    t = ns(at)
    committed = inputs.open_at(t, "committed")
    assert len(committed.rows) == int(wip_at(metrics.result, config.definition, np.array([t]))[0])
    ids = metrics.result.items["item_id"].astype(str).to_numpy()
    expected = {  # by hand from EVENTS
        "2026-01-05T00:00": (["C"], ["C", "D"]),
        "2026-01-06T12:00": (["A", "D"], ["A", "D", "E"]),  # A reopened, C done at 09:00, E opened
        "2026-01-10T00:00": (["D"], ["D", "E"]),
        "2026-01-20T00:00": (["D"], ["D", "E"]),
    }[at]
    assert sorted(ids[committed.rows]) == expected[0]
    assert sorted(ids[inputs.open_at(t, "all").rows]) == expected[1]


def test_forecast_of_the_small_stream(small) -> None:  # type: ignore[no-untyped-def]
    _, metrics = small
    f = metrics.forecast
    assert f is not None and f.start_day == dt.date(2026, 1, 20)
    w = f.window
    # history from 1 Jan: 19 days before the start (fewer than the 84 asked for)
    assert w is not None and (w.first_day, w.last_day, w.days, w.requested_days) == (dt.date(2026, 1, 1), dt.date(2026, 1, 19), 19, 84)
    assert w.daily.tolist() == [0, 0, 0, 1, 0, 0, 0, 1] + [0] * 11 and w.zero_days == 17
    # the one open committed item (D)
    assert [x.result.items for x in f.when] == [1]


def test_adding_a_forecast_moves_no_other(small) -> None:  # type: ignore[no-untyped-def]
    config, metrics = small
    inputs = Inputs.make("small", config.definition, metrics.result)
    at = ns("2026-01-20T00:00")
    one = forecast_at(inputs, at, (HowMany(weeks=2),), (WhenDone(items=3),))
    two = forecast_at(inputs, at, (HowMany(date=dt.date(2026, 3, 1)), HowMany(weeks=2)), (WhenDone(), WhenDone(items=3)))
    assert np.array_equal(one.how_many[0].result.counts, two.how_many[1].result.counts)
    assert np.array_equal(one.when[0].result.counts, two.when[1].result.counts)


# ---------------------------------------------------------------- window stability


def test_stability_of_the_window() -> None:
    steady = stability(np.array([3, 2, 4] * 28))  # each half: 14 x (3, 2, 4), mean 3
    assert steady.stable and steady.first_per_day == steady.second_per_day == 3.0
    dropped = stability(np.array([4, 5, 3, 4] * 10 + [0, 1, 0, 1] * 11))
    # first 42 days: 160 over days 1-40, then 0 and 1 -> 161 / 42; second 42: 21 ones -> 0.5
    assert not dropped.stable and dropped.p_value is not None and dropped.p_value < 0.001
    assert dropped.first_per_day == pytest.approx(161 / 42) and dropped.second_per_day == pytest.approx(0.5)
    same = stability(np.full(84, 2))
    assert same.p_value is None and same.stable  # nothing varies: nothing to test


# ---------------------------------------------------------------- back-tests


def synthetic_inputs(per_day: list[int], first: dt.date = dt.date(2026, 1, 1)) -> Inputs:
    """Inputs with only the completions and the day grid (UTC): per_day[k] items done on day k at noon."""
    grid = DayGrid.make(first, first + dt.timedelta(days=len(per_day)), "UTC")
    starts = np.repeat(grid.bounds[: len(per_day)] + 12 * 3600 * 10**9, per_day)
    comp = Completions(starts.astype(np.int64), np.full(len(starts), OPEN, dtype=np.int64), np.arange(len(starts)), int(grid.bounds[-1]))
    return Inputs("synthetic", None, None, comp, grid, np.zeros(0, dtype=np.int64))  # type: ignore[arg-type]


def test_backtest_of_a_constant_stream_lands_inside_every_time() -> None:
    inputs = synthetic_inputs([2] * 120)
    start = dt.date(2026, 1, 1) + dt.timedelta(days=120)
    out = bt.how_many(inputs, start, weeks=4, horizon=7, every=14, trials=500)
    # dates: start - 7 = day 113, then every 14 days back while 28 days of history precede them:
    # days 113, 99, 85, 71, 57, 43, 29 (day 29 is the first with 28 full days before it: days 1-28... day index 28)
    assert [(d - dt.date(2026, 1, 1)).days for d in (p.day for p in out.points)] == [29, 43, 57, 71, 85, 99, 113]
    assert all(p.lines[85] == 14 and p.actual == 14 and p.inside for p in out.points)
    assert out.inside == 7 and out.expected_range() is not None


def test_backtest_sees_a_drop_in_throughput() -> None:
    # 2 a day for 100 days, then nothing: forecasts made before the drop whose horizon covers it miss
    inputs = synthetic_inputs([2] * 100 + [0] * 40)
    start = dt.date(2026, 1, 1) + dt.timedelta(days=140)
    out = bt.how_many(inputs, start, weeks=4, horizon=7, every=7, trials=500)
    for p in out.points:
        k = (p.day - dt.date(2026, 1, 1)).days
        done = 2 * max(0, min(100, k + 7) - k)  # 2 a day until day 100
        assert p.actual == done
        window = [2] * 100 + [0] * 40
        if all(v == 2 for v in window[k - 28 : k]):
            assert p.lines[85] == 14 and p.inside is (done >= 14)
    assert any(not p.inside for p in out.points)


def test_backtest_when_with_a_fixed_number_of_items() -> None:
    inputs = synthetic_inputs([1] * 80)
    start = dt.date(2026, 1, 1) + dt.timedelta(days=80)
    out = bt.when(inputs, start, weeks=4, items=5, scope="committed", every=10, trials=300)
    # one a day: 5 items take 5 days; dates from day 70 back every 10 days with 28 days before them
    assert [(p.day - dt.date(2026, 1, 1)).days for p in out.points] == [30, 40, 50, 60, 70]
    assert all(p.lines[85] == 5 and p.actual == 5 and p.inside for p in out.points)


# ---------------------------------------------------------------- service level expectation


def test_risk_bands() -> None:
    shares = np.array([0.0, 0.49, 0.5, 0.84, 0.85, 1.0, 1.01])
    assert risk_of(shares).tolist() == ["on_track", "on_track", "watch", "watch", "at_risk", "at_risk", "breached"]


def test_sle_source_precedence(small) -> None:  # type: ignore[no-untyped-def]
    config, metrics = small
    inputs = Inputs.make("small", config.definition, metrics.result)
    now = inputs.open_at(ns("2026-01-20T00:00"), "committed")
    attrs = metrics.result.attrs(now.rows)
    cycles = np.array([1.0, 2.0, 3.0, 10.0])
    args = (metrics.periods, metrics.history, "UTC", now, attrs)
    assert service_level(7.0, 5.0, cycles, *args).source == "sle_days"
    assert service_level(None, 5.0, cycles, *args).days == 5.0
    # p85 of [1, 2, 3, 10], linear: position 0.85 * 3 = 2.55 -> 3 + 0.55 * 7 = 6.85
    window = service_level(None, None, cycles, *args)
    assert window.source == "window" and window.days == pytest.approx(6.85)
    # D: committed 01-05 09:00, age at 01-20 00:00 = 14.625 d = 2.13 x the SLE -> breached
    assert window.aging["age_days"].tolist() == [14.625] and window.aging["risk"].tolist() == ["breached"]
    assert window.risk_counts() == {"on_track": 0, "watch": 0, "at_risk": 0, "breached": 1}
