"""Baseline versus current (generator/metrics/compare.py, METRICS.md section 4).

Synthetic periods are PeriodResult objects built directly from small frames (only the
columns the comparison reads); one test builds two real periods through the engine and
checks that every baseline and current figure equals the period's own summary.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import re
from collections import Counter
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.metrics import compare
from generator.metrics.aggregates import PeriodResult, period_metrics
from generator.metrics.compare import (
    compare_periods,
    ecdf,
    quantile_sorted,
    seed_for,
    stage_contributions,
)
from generator.metrics.engine import compute_items
from generator.metrics.periods import DAY_NS, PeriodSpan, span
from generator.validate.schema import StreamDef

STAGES = ["dev", "review"]
KEYS = [
    "lead_time_p50",
    "lead_time_p85",
    "cycle_time_p50",
    "cycle_time_p85",
    "throughput_per_week",
    "flow_efficiency",
    "stage:dev:mean",
    "stage:dev:p50",
    "stage:review:mean",
    "stage:review:p50",
]
FIELDS = [
    "baseline",
    "current",
    "change",
    "relative_change",
    "ci_low",
    "ci_high",
    "p_value",
    "verdict",
    "direction",
    "n_baseline",
    "n_current",
    "method",
    "unit",
    "sentence",
]


def _ns(day: dt.date) -> int:
    return int(pd.Timestamp(day, tz="UTC").value)


def make_period(
    name: str,
    first: str,
    lead_days: Any,
    *,
    weekly: Any = None,
    dev_share: float = 0.4,
    review_share: float = 0.3,
    review_visits: float = 0.7,
    seed: int = 0,
) -> PeriodResult:
    """A 91-day period whose completed items have the given lead times.

    Per item: dev = dev_share of lead (process time), review = review_share of lead for the
    share `review_visits` of items (0 for the others), unmapped = the rest; cycle = dev +
    review; wait = lead - dev. So stage columns sum to lead and process + wait = lead.
    """
    rng = np.random.default_rng(seed)
    start = dt.date.fromisoformat(first)
    last = start + dt.timedelta(days=90)
    lead = np.round(np.asarray(lead_days, dtype=np.float64) * DAY_NS).astype(np.int64)
    n = len(lead)
    dev = (lead * dev_share).astype(np.int64)
    review = np.where(rng.random(n) < review_visits, (lead * review_share).astype(np.int64), 0)
    frame = pd.DataFrame(
        {
            "lead_ns": pd.array(lead, dtype="Int64"),
            "cycle_ns": pd.array(dev + review, dtype="Int64"),
            "process_ns": dev,
            "wait_ns": lead - dev,
            "blocked_ns": np.zeros(n, dtype=np.int64),
            "stage_ns:dev": dev,
            "stage_ns:review": review,
            "stage_ns:unmapped": lead - dev - review,
            "flow_type": "feature",
            "reworked": False,
        }
    )
    counts = [n // 13] * 13 if weekly is None else list(weekly)
    weeks = pd.DataFrame(
        {
            "week_start": _ns(start) + np.arange(len(counts), dtype=np.int64) * 7 * DAY_NS,
            "completed": counts,
            "committed": counts,
            "created": counts,
        }
    )
    end = _ns(last) + DAY_NS
    period_span = PeriodSpan(name, name, start, last, _ns(start), end, end, "named")
    summary = {
        "throughput_per_week": n / 13,
        "stages": {"dev": {"kind": "active"}, "review": {"kind": "wait"}},
    }
    return PeriodResult(
        period_span, summary, frame, np.arange(n), pd.DataFrame(), weeks, pd.DataFrame()
    )


def lognormal(median: float, n: int, seed: int, sigma: float = 0.8) -> np.ndarray:
    return np.random.default_rng(seed).lognormal(np.log(median), sigma, n)


def pair(
    median_before: float, median_after: float, n: int = 200, weekly: tuple[Any, Any] = (None, None)
) -> tuple[PeriodResult, PeriodResult]:
    before = make_period(
        "baseline", "2026-01-01", lognormal(median_before, n, 11), weekly=weekly[0], seed=1
    )
    after = make_period(
        "current", "2026-04-02", lognormal(median_after, n, 22), weekly=weekly[1], seed=2
    )
    return before, after


IMPROVED = pair(
    10,
    5,
    weekly=(
        [10, 12, 9, 11, 10, 13, 8, 10, 11, 12, 9, 10, 11],
        [15, 17, 14, 16, 18, 15, 16, 14, 17, 16, 15, 18, 16],
    ),
)
WORSE = (IMPROVED[1], IMPROVED[0])
SAME = pair(8, 8)


@pytest.fixture(scope="module")
def improved() -> dict[str, dict[str, Any]]:
    return compare_periods("checkout", *IMPROVED, STAGES)


@pytest.fixture(scope="module")
def worse() -> dict[str, dict[str, Any]]:
    return compare_periods("checkout", *WORSE, STAGES)


@pytest.fixture(scope="module")
def same() -> dict[str, dict[str, Any]]:
    return compare_periods("checkout", *SAME, STAGES)


def test_keys_and_fields_in_order(improved: dict[str, dict[str, Any]]) -> None:
    assert list(improved) == KEYS
    for key, entry in improved.items():
        extra = ["summary_baseline", "summary_current"] if key == "throughput_per_week" else []
        assert list(entry) == FIELDS + extra, key


def test_known_improvement(improved: dict[str, dict[str, Any]]) -> None:
    for key in KEYS:
        if key == "flow_efficiency":  # the same share of every lead time in both periods
            continue
        assert improved[key]["verdict"] == "improved", (key, improved[key]["sentence"])
    lead = improved["lead_time_p50"]
    assert lead["direction"] == "lower" and lead["unit"] == "days" and lead["method"] == "items"
    assert lead["n_baseline"] == lead["n_current"] == 200
    assert lead["change"] == lead["current"] - lead["baseline"]
    assert lead["relative_change"] == pytest.approx(lead["change"] / lead["baseline"])
    assert lead["sentence"].startswith(
        f"Lead time p50 fell from {lead['baseline']:.1f} to {lead['current']:.1f} days ("
    )
    assert "a significant improvement (Mann–Whitney p" in lead["sentence"]


def test_known_worsening(worse: dict[str, dict[str, Any]]) -> None:
    for key in KEYS:
        if key == "flow_efficiency":
            continue
        assert worse[key]["verdict"] == "worse", (key, worse[key]["sentence"])
    assert worse["throughput_per_week"]["direction"] == "higher"
    assert "a significant worsening" in worse["lead_time_p85"]["sentence"]
    assert " rose from " in worse["lead_time_p85"]["sentence"]


def test_no_change_same_distribution(same: dict[str, dict[str, Any]]) -> None:
    # same distribution, different seeds (fixed, so the outcome is fixed)
    for key in KEYS:
        assert same[key]["verdict"] == "no significant change", (key, same[key]["sentence"])
    s = same["lead_time_p85"]["sentence"]
    assert "but the change is not significant (95% interval" in s or "stayed at about" in s


def test_identical_values_are_no_change() -> None:
    period = make_period("baseline", "2026-01-01", lognormal(8, 50, 5))
    moved = make_period("current", "2026-04-02", lognormal(8, 50, 5))
    out = compare_periods("x", period, moved, STAGES)
    for key, entry in out.items():
        assert entry["change"] == 0, key
        assert entry["verdict"] == "no significant change", key
        assert "stayed at about" in entry["sentence"], entry["sentence"]


def test_too_few_items() -> None:
    before = make_period("baseline", "2026-01-01", [3, 4, 5, 6], seed=1, review_visits=1)
    after = make_period("current", "2026-04-02", [1, 1.5, 2, 2.5], seed=2, review_visits=1)
    out = compare_periods("x", before, after, STAGES)
    for key in KEYS:
        if key != "throughput_per_week":
            assert out[key]["verdict"] == "not enough data", key
            assert (
                "(4 and 4 items" in out[key]["sentence"]
                or "(4 and 4 items that visited" in out[key]["sentence"]
            ), out[key]["sentence"]
    assert out["lead_time_p50"]["sentence"] == (
        "Lead time p50 was 4.5 days in the baseline and 1.8 days in the current period, "
        "but there is not enough data to compare (4 and 4 items; at least 5 each are needed)."
    )
    # the interval and the test are still given for what they are worth
    assert (
        out["lead_time_p50"]["ci_low"] is not None and out["lead_time_p50"]["p_value"] is not None
    )


def test_five_items_are_enough() -> None:
    before = make_period("baseline", "2026-01-01", [10, 11, 12, 13, 14], review_visits=1)
    after = make_period("current", "2026-04-02", [1, 1.1, 1.2, 1.3, 1.4], review_visits=1)
    out = compare_periods("x", before, after, STAGES)
    assert out["lead_time_p50"]["verdict"] == "improved"  # exact Mann–Whitney p = 2/252


def test_throughput_needs_three_whole_weeks() -> None:
    before, after = pair(10, 5, weekly=([10, 12], [20, 25, 30]))
    out = compare_periods("x", before, after, STAGES)
    entry = out["throughput_per_week"]
    assert entry["verdict"] == "not enough data"
    assert entry["n_baseline"] == 2 and entry["n_current"] == 3 and entry["method"] == "weeks"
    assert entry["baseline"] == 11 and entry["current"] == 25
    assert entry["sentence"] == (
        "Throughput was 11.0 items a week in the baseline and 25.0 items a week in the current period, "
        "but there is not enough data to compare (2 and 3 whole weeks; at least 3 each are needed)."
    )


def test_empty_period() -> None:
    before = make_period("baseline", "2026-01-01", [], weekly=[])
    after = make_period("current", "2026-04-02", lognormal(5, 30, 1))
    out = compare_periods("x", before, after, STAGES)
    for key, entry in out.items():
        assert entry["verdict"] == "not enough data", key
        assert (
            entry["baseline"] is None
            and entry["change"] is None
            and entry["ci_low"] is None
            and entry["p_value"] is None
        )
        assert "cannot be compared: not enough data (baseline 0 " in entry["sentence"], entry[
            "sentence"
        ]


def test_throughput_uses_weekly_means(improved: dict[str, dict[str, Any]]) -> None:
    entry = improved["throughput_per_week"]
    assert entry["baseline"] == pytest.approx(
        np.mean([10, 12, 9, 11, 10, 13, 8, 10, 11, 12, 9, 10, 11])
    )
    assert entry["current"] == pytest.approx(
        np.mean([15, 17, 14, 16, 18, 15, 16, 14, 17, 16, 15, 18, 16])
    )
    assert entry["summary_baseline"] == IMPROVED[0].summary["throughput_per_week"]
    assert entry["unit"] == "per week" and entry["p_value"] < 0.05
    assert "weekly means over 13 and 13 whole weeks" in entry["sentence"]


def test_flow_efficiency() -> None:
    before = make_period("baseline", "2026-01-01", lognormal(8, 300, 3, sigma=0.5), dev_share=0.2)
    after = make_period("current", "2026-04-02", lognormal(8, 300, 4, sigma=0.5), dev_share=0.35)
    entry = compare_periods("x", before, after, STAGES)["flow_efficiency"]
    assert entry["p_value"] is None and entry["unit"] == "ratio" and entry["direction"] == "higher"
    assert entry["baseline"] == pytest.approx(0.2, abs=1e-6) and entry["current"] == pytest.approx(
        0.35, abs=1e-6
    )
    assert entry["verdict"] == "improved"
    assert entry["sentence"].startswith(
        "Flow efficiency rose from 20.0% to 35.0% (+15.0 percentage points; 95% interval of the change +"
    )
    assert entry["sentence"].endswith(
        "a significant improvement (the interval excludes zero; flow efficiency has no p-value)."
    )


def _all_outputs() -> list[dict[str, Any]]:
    outs = [compare_periods("checkout", *p, STAGES) for p in (IMPROVED, WORSE, SAME)]
    outs.append(compare_periods("y", *pair(6, 5.5, n=60), STAGES))
    outs.append(compare_periods("y", *pair(6, 3, n=12), STAGES))
    outs.append(compare_periods("z", *pair(6, 3, n=4, weekly=([1, 2], [3, 4])), STAGES))
    return [entry for out in outs for entry in out.values()]


@pytest.fixture(scope="module")
def entries() -> list[dict[str, Any]]:
    return _all_outputs()


def test_every_interval_contains_its_change(entries: list[dict[str, Any]]) -> None:
    for e in entries:
        if e["ci_low"] is not None:
            assert e["ci_low"] - 1e-12 <= e["change"] <= e["ci_high"] + 1e-12, e["sentence"]


def test_verdicts_follow_the_rules(entries: list[dict[str, Any]]) -> None:
    for e in entries:
        if e["verdict"] in ("improved", "worse"):
            assert e["ci_low"] > 0 or e["ci_high"] < 0, e
            assert e["p_value"] is None or e["p_value"] < 0.05, e
            assert e["p_value"] is not None or e["unit"] == "ratio"
            better = (e["change"] < 0) == (e["direction"] == "lower")
            assert better == (e["verdict"] == "improved")
        elif e["verdict"] == "no significant change":
            assert min(e["n_baseline"], e["n_current"]) >= (3 if e["unit"] == "per week" else 5)
            excludes = e["ci_low"] > compare.NOISE or e["ci_high"] < -compare.NOISE
            assert not excludes or (e["p_value"] is not None and e["p_value"] >= 0.05)
        else:
            assert e["verdict"] == "not enough data"
            assert min(e["n_baseline"], e["n_current"]) < (3 if e["unit"] == "per week" else 5)


def test_sentences_never_overclaim(entries: list[dict[str, Any]]) -> None:
    verdicts = Counter(e["verdict"] for e in entries)
    assert set(verdicts) == {"improved", "worse", "no significant change", "not enough data"}
    for e in entries:
        words = set(re.findall(r"[a-z]+", e["sentence"].lower()))
        if e["verdict"] != "improved":
            assert not any(w.startswith(("improv", "better")) for w in words), e["sentence"]
        if e["verdict"] != "worse":
            assert not any(w.startswith(("wors", "deteriorat")) for w in words), e["sentence"]
        if e["verdict"] not in ("improved", "worse"):
            assert (
                "significant improvement" not in e["sentence"]
                and "significant worsening" not in e["sentence"]
            )
        assert e["sentence"].endswith(".") and "\n" not in e["sentence"]


def test_sentence_examples() -> None:
    entry = {
        "baseline": 4.1,
        "current": 4.6,
        "change": 0.5,
        "relative_change": 0.5 / 4.1,
        "ci_low": -0.3,
        "ci_high": 1.2,
        "p_value": 0.21,
        "verdict": "no significant change",
        "n_baseline": 40,
        "n_current": 38,
    }
    assert compare.sentence("Lead time p85", "days", entry) == (
        "Lead time p85 rose from 4.1 to 4.6 days, but the change is not significant (95% interval −0.3 to +1.2 days; Mann–Whitney p = 0.21)."
    )
    entry = {
        "baseline": 15.2,
        "current": 9.8,
        "change": -5.4,
        "relative_change": -5.4 / 15.2,
        "ci_low": -7.1,
        "ci_high": -3.0,
        "p_value": 0.0021,
        "verdict": "improved",
        "n_baseline": 140,
        "n_current": 120,
    }
    assert compare.sentence("Lead time p85", "days", entry) == (
        "Lead time p85 fell from 15.2 to 9.8 days (36% shorter; 95% interval of the change −7.1 to −3.0 days), a significant improvement (Mann–Whitney p = 0.0021)."
    )
    # durations under a day in hours
    entry = {
        "baseline": 0.75,
        "current": 0.5,
        "change": -0.25,
        "relative_change": -1 / 3,
        "ci_low": -0.4,
        "ci_high": -0.1,
        "p_value": 0.0004,
        "verdict": "improved",
        "n_baseline": 50,
        "n_current": 50,
    }
    assert compare.sentence("Median time in review", "days", entry) == (
        "Median time in review fell from 18.0 to 12.0 hours (33% shorter; 95% interval of the change −9.6 to −2.4 hours), a significant improvement (Mann–Whitney p < 0.001)."
    )
    entry = {
        "baseline": 1.5,
        "current": 0.5,
        "change": -1.0,
        "relative_change": -2 / 3,
        "ci_low": -1.4,
        "ci_high": -0.6,
        "p_value": 0.01,
        "verdict": "improved",
        "n_baseline": 50,
        "n_current": 50,
    }
    assert (
        "fell from 1.5 days to 12.0 hours (67% shorter; 95% interval of the change −1.4 to −0.6 days)"
        in compare.sentence("Cycle time p50", "days", entry)
    )


def test_sentences_say_which_half_of_the_rule_failed() -> None:
    base = {
        "baseline": 2.7,
        "current": 2.8,
        "change": 0.1,
        "relative_change": 0.037,
        "n_baseline": 900,
        "n_current": 900,
        "verdict": "no significant change",
    }
    wide = {**base, "ci_low": -0.004, "ci_high": 0.08, "p_value": 0.028}
    assert compare.sentence("Mean time in dev", "days", wide) == (
        "Mean time in dev rose from 2.7 to 2.8 days, but the change is not significant: "
        "its 95% interval, −0.1 to +1.9 hours, includes zero (Mann–Whitney p = 0.028)."
    )
    weak = {**base, "ci_low": 0.02, "ci_high": 0.2, "p_value": 0.08}
    assert compare.sentence("Mean time in dev", "days", weak) == (
        "Mean time in dev rose from 2.7 to 2.8 days, but the change is not significant: "
        "Mann–Whitney p = 0.08 is not below 0.05 (95% interval +0.5 to +4.8 hours)."
    )


def test_p_value_wording_never_crosses_alpha() -> None:
    assert compare.format_p(0.0499) == "p = 0.0499"
    assert compare.format_p(0.05) == "p = 0.05"
    assert compare.format_p(0.051) == "p = 0.051"
    assert compare.format_p(0.0004) == "p < 0.001"
    assert compare.format_p(0.21) == "p = 0.21"


def test_deterministic_and_thread_independent() -> None:
    a = compare_periods("checkout", *IMPROVED, STAGES, workers=1)
    b = compare_periods("checkout", *IMPROVED, STAGES, workers=4)
    c = compare_periods("checkout", *IMPROVED, STAGES)
    assert a == b == c


def test_adding_a_stage_never_moves_another_interval() -> None:
    few = compare_periods("checkout", *IMPROVED, ["dev"])
    more = compare_periods("checkout", *IMPROVED, ["review", "dev", "unmapped"])
    for key in few:
        assert few[key] == more[key], key
    assert list(more)[6:] == [
        "stage:review:mean",
        "stage:review:p50",
        "stage:dev:mean",
        "stage:dev:p50",
        "stage:unmapped:mean",
        "stage:unmapped:p50",
    ]


def test_stage_names_word_the_sentences() -> None:
    named = compare_periods(
        "checkout", *IMPROVED, ["review"], stage_names={"review": "Code review"}
    )
    plain = compare_periods("checkout", *IMPROVED, ["review"])
    assert list(named) == list(plain)  # keys keep the ids
    assert named["stage:review:mean"]["sentence"].startswith("Mean time in Code review fell from ")
    assert named["stage:review:p50"]["sentence"].startswith("Median time in Code review fell from ")
    for key in named:
        assert {k: v for k, v in named[key].items() if k != "sentence"} == {
            k: v for k, v in plain[key].items() if k != "sentence"
        }


def test_seed_is_a_stable_hash() -> None:
    before, after = IMPROVED
    seed = seed_for("checkout", "lead_time_p85", before, after)
    assert seed == seed_for("checkout", "lead_time_p85", before, after)
    assert seed != seed_for("checkout", "lead_time_p50", before, after)
    assert seed != seed_for("payments", "lead_time_p85", before, after)
    # sha256 of the joined key: the same on every machine and every Python (not hash())
    bounds = (before.span.start, before.span.end, after.span.start, after.span.end)
    text = "\x1f".join(["checkout", "lead_time_p85", *(str(v) for v in bounds)])
    assert seed == int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")
    other = compare_periods("payments", *IMPROVED, STAGES)["lead_time_p85"]
    mine = compare_periods("checkout", *IMPROVED, STAGES)["lead_time_p85"]
    assert (other["ci_low"], other["ci_high"]) != (mine["ci_low"], mine["ci_high"])
    assert other["change"] == mine["change"] and other["p_value"] == mine["p_value"]


def test_quantile_sorted_equals_numpy() -> None:
    rng = np.random.default_rng(3)
    for n in (1, 2, 3, 7, 100, 1001):
        values = np.sort(np.round(rng.lognormal(1, 1, n), 1))  # ties included
        for q in (0.0, 0.1, 0.25, 0.5, 0.85, 0.95, 1.0):
            assert quantile_sorted(values, q) == np.quantile(values, q, method="linear")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 10**15), min_size=1, max_size=60), st.floats(0, 1))
def test_quantile_sorted_property(ns: list[int], q: float) -> None:
    days = np.sort(np.asarray(ns, dtype=np.float64) / DAY_NS)
    assert quantile_sorted(days, q) == np.quantile(days, q, method="linear")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 10**14), st.integers(0, 10**14), st.integers(0, 10**14)),
        min_size=1,
        max_size=40,
    ),
    st.lists(
        st.tuples(st.integers(0, 10**14), st.integers(0, 10**14), st.integers(0, 10**14)),
        min_size=1,
        max_size=40,
    ),
)
def test_stage_contributions_sum_property(
    before: list[tuple[int, int, int]], after: list[tuple[int, int, int]]
) -> None:
    def period(rows: list[tuple[int, int, int]]) -> PeriodResult:
        a = np.array(rows, dtype=np.int64)
        frame = pd.DataFrame(
            {
                "lead_ns": pd.array(a.sum(axis=1), dtype="Int64"),
                "stage_ns:dev": a[:, 0],
                "stage_ns:done": a[:, 1],
                "stage_ns:unmapped": a[:, 2],
            }
        )
        return PeriodResult(
            IMPROVED[0].span,
            {},
            frame,
            np.arange(len(a)),
            pd.DataFrame(),
            pd.DataFrame(),
            pd.DataFrame(),
        )

    b, c = period(before), period(after)
    rows = stage_contributions(b, c, ["dev"])
    assert [r["stage"] for r in rows] == ["dev", "done", "unmapped"]
    lead = [
        float((p.completed["lead_ns"].to_numpy(dtype=np.float64) / DAY_NS).mean()) for p in (b, c)
    ]
    assert sum(r["change_days"] for r in rows) == pytest.approx(
        lead[1] - lead[0], rel=1e-9, abs=1e-9
    )


def test_quantile_replicates_have_the_exact_bootstrap_distribution() -> None:
    """The order-statistic descent against all 5^5 equally likely resamples of 5 values."""
    values = np.array([1.0, 2.0, 2.0, 5.0, 9.0])
    sample = compare._durations((values * DAY_NS).astype(np.int64), distinct=True)
    draws = 200_000
    for q in (0.5, 0.85):
        exact = Counter(
            float(np.quantile(values[list(idx)], q))
            for idx in itertools.product(range(5), repeat=5)
        )
        got = Counter(
            np.round(
                compare._quantile_replicates(np.random.default_rng(1), sample, q, draws), 9
            ).tolist()
        )
        assert set(got) <= {round(v, 9) for v in exact}
        for value, ways in exact.items():
            p = ways / 5**5
            observed = got.get(round(value, 9), 0) / draws
            assert abs(observed - p) <= 5 * np.sqrt(p * (1 - p) / draws) + 1e-9, (
                q,
                value,
                observed,
                p,
            )


def test_quantile_replicates_match_numpy_on_resamples() -> None:
    """A resample drawn as counts gives the same number as np.quantile on the expanded values."""
    rng = np.random.default_rng(4)
    values = np.sort(rng.integers(1, 50, 40)).astype(np.float64)
    ordered = np.unique(values)
    for q in (0.5, 0.85):
        for _ in range(50):
            resample = np.sort(rng.choice(values, len(values)))
            below, above, gamma = compare._ranks(len(resample), q)
            ours = float(compare._lerp(resample[below], resample[above], gamma))
            assert ours == np.quantile(resample, q, method="linear")
            assert ours >= ordered[0]


@pytest.mark.slow
def test_binned_agrees_with_items_on_50k(monkeypatch: pytest.MonkeyPatch) -> None:
    """Means and flow efficiency: log bins vs the item bootstrap, 50,000 items a side."""
    before = make_period(
        "baseline", "2026-01-01", lognormal(10, 50_000, 7, sigma=1.0), review_visits=0.6, seed=1
    )
    after = make_period(
        "current", "2026-04-02", lognormal(10.2, 50_000, 8, sigma=1.0), review_visits=0.6, seed=2
    )
    binned = compare_periods("big", before, after, ["review"])
    monkeypatch.setattr(compare, "BIN_ABOVE", 10**9)
    items = compare_periods("big", before, after, ["review"])
    for key in ("stage:review:mean", "flow_efficiency"):
        b, i = binned[key], items[key]
        assert b["method"] == "binned" and i["method"] == "items"
        assert (
            b["baseline"] == i["baseline"]
            and b["current"] == i["current"]
            and b["p_value"] == i["p_value"]
        )
        width = compare.BIN_WIDTH * max(abs(b["baseline"]), abs(b["current"]))
        assert abs(b["ci_low"] - i["ci_low"]) <= width, (key, b["ci_low"], i["ci_low"], width)
        assert abs(b["ci_high"] - i["ci_high"]) <= width, (key, b["ci_high"], i["ci_high"], width)
    for key in ("lead_time_p50", "lead_time_p85", "stage:review:p50"):  # quantiles never need bins
        assert binned[key] == items[key] and binned[key]["method"] == "items"


def test_stage_contributions_sum_to_the_change_in_mean_lead_time() -> None:
    before, after = IMPROVED
    rows = stage_contributions(before, after, ["dev"])  # review and unmapped still counted
    assert [r["stage"] for r in rows] == ["dev", "review", "unmapped"]
    assert [r["kind"] for r in rows] == ["active", "wait", "unmapped"]
    lead = lambda p: float((p.completed["lead_ns"].to_numpy(dtype=np.float64) / DAY_NS).mean())  # noqa: E731
    total = lead(after) - lead(before)
    assert sum(r["change_days"] for r in rows) == pytest.approx(total, rel=1e-12, abs=1e-12)
    assert sum(r["share_of_change"] for r in rows) == pytest.approx(1.0, rel=1e-12)
    for r in rows:
        assert r["change_days"] == r["current_days"] - r["baseline_days"]


def test_stage_contributions_of_an_empty_period() -> None:
    rows = stage_contributions(make_period("b", "2026-01-01", []), IMPROVED[1], STAGES)
    assert all(
        r["baseline_days"] is None and r["change_days"] is None and r["share_of_change"] is None
        for r in rows
    )


def test_ecdf() -> None:
    x, y = ecdf([3.0, 1.0, 2.0, 2.0, float("nan"), None])
    assert x.tolist() == [1.0, 2.0, 3.0] and y.tolist() == [0.25, 0.75, 1.0]
    values = lognormal(5, 10_000, 9)
    x, y = ecdf(values)
    assert len(x) <= 500 and x[0] == values.min() and x[-1] == values.max() and y[-1] == 1.0
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)
    ordered = np.sort(values)
    assert np.array_equal(y, np.searchsorted(ordered, x, side="right") / len(values))
    again = ecdf(values)
    assert np.array_equal(x, again[0]) and np.array_equal(y, again[1])
    assert [len(a) for a in ecdf([])] == [0, 0]


# ---------------------------------------------------------------- through the engine

DEFINITION = StreamDef.model_validate(
    {
        "name": "Engine",
        "sources": [{"kind": "events-csv", "path": "events.csv"}],
        "stages": [
            {"id": "backlog", "states": ["Backlog"], "kind": "wait"},
            {"id": "dev", "states": ["Dev"], "kind": "active"},
            {"id": "review", "states": ["Review"], "kind": "wait"},
            {"id": "test", "states": ["Test"], "kind": "active"},
            {"id": "done", "states": ["Done"], "kind": "done"},
        ],
        "commitment": "dev",
    }
)


def _engine_periods() -> tuple[PeriodResult, PeriodResult]:
    """Items created over 2026 H1; dev takes half as long from April on."""
    rng = np.random.default_rng(12)
    hour = 3600 * 10**9
    origin = _ns(dt.date(2025, 12, 1))
    rows = []
    for i in range(400):
        created = origin + int(rng.integers(0, 200 * 24)) * hour
        faster = created >= _ns(dt.date(2026, 3, 25))
        steps = [("Backlog", rng.exponential(48)), ("Dev", rng.exponential(40 if faster else 80))]
        if rng.random() < 0.6:
            steps.append(("Review", rng.exponential(20)))
        steps += [("Test", rng.exponential(12)), ("Done", 0)]
        t = created
        for state, hours in steps:
            rows.append((f"I-{i}", t, state))
            t += int(hours * hour) + hour
    events = pd.DataFrame(
        {
            "item_id": pd.array([r[0] for r in rows], dtype="string"),
            "ts": np.array([r[1] for r in rows], dtype=np.int64),
            "state": pd.array([r[2] for r in rows], dtype="string"),
            "blocked": np.full(len(rows), -1, dtype=np.int8),
            "actor": pd.array([None] * len(rows), dtype="string"),
            "source": np.zeros(len(rows), dtype=np.int16),
            "file": pd.Categorical(["events.csv"] * len(rows)),
            "line": np.arange(2, len(rows) + 2, dtype=np.int64),
        }
    )
    items = pd.DataFrame(
        {c: pd.array([], dtype="string") for c in ("item_id", "type", "title", "url")}
    )
    items["created"] = pd.array([], dtype="Int64")
    as_of = _ns(dt.date(2026, 7, 1))
    out = []
    for name, first, last in (
        ("baseline", dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        ("current", dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    ):
        s = span(name, name, first, last, "UTC", as_of)
        out.append(period_metrics(compute_items(events, items, DEFINITION, s.as_of), s, DEFINITION))
    return out[0], out[1]


def test_figures_equal_the_period_summaries() -> None:
    before, after = _engine_periods()
    ids = [s.id for s in DEFINITION.stages]
    out = compare_periods("engine", before, after, ids)
    for entry_key, (group, field) in {
        "lead_time_p50": ("lead_time", "p50"),
        "lead_time_p85": ("lead_time", "p85"),
        "cycle_time_p50": ("cycle_time", "p50"),
        "cycle_time_p85": ("cycle_time", "p85"),
    }.items():
        assert out[entry_key]["baseline"] == before.summary[group][field]
        assert out[entry_key]["current"] == after.summary[group][field]
    assert out["flow_efficiency"]["baseline"] == before.summary["flow_efficiency"]
    assert out["flow_efficiency"]["current"] == after.summary["flow_efficiency"]
    for sid in ids:
        for period, side in ((before, "baseline"), (after, "current")):
            stage = period.summary["stages"][sid]
            assert out[f"stage:{sid}:mean"][side] == stage["mean_days"], sid
            assert out[f"stage:{sid}:p50"][side] == stage["p50_days"], sid
            assert out[f"stage:{sid}:p50"][f"n_{side}"] == stage["items_through"]
    assert out["throughput_per_week"]["summary_current"] == after.summary["throughput_per_week"]
    assert (
        out["throughput_per_week"]["n_current"] == len(after.weekly) == 12
    )  # Mondays 6 Apr to 22 Jun
    assert out["stage:dev:mean"]["verdict"] == "improved"
    assert out["cycle_time_p50"]["verdict"] == "improved"
    rows = stage_contributions(before, after, ids)
    change = after.summary["lead_time"]["mean"] - before.summary["lead_time"]["mean"]
    assert sum(r["change_days"] for r in rows) == pytest.approx(change, rel=1e-9, abs=1e-12)
