"""DORA measures (METRICS.md section 5) on small frames worked out by hand.

Times are in days from an origin that is a Monday (2024-01-01T00:00Z): d(n) = n days in ns.
The period is [d(0), d(14)) unless a test says otherwise.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from generator.metrics import dora
from generator.metrics.dora import MONTH_DAYS, dora_period, dora_weekly, performance_level

ORIGIN = int(pd.Timestamp("2024-01-01T00:00:00Z").value)
DAY = 86_400 * 10**9
HOUR = 3_600 * 10**9


def d(days: float) -> int:
    return ORIGIN + round(days * DAY)


def deployments(rows: list[tuple]) -> pd.DataFrame:
    """rows: (deploy_id, day, environment, status, sha, rollback_of, hotfix)."""
    frame = pd.DataFrame(rows, columns=["deploy_id", "day", "environment", "status", "sha", "rollback_of", "hotfix"])
    frame["ts"] = [d(x) for x in frame.pop("day")]
    return frame


# d1..d4 succeed in production, f1 fails, s1 is staging, c1 was canceled, late is after the period
DEPLOYS = deployments([
    ("d1", 1, "production", "success", "s1", None, False),
    ("f1", 2, "production", "failure", "s2", None, False),
    ("d2", 3, "production", "success", "s3", None, False),
    ("s1", 4, "staging", "success", "s4", None, False),
    ("d3", 5, "production", "success", "s5", "d2", False),   # rolls back d2
    ("d4", 8, "production", "success", "s6", None, True),    # hot-fixes d3 (the previous production success)
    ("c1", 9, "production", "canceled", "s7", None, False),
    ("late", 15, "production", "success", "s8", "d1", False),  # after the period: its rollback of d1 is not known yet
])


def test_deployment_frequency() -> None:
    result = dora_period(DEPLOYS, None, None, d(0), d(14))["deployment_frequency"]
    # successful production deployments in [0, 14): d1, d2, d3, d4 -> 4 / 14 days = 2 per week
    assert result["deployments"] == 4 and result["failed"] == 1 and result["other"] == 1
    assert result["per_day"] == pytest.approx(4 / 14) and result["per_week"] == pytest.approx(2.0)


def test_production_flag_overrides_environment_name() -> None:
    frame = DEPLOYS.assign(production=DEPLOYS["environment"].eq("staging"))
    assert dora_period(frame, None, None, d(0), d(14))["deployment_frequency"]["deployments"] == 1


def test_change_failure_rate_signals() -> None:
    result = dora_period(DEPLOYS, None, None, d(0), d(14))["change_failure_rate"]
    # finished production deployments: d1, f1, d2, d3, d4 = 5; bad: f1 (failed), d2 (rolled back), d3 (hot-fixed) = 3
    assert result["deployments"] == 5 and result["failed"] == 1 and result["caused_failure"] == 2
    assert result["rate"] == pytest.approx(3 / 5)
    assert result["by_signal"] == {"incident": 0, "rollback": 1, "hotfix": 1}
    only_rollbacks = dora_period(DEPLOYS, None, None, d(0), d(14), failure_signals=("rollback",))["change_failure_rate"]
    assert only_rollbacks["rate"] == pytest.approx(2 / 5) and only_rollbacks["by_signal"] == {"rollback": 1}


def test_change_failure_rate_incident_signal_as_of_period_end() -> None:
    incidents = pd.DataFrame({"incident_id": ["i1", "i2"], "opened": [d(1.5), d(20)], "resolved": pd.array([d(2), pd.NA], dtype="Int64"),
                              "deploy_id": ["d1", "d4"]})
    result = dora_period(DEPLOYS, None, incidents, d(0), d(14))["change_failure_rate"]
    # i1 names d1 -> bad; i2 is opened after the period's end, so d4 is not (yet) known to have failed
    assert result["by_signal"]["incident"] == 1 and result["rate"] == pytest.approx(4 / 5)
    later = dora_period(DEPLOYS, None, incidents, d(0), d(21))["change_failure_rate"]
    # as of day 21: i2 names d4, and `late` (day 15, a success) rolls back d1 -> 7 finished, 5 bad (d1, f1, d2, d3, d4)
    assert later["deployments"] == 6 and later["failed_or_caused_failure"] == 5


def test_lead_time_for_changes() -> None:
    changes = pd.DataFrame({
        "sha": ["a", "b", "s3", "c", "m", "e", "f"],
        "ts": [d(0.5), d(2.5), d(2), d(6), d(6), d(12), d(3)],
        "is_merge": [False, False, False, False, True, False, False],
        # a: released with d1; b: with d2; s3: no deploy_id but d2 deployed exactly its sha;
        # c: with d4; m: a merge (not a change); e: not yet deployed; f: with d1 (before its commit time: clock skew)
        "deploy_id": ["d1", "d2", pd.NA, "d4", "d4", pd.NA, "d1"],
    })
    result = dora_period(DEPLOYS, changes, None, d(0), d(14))["lead_time"]
    leads = [0.5, 0.5, 1.0, 2.0, 0.0]  # a, b, s3, c, f (f: 1 - 3 = -2 counted as 0)
    assert result["count"] == 5 and result["negative_counted_as_zero"] == 1
    assert result["p50_days"] == pytest.approx(np.quantile(leads, 0.5)) == pytest.approx(0.5)
    assert result["p85_days"] == pytest.approx(np.quantile(leads, 0.85))
    assert result["mean_days"] == pytest.approx(0.8)
    assert result["not_deployed"] == 1  # e
    # the `change` column overrides is_merge (git-history's include_merges)
    counted = dora_period(DEPLOYS, changes.assign(change=True), None, d(0), d(14))["lead_time"]
    assert counted["count"] == 6


def test_lead_time_uses_the_first_successful_production_deployment() -> None:
    changes = pd.DataFrame({"sha": ["s2", "s4", "s8"], "ts": [d(1), d(1), d(1)], "is_merge": [False] * 3})
    result = dora_period(DEPLOYS, changes, None, d(0), d(14))["lead_time"]
    # s2 only went out in the failed f1, s4 only to staging, s8 after the period: none deployed in the period
    assert result["count"] == 0 and result["p50_days"] is None and result["not_deployed"] == 3
    assert dora_period(DEPLOYS, changes, None, d(0), d(21))["lead_time"]["count"] == 1  # s8 by `late`


def test_time_to_restore_and_failed_deployment_recovery() -> None:
    incidents = pd.DataFrame({
        "incident_id": ["i1", "i2", "i3", "i4", "i5"],
        "opened": [d(1.25), d(3.5), d(6), d(-1), d(13)],
        "resolved": pd.array([d(1.5), d(4), pd.NA, d(0.5), d(15)], dtype="Int64"),
        "deploy_id": ["d1", pd.NA, "d3", "d1", "zz"],
    })
    result = dora_period(DEPLOYS, None, incidents, d(0), d(14))
    restore = result["time_to_restore"]
    # opened in the period: i1, i2, i3, i5; resolved by its end: i1 (6 h), i2 (12 h); i3 open, i5 resolved after the end
    assert restore["incidents"] == 4 and restore["unresolved"] == 2 and restore["count"] == 2
    assert restore["p50_days"] == pytest.approx(9 / 24)
    recovery = result["failed_deployment_recovery"]
    # i1 names d1 (day 1): resolved day 1.5 -> 12 h; i3 names d3 but is open; i5 names an unknown deployment
    assert recovery["incidents_naming_a_deployment"] == 2 and recovery["count"] == 1
    assert recovery["p50_days"] == pytest.approx(0.5)


def test_missing_frames_and_json() -> None:
    result = dora_period(None, None, None, d(0), d(14))
    assert not result["deployment_frequency"]["available"] and not result["lead_time"]["available"]
    assert result["change_failure_rate"]["rate"] is None and result["time_to_restore"]["p50_days"] is None
    assert result["level"]["overall"] is None
    full = dora_period(DEPLOYS, None, None, d(0), d(14))
    assert json.loads(json.dumps(full)) == full
    assert "2024" in full["level"]["source"]


def test_inputs_are_not_modified() -> None:
    before = DEPLOYS.copy()
    dora_period(DEPLOYS, None, None, d(0), d(14))
    dora_weekly(DEPLOYS, None, None, d(0), d(14))
    pd.testing.assert_frame_equal(DEPLOYS, before)


def test_levels_of_each_measure_at_their_boundaries() -> None:
    """The ranges of the 2024 report's table (p. 13), as survey answers: a value matches the
    clusters whose range holds it, none where no cluster's range does."""
    assert dora.level_deployment_frequency(1.01) == ["elite"]
    assert dora.level_deployment_frequency(1.0) == ["high"]  # once a day is the top of "between once per day and once per week"
    assert dora.level_deployment_frequency(1 / 7) == ["high"]
    assert dora.level_deployment_frequency(1 / 7.01) == ["medium"]
    assert dora.level_deployment_frequency(1 / MONTH_DAYS) == ["medium"]
    assert dora.level_deployment_frequency(1 / 31) == ["low"]
    assert dora.level_deployment_frequency(1 / (365.25 / 2)) == ["low"]  # once every six months
    assert dora.level_deployment_frequency(1 / 183) == []  # fewer: no 2024 cluster deploys that rarely
    assert dora.level_deployment_frequency(0.0) == []
    assert dora.level_lead_time(0.99) == ["elite"]
    assert dora.level_lead_time(1.0) == ["high"]
    assert dora.level_lead_time(7.0) == ["high"]
    assert dora.level_lead_time(7.01) == ["medium"]
    assert dora.level_lead_time(MONTH_DAYS) == ["medium"]
    assert dora.level_lead_time(31.0) == ["low"]
    assert dora.level_lead_time(182.6) == ["low"]
    assert dora.level_lead_time(183.0) == []  # over six months: beyond the low cluster's range
    assert dora.level_recovery(59 / 60 / 24) == ["elite"]
    assert dora.level_recovery(1 / 24) == ["high", "medium"]
    assert dora.level_recovery(0.99) == ["high", "medium"]
    assert dora.level_recovery(1.0) == []  # one day to one week: no 2024 cluster (was "low" before)
    assert dora.level_recovery(6.99) == []
    assert dora.level_recovery(7.0) == ["low"]
    assert dora.level_recovery(MONTH_DAYS) == ["low"]
    assert dora.level_recovery(31.0) == []  # over a month: no 2024 cluster
    assert not hasattr(dora, "level_change_failure_rate")  # the report gives no thresholds for it


def test_overall_level_is_the_cluster_most_measures_match() -> None:
    assert performance_level({"a": ["elite"], "b": ["high"], "c": ["high"], "d": ["high", "medium"]}) == "high"
    assert performance_level({"a": ["medium"], "b": ["medium"], "c": ["elite"], "d": ["high", "medium"]}) == "medium"
    assert performance_level({"a": ["elite"], "b": ["elite"], "c": ["high"], "d": ["low"]}) == "elite"
    assert performance_level({"a": ["elite"], "b": ["high"]}) == "high"  # a tie goes to the lower level
    assert performance_level({"a": None, "b": ["low"]}) == "low"
    assert performance_level({"a": None}) is None
    table = {c.level: c for c in dora.DORA_2024}
    assert [c.level for c in dora.DORA_2024] == ["elite", "high", "medium", "low"]
    assert [table[x].change_failure_rate for x in ("elite", "high", "medium", "low")] == [0.05, 0.20, 0.10, 0.40]
    assert sum(c.share for c in dora.DORA_2024) == pytest.approx(1.01)  # as published (rounded)


def test_level_of_a_period() -> None:
    level = dora_period(DEPLOYS, None, None, d(0), d(14))["level"]
    # 2/week -> high; CFR 60%: no level (the report gives no thresholds); no lead time, no
    # incidents: one vote -> high
    assert level["by_metric"] == {"deployment_frequency": ["high"], "lead_time": None, "change_failure_rate": [], "recovery_time": None}
    assert level["overall"] == "high"
    assert list(level["notes"]) == ["change_failure_rate"] and "no thresholds" in level["notes"]["change_failure_rate"]
    assert "p. 13" in level["source"]


def test_recovery_level_uses_failed_deployment_recovery_only() -> None:
    """The 2024 report's measure is failed deployment recovery time; time to restore (from an
    incident's opening, for incidents that name no deployment) has no 2024 cluster."""
    incidents = pd.DataFrame({"incident_id": ["i1"], "opened": [d(8.5)], "resolved": pd.array([d(8.6)], dtype="Int64"),
                              "deploy_id": pd.array([pd.NA], dtype="string")})
    result = dora_period(DEPLOYS, None, incidents, d(0), d(14))
    assert result["time_to_restore"]["p50_days"] == pytest.approx(0.1)
    assert result["level"]["by_metric"]["recovery_time"] is None  # no incident names a deployment
    named = incidents.assign(deploy_id=pd.array(["d1"], dtype="string"), resolved=pd.array([d(10)], dtype="Int64"))
    level = dora_period(DEPLOYS, None, named, d(0), d(14))["level"]
    # d1 is at day 1 (DEPLOYS): recovered at day 10 -> 9 days, in low's "one week to one month"
    assert level["by_metric"]["recovery_time"] == ["low"]


def test_weekly_series() -> None:
    changes = pd.DataFrame({"sha": ["a", "b", "c"], "ts": [d(0.5), d(2.5), d(6)], "is_merge": [False] * 3, "deploy_id": ["d1", "d2", "d4"]})
    incidents = pd.DataFrame({"incident_id": ["i1"], "opened": [d(8.5)], "resolved": pd.array([d(9)], dtype="Int64"), "deploy_id": [pd.NA]})
    weeks = dora_weekly(DEPLOYS, changes, incidents, d(0), d(14))
    assert weeks["week"].tolist() == ["2024-W01", "2024-W02"]
    assert weeks["start"].tolist() == [d(0), d(7)] and weeks["end"].tolist() == [d(7), d(14)]
    # week 1: d1, d2, d3 succeed, f1 fails; bad: f1, d2 (rolled back), d3 (hot-fixed) -> 3 / 4
    assert weeks["deployments"].tolist() == [3, 1] and weeks["failed"].tolist() == [1, 0]
    assert weeks["change_failure_rate"].tolist() == pytest.approx([0.75, 0.0])
    # lead: a 0.5 (week 1), b 0.5 (week 1), c 2.0 (week 2)
    assert weeks["lead_time_changes"].tolist() == [2, 1]
    assert weeks["lead_time_p50_days"].tolist() == pytest.approx([0.5, 2.0])
    assert weeks["incidents"].tolist() == [0, 1]
    assert np.isnan(weeks["restore_p50_days"].iloc[0]) and weeks["restore_p50_days"].iloc[1] == pytest.approx(0.5)


def test_weekly_series_uses_whole_local_weeks() -> None:
    # 2024-03-20 (Wednesday) .. 2024-04-10 in Berlin: whole weeks start Monday 03-25 (DST starts 03-31) and 04-01
    start = int(pd.Timestamp("2024-03-20T00:00", tz="Europe/Berlin").tz_convert("UTC").value)
    end = int(pd.Timestamp("2024-04-10T00:00", tz="Europe/Berlin").tz_convert("UTC").value)
    weeks = dora_weekly(None, None, None, start, end, "Europe/Berlin")
    assert weeks["week"].tolist() == ["2024-W13", "2024-W14"]
    assert weeks["start"].iloc[0] == int(pd.Timestamp("2024-03-24T23:00Z").value)
    assert weeks["start"].iloc[1] == int(pd.Timestamp("2024-03-31T22:00Z").value)  # CEST from 03-31
    assert weeks["deployments"].tolist() == [0, 0]
    assert dora_weekly(None, None, None, d(0), d(3)).empty


def test_large_frames_are_fast() -> None:
    rng = np.random.default_rng(1)
    n_dep, n_changes = 20_000, 1_000_000
    deps = pd.DataFrame({"deploy_id": [f"r{i}" for i in range(n_dep)], "ts": np.sort(rng.integers(d(0), d(3650), n_dep)),
                         "environment": "production", "status": np.where(rng.random(n_dep) < 0.1, "failure", "success")})
    pick = rng.integers(0, n_dep, n_changes)
    changes = pd.DataFrame({"sha": np.arange(n_changes).astype(str), "ts": deps["ts"].to_numpy()[pick] - rng.integers(0, 30 * DAY, n_changes),
                            "is_merge": False, "deploy_id": deps["deploy_id"].to_numpy()[pick]})
    started = time.perf_counter()
    result = dora_period(deps, changes, None, d(0), d(3650))
    weeks = dora_weekly(deps, changes, None, d(0), d(3650))
    elapsed = time.perf_counter() - started
    assert result["lead_time"]["count"] > 0 and len(weeks) == 521
    assert elapsed < 20.0  # ~2 s measured for 1M changes and 20k deployments


def test_docs_example_5_1_with_its_levels() -> None:
    """docs/metrics.md example 5.1, every figure and the 2024 levels worked out there by hand."""
    def at(text: str) -> int:
        return int(pd.Timestamp(text + "Z").value)

    deploys = pd.DataFrame({
        "deploy_id": ["r1", "r2", "r3", "r4", "r5", "r6"],
        "ts": [at("2026-03-02T10:00"), at("2026-03-03T16:00"), at("2026-03-03T17:00"), at("2026-03-05T09:00"),
               at("2026-03-06T09:00"), at("2026-03-07T09:00")],
        "environment": ["production"] * 5 + ["staging"],
        "status": ["success", "failure", "success", "success", "success", "success"],
        "sha": ["a1", None, None, None, None, None],
        "rollback_of": [None, None, "r2", None, None, None],
        "hotfix": [False, False, False, False, True, False],
    })
    changes = pd.DataFrame({
        "sha": ["a1", "c3", "c4", "d4", "m1", "z9"],
        "ts": [at("2026-03-01T10:00"), at("2026-03-04T09:00"), at("2026-03-04T21:00"), at("2026-03-05T21:00"),
               at("2026-03-05T22:00"), at("2026-03-08T10:00")],
        "is_merge": [False, False, False, False, True, False],
        "deploy_id": pd.array([None, "r4", "r5", "r5", "r5", None], dtype="string"),
    })
    incidents = pd.DataFrame({
        "incident_id": ["I1", "I2"],
        "opened": [at("2026-03-05T12:00"), at("2026-03-08T08:00")],
        "resolved": pd.array([at("2026-03-05T18:00"), None], dtype="Int64"),
        "deploy_id": pd.array(["r4", None], dtype="string"),
    })
    r = dora_period(deploys, changes, incidents, at("2026-03-02T00:00"), at("2026-03-09T00:00"))
    assert r["deployment_frequency"]["per_day"] == pytest.approx(4 / 7)
    assert r["lead_time"]["p50_days"] == pytest.approx(1.0) and r["lead_time"]["p85_days"] == pytest.approx(1.275)
    assert r["lead_time"]["not_deployed"] == 1
    assert r["change_failure_rate"]["rate"] == pytest.approx(0.4)
    assert r["time_to_restore"]["p50_days"] == pytest.approx(0.25) and r["time_to_restore"]["unresolved"] == 1
    assert r["failed_deployment_recovery"]["p50_days"] == pytest.approx(0.375)
    assert r["level"]["by_metric"] == {"deployment_frequency": ["high"], "lead_time": ["high"],
                                       "change_failure_rate": [], "recovery_time": ["high", "medium"]}
    assert r["level"]["overall"] == "high"  # votes: high 3, medium 1
