"""`github-issues`: hand-made issues and repo-wide events (tests/data/sources/github_*.json),
per-issue event files (issueshark, composer/composer) and DevLake's panjf2000/ants payloads.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from generator.sources import github_issues
from generator.sources.base import ReadContext, SourceData

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "sources"
SHARK = DATA / "real" / "issueshark-fixtures" / "github"
ANTS = DATA / "real" / "devlake-e2e" / "github"
csv.field_size_limit(2**31 - 1)


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()) * 10**9


def context(tmp_path: Path) -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, "UTC", 0)


def read(ctx: ReadContext, path: str, **options: object) -> SourceData:
    return github_issues.read(github_issues.Options(kind="github-issues", path=path, **options), ctx)


def timeline(events: pd.DataFrame, item: str) -> list[tuple[str, str, int]]:
    rows = events[events["item_id"] == item]
    return [(pd.Timestamp(int(t), tz="UTC").strftime("%m-%dT%H:%M:%S"), str(s), int(b)) for t, s, b in zip(rows["ts"], rows["state"], rows["blocked"], strict=True)]


def raw(name: str) -> list[dict[str, object]]:
    with open(ANTS / name, encoding="utf-8", newline="") as f:
        return [json.loads(row["data"]) for row in csv.DictReader(f)]


@pytest.fixture
def small(tmp_path: Path) -> ReadContext:
    ctx = context(tmp_path)
    for name in ("github_issues.json", "github_events.json"):
        shutil.copy(SOURCES / name, ctx.stream_dir / name)
    return ctx


def test_hand_made_issues_and_events(small: ReadContext) -> None:
    data = read(small, "github_issues.json", events="github_events.json")
    ev = data.events
    # 1: status label, blocked label set and cleared (any case), closed; a duplicate closed event counts once
    assert timeline(ev, "#1") == [
        ("02-01T09:00:00", "Open", -1),
        ("02-03T09:12:44", "in progress", -1),
        ("02-04T10:00:00", "in progress", 1),
        ("02-05T10:00:00", "in progress", 0),
        ("02-06T11:03:19", "Closed", -1),
    ]
    # 2: closed as not planned and no events: closed at closed_at
    assert timeline(ev, "#2") == [("02-02T08:00:00", "Open", -1), ("02-03T08:00:00", "Won't Do", -1)]
    # 3: a status label at the creation instant gives one row; reopen returns to the label; projects
    assert timeline(ev, "#3") == [
        ("02-02T10:00:00", "Review", -1),
        ("02-03T10:00:00", "Won't Do", -1),
        ("02-04T10:00:00", "Review", -1),
        ("02-05T10:00:00", "In QA", -1),
        ("02-06T10:00:00", "In QA", -1),  # the label went, the project status stays
        ("02-07T10:00:00", "Doing", -1),
    ]
    assert set(ev["item_id"]) == {"#1", "#2", "#3"}  # the pull request (#4) is left out
    assert ev.loc[ev["item_id"] == "#1", "actor"].tolist() == ["mrivera"] * 5
    assert ev.loc[ev["item_id"] == "#2", "actor"].isna().tolist() == [False, True]
    row = ev[(ev["item_id"] == "#3")].iloc[0]
    assert (row["file"], row["line"]) == ("streams/s/github_events.json", 7)  # the last change at that instant
    items = data.items.set_index("item_id")
    assert items.loc["#1", "url"] == "https://github.com/acme/shop/issues/1"
    assert pd.isna(items.loc["#3", "url"])  # javascript: is never linked
    assert items.loc["#2", "type"] == "Bug" and pd.isna(items.loc["#1", "type"])
    assert items.loc["#1", "created"] == ns("2025-02-01T09:00:00Z")
    assert sorted(p.code for p in data.problems) == ["W222", "W222", "W225"]
    unknown = next(p for p in data.problems if "not in the issues file" in p.message)
    assert "#99" in unknown.message and unknown.count == 1
    assert data.skipped["pull requests (include_pull_requests is off)"] == 1
    assert data.skipped["events of pull requests"] == 1
    assert data.skipped["label events that are not statuses"] == 1
    assert data.skipped["events that do not change state"] == 1
    assert data.skipped["closed issues without a 'closed' event (closed at closed_at)"] == 1
    assert data.inputs == ["streams/s/github_issues.json", "streams/s/github_events.json"]


def test_options_change_the_mapping(small: ReadContext) -> None:
    data = read(small, "github_issues.json", events="github_events.json", include_pull_requests=True,
                label_states={"BUG": "Triage"}, blocked_label=None, closed_state="Done", id_prefix="shop#")
    ev = data.events
    assert timeline(ev, "shop#1") == [
        ("02-01T09:00:00", "Triage", -1),  # `bug` at creation, mapped case-insensitively
        ("02-03T09:12:44", "in progress", -1),
        ("02-06T11:03:19", "Done", -1),  # no blocked label: those events change nothing
    ]
    assert timeline(ev, "shop#4") == [("02-02T11:00:00", "Open", -1), ("02-02T12:00:00", "Done", -1)]
    assert data.items.set_index("item_id").loc["shop#4", "type"] == "Pull request"


def test_without_events_issues_open_and_close(small: ReadContext) -> None:
    data = read(small, "github_issues.json")
    assert timeline(data.events, "#1") == [("02-01T09:00:00", "Open", -1), ("02-06T11:03:19", "Closed", -1)]
    assert timeline(data.events, "#3") == [("02-02T10:00:00", "Open", -1)]


def test_per_issue_event_files_take_the_number_from_the_name(tmp_path: Path) -> None:
    """issueshark: composer/composer #6050 closed, reopened, labeled Support (not a status); #6131 untouched."""
    ctx = context(tmp_path)
    (ctx.stream_dir / "issues").mkdir()
    (ctx.stream_dir / "events").mkdir()
    for n in (6050, 6131):
        shutil.copy(SHARK / f"issue_{n}.json", ctx.stream_dir / "issues")
        shutil.copy(SHARK / f"issue_{n}_events.json", ctx.stream_dir / "events")
    data = read(ctx, "issues", events="events")
    assert timeline(data.events, "#6050") == [("01-07T12:55:43", "Open", -1), ("01-07T13:02:14", "Closed", -1), ("01-10T11:03:36", "Open", -1)]
    assert timeline(data.events, "#6131") == [("02-04T14:33:47", "Open", -1)]
    assert not data.problems
    assert data.skipped["label events that are not statuses"] == 3  # Support, Solver, Support
    assert data.items.set_index("item_id").loc["#6050", "url"] == "https://github.com/composer/composer/issues/6050"
    # without a number in the file name the events cannot be placed
    shutil.copy(SHARK / "issue_6050_events.json", ctx.stream_dir / "events.json")
    data = read(ctx, "issues", events="events.json")
    assert [p.code for p in data.problems] == ["W203"] * 3
    assert data.problems[0].location == github_issues.Location("streams/s/events.json", 2)
    assert data.skipped["events without an issue number"] == 3


def test_devlake_ants_issues_without_events(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    issues = raw("_raw_github_api_issues.csv")
    (ctx.stream_dir / "issues.json").write_text(json.dumps(issues), encoding="utf-8")
    pulls = [i for i in issues if i.get("pull_request")]
    assert len(issues) == 42 and len(pulls) == 16
    data = read(ctx, "issues.json")
    assert len(data.items) == 26 and len(data.events) == 52  # every issue is closed: open + closed
    closed = data.events[data.events["state"] == "Closed"]
    expected = {f"#{i['number']}": ns(str(i["closed_at"])) for i in issues if not i.get("pull_request")}
    assert dict(zip(closed["item_id"], closed["ts"], strict=True)) == expected
    assert data.skipped["pull requests (include_pull_requests is off)"] == 16
    # the export holds pull request #4 twice: with pull requests, 41 items and a W225
    both = read(ctx, "issues.json", include_pull_requests=True)
    assert len({i["number"] for i in issues}) == 41 and both.items.shape[0] == 41
    assert [p.code for p in both.problems] == ["W225"] and "#4" in both.problems[0].message


def test_devlake_ants_repo_wide_events(tmp_path: Path) -> None:
    """Repo-wide events carry their issue; the issues file is made of those embedded issue objects."""
    ctx = context(tmp_path)
    events = raw("_raw_github_api_events.csv")
    issues = list({e["issue"]["number"]: e["issue"] for e in events}.values())  # type: ignore[index]
    (ctx.stream_dir / "issues.json").write_text(json.dumps(issues), encoding="utf-8")
    (ctx.stream_dir / "events.json").write_text(json.dumps(events), encoding="utf-8")
    data = read(ctx, "issues.json", events="events.json",
                label_states={"question": "Triage", "pending development": "Ready", "waiting for response": "Waiting"})
    assert len(issues) == 18 and len(data.items) == 15  # 206, 210 and 211 are pull requests
    ev = data.events
    assert timeline(ev, "#220") == [("04-21T01:11:58", "Triage", -1), ("04-24T15:19:07", "Waiting", -1), ("05-07T11:29:32", "Closed", -1)]
    assert timeline(ev, "#212") == [("02-08T22:16:27", "Open", -1), ("02-09T15:00:46", "Ready", -1), ("03-08T08:30:19", "Closed", -1)]
    assert timeline(ev, "#226") == [("05-21T16:39:29", "Open", -1), ("05-22T10:46:11", "Won't Do", -1)]  # state_reason not_planned
    assert timeline(ev, "#228") == [("06-02T08:13:04", "Triage", -1), ("06-09T01:42:11", "Closed", -1)]
    assert timeline(ev, "#225") == [("05-20T16:14:22", "Triage", -1)]
    # the export repeats event 6774117135 (#228 closed): counted once, warned
    assert [p.code for p in data.problems] == ["W225"] and "6774117135" in data.problems[0].message
    assert data.skipped["events of pull requests"] == 10
    assert data.skipped["closed issues without a 'closed' event (closed at closed_at)"] == 1  # 212
