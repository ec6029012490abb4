"""Deployment and incident sources: canonical CSVs, GitHub (REST and GraphQL), GitLab REST.

Hand-made inputs are written by each test (expected values beside them); the real ones are the
Apache DevLake e2e fixtures in tests/data/real/devlake-e2e (see its SOURCE.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from generator.metrics.dora import dora_period
from generator.sources import (
    KINDS,
    deployments_csv,
    github_deployments,
    gitlab_deployments,
    incidents_csv,
)
from generator.sources.base import ReadContext

REAL = Path(__file__).resolve().parent / "data" / "real" / "devlake-e2e"


def ns(text: str) -> int:
    return int(pd.Timestamp(text).tz_convert("UTC").value)


def ctx(root: Path, timezone: str = "UTC") -> ReadContext:
    return ReadContext(root, root, timezone, 0)


def codes(data: object) -> list[tuple[str, int | None]]:
    return sorted((p.code, p.location.line) for p in data.problems)  # type: ignore[attr-defined]


def test_kinds_are_registered() -> None:
    for kind, module in {"deployments-csv": deployments_csv, "incidents-csv": incidents_csv,
                         "github-deployments": github_deployments, "gitlab-deployments": gitlab_deployments}.items():
        assert KINDS[kind] is module
        with pytest.raises(ValidationError):
            module.Options.model_validate({"kind": kind, "path": "x", "colour": "red"})


# --- deployments-csv ---

DEPLOYMENTS = """deploy_id,timestamp,environment,status,sha,rollback_of,hotfix
d1,2026-03-02T10:00:00+01:00,production,success,aaa,,false
d2,2026-03-03T10:00:00Z,Production,failed,bbb,,
d3,2026-03-04 09:00,staging,success,ccc,,
d4,2026-03-05T10:00:00Z,production,running,,,
d5,2026-03-06T10:00:00Z,production,exploded,,,
d6,not a date,production,success,,,
,2026-03-07T10:00:00Z,production,success,,,
d1,2026-03-08T10:00:00Z,production,success,,,
d7,2026-03-09T10:00:00Z,production,success,ddd,d1,maybe
d8,2026-03-10T10:00:00Z,production,Success,eee,,yes
"""


def test_deployments_csv(tmp_path: Path) -> None:
    (tmp_path / "deployments.csv").write_text(DEPLOYMENTS)
    data = deployments_csv.read(deployments_csv.Options(kind="deployments-csv", path="deployments.csv"), ctx(tmp_path, "Europe/Berlin"))
    # line 5 running, 6 unknown status: W232; 7 bad time: W202; 8 no id: W203; 9 repeated d1: W212; 10 hotfix 'maybe': W205
    assert codes(data) == [("W202", 7), ("W203", 8), ("W205", 10), ("W212", 9), ("W232", 5), ("W232", 6)]
    frame = data.deployments.set_index("deploy_id")
    assert list(frame.index) == ["d1", "d2", "d3", "d4", "d5", "d7", "d8"]
    assert frame["status"].tolist() == ["success", "failure", "success", "running", "exploded", "success", "success"]
    assert frame["production"].tolist() == [True, True, False, True, True, True, True]
    assert frame.loc["d1", "ts"] == ns("2026-03-02T09:00:00Z")
    assert frame.loc["d3", "ts"] == ns("2026-03-04T08:00:00Z")  # naive: read in Europe/Berlin (UTC+1)
    assert frame.loc["d7", "rollback_of"] == "d1" and not frame.loc["d7", "hotfix"]
    assert frame.loc["d8", "hotfix"] and pd.isna(frame.loc["d4", "sha"])
    assert frame.loc["d1", "line"] == 2 and frame.loc["d8", "line"] == 11
    assert data.skipped["deployment rows without a valid timestamp"] == 1
    # finished production deployments: d1, d2 (failed), d7, d8 (d3 is staging, d4 and d5 did not finish);
    # d1 rolled back by d7, d7 hot-fixed by d8, d2 failed: CFR = 3 / 4
    result = dora_period(data.deployments, None, None, ns("2026-03-01T00:00:00Z"), ns("2026-03-15T00:00:00Z"))
    assert result["change_failure_rate"]["deployments"] == 4
    assert result["change_failure_rate"]["rate"] == pytest.approx(3 / 4)
    assert result["change_failure_rate"]["by_signal"] == {"incident": 0, "rollback": 1, "hotfix": 1}
    assert result["deployment_frequency"]["deployments"] == 3 and result["deployment_frequency"]["other"] == 2


def test_deployments_csv_minimal_and_finished_at(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("Deploy_ID,Finished_At\nr1,2026-01-05T10:00:00Z\nr2,2026-01-06T10:00:00Z\n")
    data = deployments_csv.read(deployments_csv.Options(kind="deployments-csv", path="d.csv"), ctx(tmp_path))
    assert data.problems == []
    assert data.deployments["status"].tolist() == ["success", "success"]
    assert data.deployments["environment"].tolist() == ["production", "production"] and data.deployments["production"].all()


def test_deployments_csv_environment_option(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("deploy_id,timestamp,environment\nr1,2026-01-05T10:00:00Z,prod\nr2,2026-01-06T10:00:00Z,PROD-EU\nr3,2026-01-06T10:00:00Z,qa\n")
    options = deployments_csv.Options(kind="deployments-csv", path="d.csv", environment=("prod", "prod-eu"))
    assert deployments_csv.read(options, ctx(tmp_path)).deployments["production"].tolist() == [True, True, False]


def test_deployments_csv_errors(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("deploy_id,when\nr1,2026-01-05\n")
    data = deployments_csv.read(deployments_csv.Options(kind="deployments-csv", path="d.csv"), ctx(tmp_path))
    assert codes(data) == [("E201", 1)] and data.deployments is None
    missing = deployments_csv.read(deployments_csv.Options(kind="deployments-csv", path="nope.csv"), ctx(tmp_path))
    assert [p.code for p in missing.problems] == ["E122"]


# --- incidents-csv ---

INCIDENTS = """incident_id,opened,resolved,deploy_id,severity
i1,2026-03-02T12:00:00Z,2026-03-02T14:30:00Z,d1,high
i2,2026-03-05T00:00:00Z,,,low
i3,2026-03-06T10:00:00Z,2026-03-06T09:00:00Z,,
i4,bad,2026-03-06T09:00:00Z,,
i5,2026-03-07T10:00:00Z,garbage,,
"""


def test_incidents_csv(tmp_path: Path) -> None:
    (tmp_path / "incidents.csv").write_text(INCIDENTS)
    data = incidents_csv.read(incidents_csv.Options(kind="incidents-csv", path="incidents.csv"), ctx(tmp_path))
    # line 4: resolved before opened (W233); line 5: bad opened, skipped; line 6: bad resolved, ignored
    assert codes(data) == [("W202", 5), ("W202", 6), ("W233", 4)]
    frame = data.incidents.set_index("incident_id")
    assert list(frame.index) == ["i1", "i2", "i3", "i5"]
    assert frame.loc["i1", "resolved"] - frame.loc["i1", "opened"] == int(2.5 * 3600 * 10**9)
    assert frame["resolved"].isna().tolist() == [False, True, True, True]
    assert frame.loc["i1", "deploy_id"] == "d1" and frame.loc["i1", "severity"] == "high"
    assert str(frame["resolved"].dtype) == "Int64"


def test_incidents_and_deployments_together(tmp_path: Path) -> None:
    (tmp_path / "deployments.csv").write_text(DEPLOYMENTS)
    (tmp_path / "incidents.csv").write_text(INCIDENTS)
    deps = deployments_csv.read(deployments_csv.Options(kind="deployments-csv", path="deployments.csv"), ctx(tmp_path, "Europe/Berlin")).deployments
    incs = incidents_csv.read(incidents_csv.Options(kind="incidents-csv", path="incidents.csv"), ctx(tmp_path)).incidents
    result = dora_period(deps, None, incs, ns("2026-03-01T00:00:00Z"), ns("2026-03-15T00:00:00Z"))
    assert result["time_to_restore"]["incidents"] == 4 and result["time_to_restore"]["unresolved"] == 3
    assert result["time_to_restore"]["p50_days"] == pytest.approx(2.5 / 24)
    # i1 names d1 (09:00Z): resolved 14:30Z -> 5.5 h
    assert result["failed_deployment_recovery"]["p50_days"] == pytest.approx(5.5 / 24)
    assert result["change_failure_rate"]["by_signal"]["incident"] == 1


# --- github-deployments ---

GITHUB_REST = [
    {"deployment": {"id": 101, "sha": "a" * 40, "ref": "main", "environment": "production", "production_environment": True, "created_at": "2025-06-02T14:05:11Z"},
     "statuses": [{"state": "success", "created_at": "2025-06-02T14:11:48Z"}, {"state": "in_progress", "created_at": "2025-06-02T14:06:30Z"},
                  {"state": "queued", "created_at": "2025-06-02T14:05:12Z"}]},
    {"deployment": {"id": 102, "sha": "b" * 40, "environment": "prod-eu", "production_environment": True, "created_at": "2025-06-03T09:50:00Z"},
     "statuses": [{"state": "in_progress", "created_at": "2025-06-03T09:55:00Z"}, {"state": "failure", "created_at": "2025-06-03T10:00:00Z"}]},  # oldest first
    {"deployment": {"id": 103, "sha": "c" * 40, "environment": "staging", "production_environment": False, "created_at": "2025-06-03T11:00:00Z"},
     "statuses": [{"state": "success", "created_at": "2025-06-03T11:02:00Z"}]},
    {"deployment": {"id": 104, "sha": "d" * 40, "environment": "Production", "created_at": "2025-06-04T07:55:00Z"},
     "statuses": [{"state": "inactive", "created_at": "2025-06-10T08:00:00Z"}, {"state": "success", "created_at": "2025-06-04T08:00:00Z"}]},
    {"deployment": {"id": 105, "environment": "production", "created_at": "2025-06-05T07:00:00Z"},
     "statuses": [{"state": "in_progress", "created_at": "2025-06-05T07:01:00Z"}]},
    {"deployment": {"id": 106, "environment": "production", "created_at": "2025-06-05T08:00:00Z"},
     "statuses": [{"state": "error", "created_at": "2025-06-05T08:03:00Z"}]},
]


def test_github_rest_pairs(tmp_path: Path) -> None:
    (tmp_path / "deployments.json").write_text(json.dumps(GITHUB_REST, indent=1))
    data = github_deployments.read(github_deployments.Options(kind="github-deployments", path="deployments.json"), ctx(tmp_path))
    frame = data.deployments.set_index("deploy_id")
    assert frame["status"].to_dict() == {"101": "success", "102": "failure", "103": "success", "104": "success", "105": "in_progress", "106": "failure"}
    assert frame["production"].to_dict() == {"101": True, "102": True, "103": False, "104": True, "105": True, "106": True}
    assert frame.loc["101", "ts"] == ns("2025-06-02T14:11:48Z")  # the success status, not created_at
    assert frame.loc["102", "ts"] == ns("2025-06-03T10:00:00Z")  # statuses sorted by time: failure is the latest
    assert frame.loc["104", "ts"] == ns("2025-06-04T08:00:00Z")  # inactive after success: success, at the success
    assert frame.loc["101", "sha"] == "a" * 40
    assert [(p.code, p.location.line) for p in data.problems] == [("W232", frame.loc["105", "line"])]
    assert frame.loc["101", "line"] == 2 and frame["line"].is_monotonic_increasing


def test_github_rest_embedded_and_graphql_response(tmp_path: Path) -> None:
    embedded = [{"id": 201, "sha": "e" * 40, "environment": "production", "created_at": "2025-07-01T10:00:00Z",
                 "statuses": [{"state": "success", "created_at": "2025-07-01T10:05:00Z"}]}]
    (tmp_path / "embedded.json").write_text(json.dumps(embedded))
    graphql = {"data": {"repository": {"deployments": {"nodes": [
        {"databaseId": 301, "commitOid": "f" * 40, "environment": "production", "createdAt": "2025-07-02T10:00:00Z",
         "statuses": {"nodes": [{"state": "FAILURE", "updatedAt": "2025-07-02T10:04:00Z"}, {"state": "IN_PROGRESS", "updatedAt": "2025-07-02T10:01:00Z"}]},
         "latestStatus": {"state": "FAILURE", "updatedAt": "2025-07-02T10:04:00Z"}}]}}}}
    (tmp_path / "graphql.json").write_text(json.dumps(graphql))
    a = github_deployments.read(github_deployments.Options(kind="github-deployments", path="embedded.json"), ctx(tmp_path)).deployments
    assert a[["deploy_id", "ts", "status"]].values.tolist() == [["201", ns("2025-07-01T10:05:00Z"), "success"]]
    b = github_deployments.read(github_deployments.Options(kind="github-deployments", path="graphql.json"), ctx(tmp_path)).deployments
    assert b[["deploy_id", "ts", "status", "sha"]].values.tolist() == [["301", ns("2025-07-02T10:04:00Z"), "failure", "f" * 40]]


def test_github_bad_json(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text('[{"id": 1,\n "x": ]')
    data = github_deployments.read(github_deployments.Options(kind="github-deployments", path="bad.json"), ctx(tmp_path))
    assert [p.code for p in data.problems] == ["E200"] and data.problems[0].location.line == 2


def test_github_graphql_real_fixture() -> None:
    path = "github_graphql/_raw_github_graphql_deployment.csv"
    default = github_deployments.read(github_deployments.Options(kind="github-deployments", path=path), ctx(REAL)).deployments
    assert len(default) == 7 and not default["production"].any()  # environment github-pages is not "production"
    data = github_deployments.read(github_deployments.Options(kind="github-deployments", path=path, environment="github-pages"), ctx(REAL))
    frame = data.deployments.set_index("deploy_id")
    assert data.problems == []
    assert len(frame) == 7 and frame["production"].all() and set(frame["status"]) == {"success"}
    # row 7 of the table: SUCCESS at 2026-02-20T00:30:59Z; row 6: INACTIVE, earlier SUCCESS at 2026-02-14T00:32:36Z
    assert frame.loc["3881429895", "ts"] == ns("2026-02-20T00:30:59Z")
    assert frame.loc["3839563910", "ts"] == ns("2026-02-14T00:32:36Z")
    # rows 1..5 have no status history: row 1 latest SUCCESS (its time), rows 2..5 INACTIVE (timed by createdAt)
    assert frame.loc["1707033729", "ts"] == ns("2024-08-08T00:18:12Z")
    assert frame.loc["1670973641", "ts"] == ns("2024-07-24T00:18:51Z")
    assert data.notes["github_deployments_timed_by_created_at"] == 4
    assert frame.loc["3881429895", "sha"] == "0916a0afdfa825779c892a8951bde706a054d352"
    assert sorted(frame["line"]) == list(range(2, 9))


# --- gitlab-deployments ---


def test_gitlab_real_fixture() -> None:
    path = "gitlab/_raw_gitlab_api_deployments.csv"
    data = gitlab_deployments.read(gitlab_deployments.Options(kind="gitlab-deployments", path=path), ctx(REAL))
    frame = data.deployments.set_index("deploy_id")
    assert len(frame) == 8
    # every deployment has a different status; only `success` succeeded and only `failed` failed
    assert frame["status"].to_dict() == {
        "13426753": "success", "13432654": "completed", "13432768": "failure", "13436532": "canceled",
        "13436763": "created", "13436778": "running", "13436986": "blocked", "13436915": "undeployed",
    }
    assert frame.index[frame["status"] == "success"].tolist() == ["13426753"]
    # the deployment's status decides, not the CI job's (13426753's deployable failed)
    assert frame.loc["13426753", "ts"] == ns("2019-03-13T14:17:47.640Z")  # deployable.finished_at
    assert frame.loc["13432768", "ts"] == ns("2019-03-13T15:02:23.332Z")  # no finished_at: updated_at
    assert frame.index[frame["production"]].tolist() == ["13436532", "13436763", "13436986"]
    w232 = sorted((p.location.line, "unknown" in p.message) for p in data.problems if p.code == "W232")
    assert w232 == [(3, True), (5, False), (6, False), (7, False), (8, False), (9, True)]
    assert {p.code for p in data.problems} == {"W232"}
    result = dora_period(data.deployments, None, None, ns("2019-03-01T00:00:00Z"), ns("2019-04-01T00:00:00Z"))
    assert result["deployment_frequency"]["deployments"] == 0  # the success was on staging
    assert result["deployment_frequency"]["other"] == 3 and result["change_failure_rate"]["rate"] is None


def test_gitlab_json_array(tmp_path: Path) -> None:
    rows = [{"id": 1, "iid": 1, "sha": "a" * 40, "status": "success", "created_at": "2025-01-15T10:02:55.117Z", "updated_at": "2025-01-15T10:09:31.640Z",
             "environment": {"name": "production"}, "deployable": {"status": "success", "finished_at": "2025-01-15T10:09:30.882Z"}},
            {"id": 2, "iid": 2, "sha": "b" * 40, "status": "failed", "created_at": "2025-01-16T10:00:00Z", "environment": {"name": "production"}}]
    (tmp_path / "deployments.json").write_text(json.dumps(rows))
    data = gitlab_deployments.read(gitlab_deployments.Options(kind="gitlab-deployments", path="deployments.json"), ctx(tmp_path))
    assert data.problems == []
    assert data.deployments[["deploy_id", "ts", "status"]].values.tolist() == [
        ["1", ns("2025-01-15T10:09:30.882Z"), "success"], ["2", ns("2025-01-16T10:00:00Z"), "failure"]]
