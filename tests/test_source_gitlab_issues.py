"""`gitlab-issues`: hand-made issues with resource state and label events
(tests/data/sources/gitlab_*.json) and DevLake's gitlab.com issue payloads.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from generator.sources import gitlab_issues
from generator.sources.base import ReadContext, SourceData

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "sources"
REAL = DATA / "real" / "devlake-e2e" / "gitlab"
csv.field_size_limit(2**31 - 1)


def context(tmp_path: Path) -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, "UTC", 0)


def read(ctx: ReadContext, path: str, **options: object) -> SourceData:
    return gitlab_issues.read(gitlab_issues.Options(kind="gitlab-issues", path=path, **options), ctx)


def timeline(events: pd.DataFrame, item: str) -> list[tuple[str, str, int]]:
    rows = events[events["item_id"] == item]
    return [(pd.Timestamp(int(t), tz="UTC").strftime("%m-%dT%H:%M:%S.%f")[:-3], str(s), int(b)) for t, s, b in zip(rows["ts"], rows["state"], rows["blocked"], strict=True)]


@pytest.fixture
def small(tmp_path: Path) -> ReadContext:
    ctx = context(tmp_path)
    for name in ("gitlab_issues.json", "gitlab_state_events.json", "gitlab_label_events.json"):
        shutil.copy(SOURCES / name, ctx.stream_dir / name)
    return ctx


def test_scoped_labels_state_events_and_blocked(small: ReadContext) -> None:
    data = read(small, "gitlab_issues.json", state_events="gitlab_state_events.json", label_events="gitlab_label_events.json")
    ev = data.events
    assert timeline(ev, "#1") == [
        ("01-13T09:00:00.000", "Open", -1),  # not in the events: the issue starts open at created_at
        ("01-14T10:00:00.000", "in dev", -1),
        ("01-15T10:22:05.311", "in review", -1),  # add + remove at one instant: one row, the new state
        ("01-16T10:00:00.000", "in review", 1),
        ("01-17T10:00:00.000", "in review", 0),
        ("01-20T10:00:00.000", "Closed", -1),
    ]
    assert timeline(ev, "#2") == [
        ("01-14T09:00:00.000", "Open", -1),
        ("01-15T09:00:00.000", "in dev", -1),
        ("01-16T12:00:00.000", "Closed", -1),
        ("01-17T12:00:00.000", "in dev", -1),  # reopened: back to its scoped label
    ]
    assert timeline(ev, "#3") == [("01-15T09:00:00.000", "Open", -1), ("01-16T09:00:00.000", "Closed", -1)]  # closed_at
    assert ev.loc[ev["item_id"] == "#3", "actor"].tolist() == ["lena", "lena"]
    items = data.items.set_index("item_id")
    assert items.loc["#2", "type"] == "incident" and items.loc["#1", "url"] == "https://gitlab.example.com/acme/shop/-/issues/1"
    problems = sorted((p.code, p.location.path, p.location.line) for p in data.problems)
    assert problems == [
        ("W222", "streams/s/gitlab_label_events.json", 7),  # label null: the label was deleted
        ("W222", "streams/s/gitlab_state_events.json", 6),  # resource_id 999 is not in the issues file
        ("W225", "streams/s/gitlab_label_events.json", 10),  # event 9000 listed twice
    ]
    assert data.skipped["events of MergeRequest resources"] == 1
    assert data.skipped["label events of deleted labels"] == 1
    assert data.skipped["label events that are not statuses"] == 1


def test_remove_and_add_in_either_order(small: ReadContext) -> None:
    events = json.loads((SOURCES / "gitlab_label_events.json").read_text(encoding="utf-8"))
    events[1], events[2] = events[2], events[1]  # remove listed before add
    (small.stream_dir / "reversed.json").write_text(json.dumps(events), encoding="utf-8")
    data = read(small, "gitlab_issues.json", label_events="reversed.json")
    assert [s for _, s, _ in timeline(data.events, "#1")] == ["Open", "in dev", "in review", "in review", "in review", "Closed"]


def test_other_scope_and_no_blocked_label(small: ReadContext) -> None:
    data = read(small, "gitlab_issues.json", label_events="gitlab_label_events.json", scope="Priority", blocked_label=None, open_state="New")
    assert timeline(data.events, "#1") == [("01-13T09:00:00.000", "New", -1), ("01-20T10:00:00.000", "Closed", -1)]


def test_scoped_state() -> None:
    assert gitlab_issues.scoped_state("workflow::in dev", "workflow") == "in dev"
    assert gitlab_issues.scoped_state("Workflow::X - blocked", "workflow") == "X - blocked"
    assert gitlab_issues.scoped_state("team::workflow::doing", "team::workflow") == "doing"
    assert gitlab_issues.scoped_state("Priority::3-Other", "workflow") is None
    assert gitlab_issues.scoped_state("workflow", "workflow") is None


def test_devlake_gitlab_issues(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    with open(REAL / "_raw_gitlab_api_issues.csv", encoding="utf-8", newline="") as f:
        issues = [json.loads(row["data"]) for row in csv.DictReader(f)]
    folder = ctx.stream_dir / "issues"
    folder.mkdir()
    for issue in issues:  # one file per issue, as a per-issue download would give
        (folder / f"{issue['iid']:03d}.json").write_text(json.dumps(issue), encoding="utf-8")
    data = read(ctx, "issues")
    closed = {f"#{i['iid']}": i["closed_at"] for i in issues if i["state"] == "closed"}
    assert len(issues) == 16 and len(closed) == 12
    assert len(data.items) == 16 and len(data.events) == 16 + 12
    got = data.events[data.events["state"] == "Closed"]
    expected = {k: pd.Timestamp(datetime.fromisoformat(v.replace("Z", "+00:00"))).as_unit("ns").value for k, v in closed.items()}
    assert dict(zip(got["item_id"], got["ts"], strict=True)) == expected
    items = data.items.set_index("item_id")
    assert items.loc["#16", "title"].startswith("Release new snowplow spend pac")
    assert items.loc["#1", "url"] == "https://gitlab.com/gitlab-data/snowflake_spend/-/issues/1"
    assert items.loc["#1", "created"] == pd.Timestamp("2019-06-20T15:04:58.946Z").as_unit("ns").value
    assert not data.problems
    # the current scoped labels (workflow::5 - development) carry no date: without label events they are not states
    assert set(data.events["state"]) == {"Open", "Closed"}
