"""What-if scenarios (docs/scenarios.md): hand-worked projections, resampling, reproducibility,
the no-change scenario reproducing history, and the round trips that a rework cut removes.

The hand-made stream (UTC; backlog wait, dev active, queue wait, review active, done) has five
items completed in February, whole days per stage:

    item  backlog  dev    queue  review  lead
    B-1   1        2      4      1        8
    B-2   1        1+2    2+1    1+1      9   (review sent it back on 8 Feb: In Progress again)
    B-3   1        1      6      2       10
    B-4   1        1      2      3        7
    B-5   1        1      6      1        9

Lead times sorted: 7 8 9 9 10, so p50 = 9 and p85 = 9 + 0.4 x (10 - 9) = 9.4 (numpy's linear
method: position (5 - 1) x 0.85 = 3.4). B-2's round trip from review: the review visit that
sent it back (7-8 Feb, 1 day), then dev (8-10 Feb, 2 days) and the queue (10-11 Feb, 1 day),
until it was in review again: 4 days.
"""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_stream_properties import walks

from generator.forecast.paths import ItemPaths, round_trips, stage_wip
from generator.forecast.scenarios import project, scenario_results, seed_for, spared_items
from generator.metrics.periods import DAY_NS
from generator.metrics.stream import StreamMetrics, compute_stream
from generator.sources.collect import read_stream
from generator.validate.schema import Change
from generator.validate.stream import load_project

EXAMPLES = Path(__file__).resolve().parent.parent

STREAM = """\
name: Scenarios
timezone: UTC
as_of: 2026-03-15T00:00:00Z
sources:
  - kind: events-csv
    path: data/events.csv
stages:
  - {id: backlog, states: [Open], kind: wait}
  - {id: dev, states: [In Progress], kind: active}
  - {id: queue, states: [Ready for Review], kind: wait}
  - {id: review, states: [In Review], kind: active}
  - {id: done, states: [Done], kind: done}
commitment: dev
periods:
  baseline: {start: 2026-01-01, end: 2026-01-31}
  current: {start: 2026-02-01, end: 2026-02-28}
scenarios:
  - id: halve-queue
    name: Halve the queue
    changes:
      - wait: {stage: queue, cut: 0.5}
  - id: no-send-backs
    name: No send-backs from review
    changes:
      - rework: {stage: review, cut: 1}
  - id: loose-limit
    name: A limit nobody reaches
    changes:
      - wip_limit: {stage: dev, limit: 5}
  - id: no-queue
    name: No queue
    changes:
      - remove_stage: queue
"""
PATHS = {  # item -> (state, day of February at 00:00 UTC)
    "B-1": [("Open", 2), ("In Progress", 3), ("Ready for Review", 5), ("In Review", 9), ("Done", 10)],
    "B-2": [("Open", 3), ("In Progress", 4), ("Ready for Review", 5), ("In Review", 7),
            ("In Progress", 8), ("Ready for Review", 10), ("In Review", 11), ("Done", 12)],
    "B-3": [("Open", 5), ("In Progress", 6), ("Ready for Review", 7), ("In Review", 13), ("Done", 15)],
    "B-4": [("Open", 10), ("In Progress", 11), ("Ready for Review", 12), ("In Review", 14), ("Done", 17)],
    "B-5": [("Open", 12), ("In Progress", 13), ("Ready for Review", 14), ("In Review", 20), ("Done", 21)],
}


def events_csv(paths: dict[str, list[tuple[str, int]]]) -> str:
    rows = ["item_id,timestamp,state"]
    rows += [f"{item},2026-02-{day:02d}T00:00:00Z,{state}" for item, steps in paths.items() for state, day in steps]
    return "\n".join(rows) + "\n"


def make(root: Path, stream: str = STREAM, events: str | None = None) -> Path:
    folder = root / "streams" / "demo"
    (folder / "data").mkdir(parents=True)
    (folder / "stream.yaml").write_text(stream, encoding="utf-8")
    (folder / "data" / "events.csv").write_text(events or events_csv(PATHS), encoding="utf-8")
    return root


def compute(root: Path) -> StreamMetrics:
    project, problems = load_project(root)
    assert not [p for p in problems if p.severity == "error"], [p.format() for p in problems]
    config = project.streams[0]
    return compute_stream(config, read_stream(root, config))


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> StreamMetrics:
    return compute(make(tmp_path_factory.mktemp("hand")))


def differences(projected: dict, period: dict) -> list[str]:
    """Keys of a projected summary whose value differs from the period's (stages entry by entry:
    the period's also carry WIP now, which a projection does not)."""
    out = [k for k in projected if k != "stages" and projected[k] != period[k]]
    for sid, entry in projected["stages"].items():
        out += [f"stages.{sid}.{k}" for k, v in entry.items() if period["stages"][sid][k] != v]
    return out


def lead_days(metrics: StreamMetrics, sid: str) -> list[float]:
    return sorted(np.round(metrics.scenarios[sid].lead_days, 9).tolist())


def test_the_hand_made_period_is_as_worked_out(hand: StreamMetrics) -> None:
    lead = hand.periods["current"].summary["lead_time"]
    assert (lead["count"], lead["p50"], lead["p85"]) == (5, 9.0, pytest.approx(9.4))


def test_halving_the_queue(hand: StreamMetrics) -> None:
    # queue days 4, 2+1, 6, 2, 6 halved: leads 8-2, 9-1.5, 10-3, 7-1, 9-3 = 6, 7.5, 7, 6, 6
    assert lead_days(hand, "halve-queue") == [6, 6, 6, 7, 7.5]
    f = hand.scenarios["halve-queue"].figures
    # sorted 6 6 6 7 7.5: p50 = 6; p85 at position 3.4: 7 + 0.4 x 0.5 = 7.2
    assert f["lead_time"]["projected"]["p50"] == 6.0
    assert f["lead_time"]["projected"]["p85"] == pytest.approx(7.2)
    assert f["stages"]["queue"]["projected"]["mean_days"] == pytest.approx(21 / 5 / 2)
    assert f["stages"]["dev"]["projected"] == f["stages"]["dev"]["current"]
    # flow efficiency: process = dev (2 + 3 + 1 + 1 + 1 = 8 days) + review (1 + 2 + 2 + 3 + 1 = 9)
    # = 17 days of the 43 days of lead time; halving the queue takes 21 / 2 = 10.5 days of waiting
    assert f["flow_efficiency"]["current"] == pytest.approx(17 / 43)
    assert f["flow_efficiency"]["projected"] == pytest.approx(17 / 32.5)
    assert f["sentence"].startswith("Halve the queue would move lead time p85 from 9.4 to 7.2 days")


def test_a_rework_cut_removes_the_round_trip(hand: StreamMetrics) -> None:
    # B-2 loses its 4-day round trip: leads 8, 5, 10, 7, 9
    assert lead_days(hand, "no-send-backs") == [5, 7, 8, 9, 10]
    f = hand.scenarios["no-send-backs"].figures
    (change,) = f["changes"]
    assert (change["items_sent_back"], change["items_spared"]) == (1, 1)
    assert change["round_trip_days_mean"] == pytest.approx(4.0)
    # B-2's dev: 1 day left of 1 + 2; its queue 2 of 2 + 1; its review 1 of 1 + 1 (the second visit stays)
    assert f["stages"]["dev"]["projected"]["mean_days"] == pytest.approx((2 + 1 + 1 + 1 + 1) / 5)
    assert f["stages"]["queue"]["projected"]["mean_days"] == pytest.approx((4 + 2 + 6 + 2 + 6) / 5)
    assert f["stages"]["review"]["projected"]["mean_days"] == pytest.approx((1 + 1 + 2 + 3 + 1) / 5)
    # the send-back was the only move back: rework rate 1/5 -> 0, development's %C&A 4/5 -> 1
    assert (f["rework_rate"]["current"], f["rework_rate"]["projected"]) == (0.2, 0.0)
    summary = hand.scenarios["no-send-backs"].summary
    assert hand.periods["current"].summary["stages"]["dev"]["pct_complete_accurate"] == 0.8
    assert summary["stages"]["dev"]["pct_complete_accurate"] == 1.0
    assert summary["rework_moves"] == []


def test_removing_a_queue(hand: StreamMetrics) -> None:
    # leads minus all queue time 4, 3, 6, 2, 6: 4, 6, 4, 5, 3
    assert lead_days(hand, "no-queue") == [3, 4, 4, 5, 6]
    f = hand.scenarios["no-queue"].figures
    assert f["stages"]["queue"]["projected"]["items_through"] == 0
    assert f["stages"]["queue"]["projected"]["mean_days"] == 0.0


def test_mean_wip_per_stage_by_hand(hand: StreamMetrics) -> None:
    # February: 28 days. Item-days in dev: 2 + 3 + 1 + 1 + 1 = 8; in the queue: 4 + 3 + 6 + 2 + 6 = 21
    period = hand.periods["current"]
    assert hand.result is not None
    wip = stage_wip(hand.result, period.span.start, period.span.as_of, 5)
    assert wip[1] == pytest.approx(8 / 28) and wip[2] == pytest.approx(21 / 28)


def test_a_limit_under_the_mean_wip_scales_the_stage_by_littles_law(hand: StreamMetrics) -> None:
    """With a mean WIP of 2 and a limit of 1, Little's law at the same throughput halves the time
    in the stage: the queue then gives exactly the halve-queue leads."""
    assert hand.result is not None
    from generator.forecast.paths import item_paths

    paths = item_paths(hand.result, hand.periods["current"], 5)
    wip = np.array([0.0, 0.0, 2.0, 0.0, 0.0, 0.0])
    change = Change.model_validate({"wip_limit": {"stage": "queue", "limit": 1}})
    projection, (effect,) = project(paths, hand.config.definition, (change,), wip)
    assert sorted((projection.lead / DAY_NS).tolist()) == [6, 6, 6, 7, 7.5]
    assert (effect["factor"], effect["binding"], effect["wip_mean"]) == (0.5, True, 2.0)


def test_a_limit_nobody_reaches_changes_nothing(hand: StreamMetrics) -> None:
    """The no-change scenario, as stream.yaml writes it: dev held 8/28 items on average, under 5."""
    result = hand.scenarios["loose-limit"]
    assert differences(result.summary, hand.periods["current"].summary) == []
    assert len(result.summary["stages"]) == 6 and result.summary["rework_moves"]  # compared, not empty
    assert result.figures["changes"][0]["binding"] is False
    assert "no change" in result.figures["changes"][0]["text"]
    assert result.figures["sentence"].startswith("A limit nobody reaches would leave lead time about where it was")


def _exact_bootstrap_quantiles(values: list[float], q: float, shares: tuple[float, ...]) -> list[float]:
    """The bootstrap distribution of numpy's q-quantile over every resample of n items, enumerated
    (multisets with their multinomial probabilities), and its quantiles at `shares`."""
    n = len(values)
    atoms: dict[float, float] = {}
    for combo in itertools.combinations_with_replacement(range(n), n):
        counts = np.bincount(combo, minlength=n)
        probability = math.factorial(n) / math.prod(math.factorial(int(c)) for c in counts) / n**n
        value = round(float(np.quantile([values[i] for i in combo], q)), 9)
        atoms[value] = atoms.get(value, 0.0) + probability
    support = sorted(atoms)
    cdf = np.cumsum([atoms[v] for v in support])
    return [support[int(np.searchsorted(cdf, s - 1e-12))] for s in shares]


def test_the_interval_matches_an_exact_enumeration_of_the_bootstrap(hand: StreamMetrics) -> None:
    """The 95% interval of the projected p85 against the exact bootstrap distribution, enumerated
    over all 126 resamples of the 5 projected leads: each end lies between that distribution's
    1% and 4% (96% and 99%) points, which 2,000 resamples estimate the 2.5% (97.5%) point within."""
    low, high = hand.scenarios["halve-queue"].figures["lead_time"]["p85_interval"]
    q01, q04, q96, q99 = _exact_bootstrap_quantiles([6, 7.5, 7, 6, 6], 0.85, (0.01, 0.04, 0.96, 0.99))
    assert q01 <= low <= q04 and q96 <= high <= q99, (low, high, q01, q04, q96, q99)
    assert low < 7.2 < high


def test_seeded_and_reproducible(hand: StreamMetrics, tmp_path: Path) -> None:
    again = compute(make(tmp_path))
    for sid, result in hand.scenarios.items():
        assert again.scenarios[sid].figures == result.figures, sid
    period = hand.periods["current"]
    seeds = {seed_for("demo", sid, "lead_time_p85", period) for sid in hand.scenarios}
    assert len(seeds) == len(hand.scenarios)  # each scenario its own generator
    assert seed_for("other", "halve-queue", "lead_time_p85", period) != seed_for(
        "demo", "halve-queue", "lead_time_p85", period
    )


def test_spared_items_spread_over_the_round_trip_times() -> None:
    # items 1, 2, 4, 5 had round trips of 5, 3, 9, 1: ranked 5 (1), 2 (3), 1 (5), 4 (9)
    trips = np.array([0, 5, 3, 0, 9, 1])
    # cut 0.5: ranks 0 and 2 (floor((r + 1) / 2 + 1/2) > floor(r / 2 + 1/2)): items 5 and 1
    assert np.flatnonzero(spared_items(trips, 0.5)).tolist() == [1, 5]
    # cut 0.25 of 4 items: one, at rank 1 (floor(1.0) > floor(0.75)): item 2
    assert np.flatnonzero(spared_items(trips, 0.25)).tolist() == [2]
    assert np.flatnonzero(spared_items(trips, 1.0)).tolist() == [1, 2, 4, 5]
    # round(k x cut), half up, for every k and cut
    for k in range(0, 12):
        for cut in (0.1, 0.3, 0.5, 0.75, 0.9, 1.0):
            assert spared_items(np.arange(1, k + 1), cut).sum() == math.floor(k * cut + 0.5)


def _paths(positions: list[int], n_stages: int = 5) -> ItemPaths:
    """One item walking through the given stage positions, a segment each (-1: unmapped, carried)."""
    n = len(positions)
    pos, last = [], -1
    for p in positions:
        last = p if p >= 0 else last
        pos.append(last)
    code = np.array([p if p >= 0 else n_stages for p in positions])
    return ItemPaths(1, n_stages, np.zeros(n, dtype=np.int64), code, np.array(pos),
                     np.ones(n, dtype=np.int64), np.zeros(n, dtype=bool), np.ones(n, dtype=bool),
                     np.zeros(n, dtype=np.int64))


def test_nested_round_trips() -> None:
    """dev(1) rev(2) qa(3) | dev rev | dev rev qa: qa sends it back, and inside that round trip rev
    sends it back once more. qa's round trip is its visit and everything until qa again (segments
    2-6); rev's is the nested one alone (its visit 4 and dev 5)."""
    paths = _paths([1, 2, 3, 1, 2, 1, 2, 3])
    assert np.flatnonzero(round_trips(paths, 3)).tolist() == [2, 3, 4, 5, 6]
    assert np.flatnonzero(round_trips(paths, 2)).tolist() == [4, 5]
    assert not round_trips(paths, 1).any()


def test_unmapped_time_between_belongs_to_the_round_trip() -> None:
    """rev, unmapped (Triage), dev, rev: the unmapped time after the review is part of its visit
    (a move back skips unmapped time); dev -> unmapped -> dev is no round trip at all."""
    assert np.flatnonzero(round_trips(_paths([1, 2, -1, 1, 2]), 2)).tolist() == [1, 2, 3]
    assert not round_trips(_paths([1, -1, 1, 2]), 1).any()


@pytest.mark.slow
@pytest.mark.parametrize("stream", ["development", "support"])
def test_no_change_reproduces_every_period_of_the_examples(stream: str) -> None:
    """With no change, every figure the map and the sentence use equals the period's own (exact
    floats), in the named periods and every calendar quarter; the measured p50 and p85 lie inside
    the projected values' intervals."""
    project, _ = load_project(EXAMPLES)
    config = next(c for c in project.streams if c.id == stream)
    metrics = compute_stream(config, read_stream(EXAMPLES, config))
    assert metrics.result is not None and metrics.period_for is not None
    unchanged = config.definition.scenarios[0].model_copy(update={"id": "unchanged", "changes": ()})
    spans = [p.span for p in metrics.periods.values()] + [q.span for q in metrics.quarters.values()]
    for span in spans:
        period = metrics.period_for(span)
        if not len(period.completed):
            continue
        (result,) = scenario_results(config.id, config.definition, metrics.result, period, (unchanged,)).values()
        assert differences(result.summary, period.summary) == [], span.name
        lead = result.figures["lead_time"]
        for q in ("p50", "p85"):
            low, high = lead[f"{q}_interval"]
            assert low <= period.summary["lead_time"][q] <= high, (span.name, q)


@pytest.mark.slow
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(walks())
def test_properties_on_random_walks(tmp_path: Path, rows: list) -> None:
    """On random walks (tests/test_stream_properties.py: forward and back through six stages, two
    done stages, across a DST change): no change reproduces both periods; a full rework cut on a
    stage leaves no move back from it; a change never makes an item's lead time longer."""
    from test_stream_properties import STAGES, _compute

    from generator.validate.schema import Scenario

    metrics = _compute(tmp_path, rows)
    assert metrics.result is not None
    definition = metrics.config.definition
    ids = [s[0] for s in STAGES]
    scenarios = tuple(
        Scenario.model_validate({"id": f"s{i}", "name": f"S{i}", "changes": changes})
        for i, changes in enumerate(
            [
                [{"wip_limit": {"stage": "dev", "limit": 1000}}],
                *([{"rework": {"stage": sid, "cut": 1}}] for sid in ids[1:]),
                [{"wait": {"stage": "review", "cut": 0.5}}, {"rework": {"stage": "test", "cut": 0.5}}],
                [{"remove_stage": "backlog"}, {"wip_limit": {"stage": "test", "limit": 1}}],
            ]
        )
    )
    for name, period in metrics.periods.items():
        if not len(period.completed):
            continue
        results = scenario_results("props", definition, metrics.result, period, scenarios)
        assert differences(results["s0"].summary, period.summary) == [], name
        current = period.completed["lead_ns"].to_numpy(dtype=np.int64)
        for sid, result in results.items():
            assert (result.lead_days * DAY_NS <= current + 1).all(), (name, sid)
        for i, stage in enumerate(ids[1:], start=1):
            moves = results[f"s{i}"].summary["rework_moves"]
            assert not [m for m in moves if m["from"] == stage], (name, stage, moves)
