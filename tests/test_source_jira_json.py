"""`jira-json`: hand-made issues (tests/data/sources/jira_small.json), every file shape, broken
files, overlapping exports, a large streamed export, and the real DevLake Jira Cloud and
Apache Jira Server payloads (tests/data/real/), checked against independent scans.
"""

from __future__ import annotations

import csv
import json
import shutil
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from generator.metrics.engine import compute_items
from generator.sources import jira_json, json_records
from generator.sources.base import ReadContext
from generator.sources.collect import read_stream
from generator.validate.stream import load_project

DATA = Path(__file__).parent / "data"
SMALL = DATA / "sources" / "jira_small.json"
DEVLAKE = DATA / "real" / "devlake-e2e"
DRILL = DATA / "real" / "issueshark-fixtures" / "jira"
csv.field_size_limit(2**31 - 1)


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).astimezone(UTC).timestamp() * 1000) * 1_000_000


def context(tmp_path: Path, timezone_name: str = "UTC") -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, timezone_name, 0)


def read(ctx: ReadContext, path: str, **options: object) -> jira_json.SourceData:
    return jira_json.read(jira_json.Options(kind="jira-json", path=path, **options), ctx)


def timeline(events: pd.DataFrame, item: str) -> list[tuple[int, str | None, int, str | None]]:
    rows = events[events["item_id"] == item]
    return [(int(t), None if pd.isna(s) else str(s), int(b), None if pd.isna(a) else str(a))
            for t, s, b, a in zip(rows["ts"], rows["state"], rows["blocked"], rows["actor"], strict=True)]


def codes(data: jira_json.SourceData) -> list[str]:
    return sorted(p.code for p in data.problems)


def devlake_issues() -> list[dict[str, object]]:
    with open(DEVLAKE / "jira" / "_raw_jira_api_issues.csv", encoding="utf-8", newline="") as f:
        return [json.loads(row["data"]) for row in csv.DictReader(f)]


# ---------------------------------------------------------------- hand-made issues


def test_small_export_gives_the_hand_worked_timelines(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    shutil.copy(SMALL, ctx.stream_dir / "issues.json")
    data = read(ctx, "issues.json", base_url="https://example.atlassian.net/")
    ev = data.events
    # PAY-1: histories come newest first; Flagged set on 03-07 (field name in any case), cleared on 03-08
    assert timeline(ev, "PAY-1") == [
        (ns("2024-03-04T08:15:22.118+00:00"), "To Do", -1, "acc-0"),  # initial = first change's fromString
        (ns("2024-03-05T09:01:07.004+00:00"), "In Progress", -1, "acc-1"),
        (ns("2024-03-07T13:30:55.310+00:00"), None, 1, "acc-2"),
        (ns("2024-03-08T09:00:00+00:00"), None, 0, "acc-2"),
        (ns("2024-03-12T15:02:40.517+00:00"), "Done", -1, "acc-1"),
    ]
    # PAY-2 never moved: its current status from creation; +0800 is converted to UTC
    assert timeline(ev, "PAY-2") == [(ns("2024-03-06T00:00:00+00:00"), "To Do", -1, None)]
    # PAY-3: only the newest 2 of 150 histories; Server authors: name, or key when the name is an e-mail
    assert timeline(ev, "PAY-3") == [
        (ns("2024-03-20T12:00:00+00:00"), "In Progress", -1, None),
        (ns("2024-04-01T12:00:00+00:00"), "In Review", -1, "JIRAUSER9"),
        (ns("2024-04-02T12:00:00+00:00"), "Done", -1, "jdoe"),
    ]
    # PAY-4: the history without `created` is skipped (W202)
    assert timeline(ev, "PAY-4") == [
        (ns("2024-03-10T10:00:00+00:00"), "Backlog", -1, None),
        (ns("2024-03-11T10:00:00+00:00"), "Selected", -1, "acc-1"),
    ]
    assert not ev["actor"].dropna().str.contains("@").any()
    assert set(ev["file"]) == {"streams/s/issues.json"}
    assert ev.groupby("item_id")["line"].first().to_dict() == {"PAY-1": 1, "PAY-2": 2, "PAY-3": 3, "PAY-4": 4}
    items = data.items.set_index("item_id")
    assert list(items.index) == ["PAY-1", "PAY-2", "PAY-3", "PAY-4"]
    assert items.loc["PAY-1", "type"] == "Story" and items.loc["PAY-2", "type"] == "Bug"
    assert items.loc["PAY-1", "title"] == "Retry failed webhook deliveries"
    assert items.loc["PAY-1", "created"] == ns("2024-03-04T08:15:22.118+00:00")
    assert items.loc["PAY-3", "url"] == "https://example.atlassian.net/browse/PAY-3"
    assert codes(data) == ["W202", "W221"]
    w221 = next(p for p in data.problems if p.code == "W221")
    assert "PAY-3" in w221.message and "2 of 150" in w221.message and w221.location.line == 22  # the line PAY-3 starts on
    w202 = next(p for p in data.problems if p.code == "W202")
    assert "PAY-4" in w202.message and w202.location.path == "streams/s/issues.json"
    assert data.skipped["events without a valid instant"] == 1
    assert data.notes["status_categories"] == {"Done": ["done"], "In Progress": ["indeterminate"], "To Do": ["new"]}
    assert data.inputs == ["streams/s/issues.json"]


def _shape_files(tmp_path: Path) -> dict[str, str]:
    issues = json.loads(SMALL.read_text(encoding="utf-8"))
    ctx = context(tmp_path)
    d = ctx.stream_dir
    (d / "search.json").write_text(json.dumps({"expand": "schema,names", "startAt": 0, "maxResults": 50, "total": 4, "issues": issues}, indent=2), encoding="utf-8")
    (d / "issues.jsonl").write_text("".join(json.dumps(i) + "\n" for i in issues), encoding="utf-8")
    (d / "lines.json").write_text("\n".join(json.dumps(i) for i in issues), encoding="utf-8")
    (d / "pages").mkdir()
    for n, issue in enumerate(issues):
        (d / "pages" / f"{n:02d}-{issue['key']}.json").write_text(json.dumps(issue, indent=1), encoding="utf-8")
    (d / "pages" / "notes.txt").write_text("not read", encoding="utf-8")
    return {"array": "issues.json", "search": "search.json", "jsonl": "issues.jsonl", "lines": "lines.json", "folder": "pages"}


def test_every_file_shape_gives_the_same_events(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    shutil.copy(SMALL, ctx.stream_dir / "issues.json")
    shapes = _shape_files(tmp_path)
    cols = ["item_id", "ts", "state", "blocked", "actor"]
    base = read(ctx, shapes["array"])
    for name, path in shapes.items():
        data = read(ctx, path)
        pd.testing.assert_frame_equal(data.events[cols], base.events[cols], obj=name)
        pd.testing.assert_frame_equal(data.items.drop(columns=["file", "line"]), base.items.drop(columns=["file", "line"]), obj=name)
        assert codes(data) == ["W202", "W221"], name
    # line: the record's position in an array, its line in JSON Lines
    assert read(ctx, "issues.jsonl").items["line"].tolist() == [1, 2, 3, 4]
    # a search response that is one page of several
    page = json.loads((ctx.stream_dir / "search.json").read_text(encoding="utf-8"))
    page["total"] = 120
    (ctx.stream_dir / "page1.json").write_text(json.dumps(page), encoding="utf-8")
    w221 = [p for p in read(ctx, "page1.json").problems if p.code == "W221" and "pages are missing" in p.message]
    assert len(w221) == 1 and "120 issues, the files hold 4" in w221[0].message
    assert read(ctx, "search.json").items["line"].tolist() == [1, 2, 3, 4]
    folder = read(ctx, "pages")
    assert folder.inputs == [f"streams/s/pages/{n:02d}-PAY-{n + 1}.json" for n in range(4)]
    assert folder.items["line"].tolist() == [1, 1, 1, 1]


def test_truncated_export_keeps_the_records_before_the_cut(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    text = SMALL.read_text(encoding="utf-8")
    cut = text.index('"key": "PAY-3"') + 40
    (ctx.stream_dir / "cut.json").write_text(text[:cut], encoding="utf-8")
    data = read(ctx, "cut.json")
    assert sorted(data.items["item_id"]) == ["PAY-1", "PAY-2"]
    w220 = [p for p in data.problems if p.code == "W220"]
    assert len(w220) == 1 and "record 3" in w220[0].message and "truncated" in w220[0].message
    assert w220[0].location == jira_json.Location("streams/s/cut.json", 22)  # where PAY-3 starts
    assert data.skipped["malformed JSON records"] == 1
    assert len(data.events) == 5 + 1


def test_a_malformed_record_in_the_middle_is_skipped_and_reading_goes_on(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    issues = json.loads(SMALL.read_text(encoding="utf-8"))
    parts = [json.dumps(issues[0]), '{"key": "BAD-1", "fields": {"created": tru}}', json.dumps(issues[1])]
    (ctx.stream_dir / "bad.json").write_text("[\n" + ",\n".join(parts) + "\n]\n", encoding="utf-8")
    data = read(ctx, "bad.json")
    assert sorted(data.items["item_id"]) == ["PAY-1", "PAY-2"]
    bad = [p for p in data.problems if p.code == "W220"]
    assert [(p.location.line, "record 2" in p.message) for p in bad] == [(3, True)]
    # JSON Lines: the bad line is skipped, the line numbers stay right
    lines = [json.dumps(issues[0]), "{not json", json.dumps(issues[2])]
    (ctx.stream_dir / "bad.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = read(ctx, "bad.jsonl")
    assert data.items["item_id"].tolist() == ["PAY-1", "PAY-3"] and data.items["line"].tolist() == [1, 3]
    assert [p.location.line for p in data.problems if p.code == "W220"] == [2]


@pytest.mark.parametrize(
    ("content", "reason"),
    [("[{", "ends inside"), ("", "empty"), ("<html><body>Rate limited</body></html>", "not JSON"), ("\xff\xfe", None)],
)
def test_files_that_cannot_be_read_at_all_are_errors(tmp_path: Path, content: str, reason: str | None) -> None:
    ctx = context(tmp_path)
    path = ctx.stream_dir / "broken.json"
    if content == "\xff\xfe":
        path.write_bytes(b"[\xff\xfe]")
    else:
        path.write_text(content, encoding="utf-8")
    data = read(ctx, "broken.json")
    assert codes(data) == ["E200"]
    assert data.problems[0].location.path == "streams/s/broken.json"
    if reason:
        assert reason in data.problems[0].message
    assert data.events is not None and len(data.events) == 0


def test_missing_path_and_empty_folder(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    assert codes(read(ctx, "nope.json")) == ["E122"]
    (ctx.stream_dir / "empty").mkdir()
    assert codes(read(ctx, "empty")) == ["E200"]


def test_overlapping_exports_count_each_history_once(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    issues = json.loads(SMALL.read_text(encoding="utf-8"))
    old = json.loads(json.dumps(issues[0]))
    old["changelog"]["histories"] = old["changelog"]["histories"][2:]  # the two oldest histories
    old["changelog"]["total"] = 2
    folder = ctx.stream_dir / "exports"
    folder.mkdir()
    (folder / "2024-03-07.json").write_text(json.dumps([old, issues[1]]), encoding="utf-8")
    (folder / "2024-03-13.json").write_text(json.dumps(issues[:2]), encoding="utf-8")
    data = read(ctx, "exports")
    shutil.copy(SMALL, ctx.stream_dir / "issues.json")
    once = read(ctx, "issues.json")
    cols = ["item_id", "ts", "state", "blocked", "actor"]
    pd.testing.assert_frame_equal(data.events[cols], once.events[once.events["item_id"].isin(["PAY-1", "PAY-2"])][cols].reset_index(drop=True))
    w225 = [p for p in data.problems if p.code == "W225"]
    assert len(w225) == 2 and all(p.location.path == "streams/s/exports/2024-03-13.json" for p in w225)
    assert "first at streams/s/exports/2024-03-07.json:1" in w225[0].message
    assert data.skipped["histories repeated across exports"] == 2
    assert data.skipped["issues repeated across exports"] == 2
    assert len(data.items) == 2


def test_records_that_are_not_issues(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (ctx.stream_dir / "odd.json").write_text(json.dumps([
        {"fields": {"created": "2024-01-01T00:00:00.000+0000", "status": {"name": "Open"}}},
        {"errorMessages": ["Issue does not exist"]},
        "just text",
        {"key": "OK-1", "fields": {"created": "2024-01-01T00:00:00.000+0000", "status": {"name": "Open"}}},
    ]), encoding="utf-8")
    data = read(ctx, "odd.json")
    assert codes(data) == ["W203", "W221", "W222", "W222"]  # W221: OK-1 was exported without its changelog
    assert data.items["item_id"].tolist() == ["OK-1"]
    assert timeline(data.events, "OK-1") == [(ns("2024-01-01T00:00:00+00:00"), "Open", -1, None)]


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValidationError):
        jira_json.Options(kind="jira-json", path="x.json", base_url="javascript:alert(1)")
    with pytest.raises(ValidationError):
        jira_json.Options(kind="jira-json", path="x.json", unknown_option=1)  # type: ignore[call-arg]


@pytest.mark.slow
def test_large_export_is_streamed(tmp_path: Path) -> None:
    """A ~24 MB array is read with a bounded buffer: memory does not grow with the file."""
    ctx = context(tmp_path)
    path = ctx.stream_dir / "big.json"
    pad = "x" * 2000
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for i in range(6000):
            issue = {"key": f"BIG-{i}", "fields": {"created": "2024-01-01T00:00:00.000+0000", "summary": pad, "status": {"name": "Done"}},
                     "changelog": {"startAt": 0, "total": 2, "histories": [
                         {"id": str(2 * i + 1), "created": "2024-01-03T00:00:00.000+0000", "items": [{"field": "status", "fieldtype": "jira", "fromString": "In Progress", "toString": "Done"}]},
                         {"id": str(2 * i), "created": "2024-01-02T00:00:00.000+0000", "items": [{"field": "status", "fieldtype": "jira", "fromString": "Open", "toString": "In Progress"}], "note": pad},
                     ]}}
            f.write(("," if i else "") + json.dumps(issue))
        f.write("]")
    size = path.stat().st_size
    assert size > 20_000_000
    tracemalloc.start()
    count = sum(1 for _ in json_records.JsonRecords(path))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 6000
    assert peak < 8_000_000, peak  # about one 1 MiB chunk (as text) plus one issue
    data = read(ctx, "big.json")
    assert len(data.items) == 6000 and len(data.events) == 18000 and not data.problems


# ---------------------------------------------------------------- real data: DevLake Jira Cloud


def test_devlake_jira_cloud_issues(tmp_path: Path) -> None:
    ctx = context(tmp_path, "Asia/Shanghai")
    issues = devlake_issues()
    (ctx.stream_dir / "issues.json").write_text(json.dumps(issues, ensure_ascii=False), encoding="utf-8")
    data = read(ctx, "issues.json", base_url="https://merico.atlassian.net")
    # independent scan: status items and issues
    status_items = [(i["key"], h["created"], it["toString"]) for i in issues for h in i["changelog"]["histories"] for it in h["items"] if it["field"] == "status"]
    assert len(issues) == 33 and len(status_items) == 165
    assert len(data.items) == 33
    assert len(data.events) == 165 + 33  # every status item plus one initial state per issue
    assert not [p for p in data.problems if p.severity == "error"]
    assert not [p for p in data.problems if p.code == "W221"]  # total == len(histories) for all 33
    ev = data.events
    got = {(r.item_id, int(r.ts), r.state) for r in ev.itertuples()}
    assert {(k, ns(t), s) for k, t, s in status_items} <= got
    # hand-checked: EE-23 (a defect with a reopen loop and the 2021-03-28 workflow migration)
    assert [(pd.Timestamp(t, tz="UTC").isoformat(), s) for t, s, _, _ in timeline(ev, "EE-23")] == [
        ("2020-06-12T00:33:57.204000+00:00", "Open"),
        ("2020-06-12T01:27:39.141000+00:00", "In Development"),
        ("2020-06-12T01:27:50.404000+00:00", "Resolved"),
        ("2020-06-12T04:58:47.271000+00:00", "To Do"),
        ("2020-06-12T05:01:20.770000+00:00", "Open"),
        ("2020-06-12T13:08:24.581000+00:00", "To Do"),
        ("2020-06-12T13:15:21.650000+00:00", "Open"),
        ("2020-06-15T09:07:56.858000+00:00", "Resolved"),
        ("2020-06-17T03:08:17.806000+00:00", "Closed"),
        ("2021-03-28T08:05:57.097000+00:00", "已完成"),
    ]
    items = data.items.set_index("item_id")
    assert items.loc["EE-23", "type"] == "缺陷" and items.loc["EE-23", "url"] == "https://merico.atlassian.net/browse/EE-23"
    assert items.loc["EE-1", "created"] == ns("2020-06-12T00:13:13.360+00:00")  # 08:13:13.360+0800
    # never-moved issues sit in their current status from creation
    assert timeline(ev, "K5-4") == [(ns("2022-07-15T22:31:15.981+00:00"), "To Do", -1, "62a2d08d1be00a0068af1945")]  # actor: the creator
    # a real summary ends in a NUL byte (EE-4): control characters are dropped from titles
    assert items.loc["EE-4", "title"] == "\u200b问题分布的帕累托图"
    assert data.notes["status_categories"] == {"To Do": ["new"], "已完成": ["done", "new"]}
    assert not ev["actor"].dropna().str.contains("@").any()


def test_devlake_transitions_match_devlakes_own_utc_changelog(tmp_path: Path) -> None:
    """DevLake's domain table (issue_trace/issue_changelogs.csv) holds the same transitions, converted by DevLake."""
    ctx = context(tmp_path)
    (ctx.stream_dir / "issues.json").write_text(json.dumps(devlake_issues(), ensure_ascii=False), encoding="utf-8")
    data = read(ctx, "issues.json")
    changes = pd.read_csv(DEVLAKE / "issue_trace" / "issue_changelogs.csv")
    keys = pd.read_csv(DEVLAKE / "issue_trace" / "issues.csv")[["id", "issue_key"]]
    status = changes[changes["field_name"] == "status"].merge(keys, left_on="issue_id", right_on="id")
    status_ns = pd.to_datetime(status["created_date"], utc=True).dt.as_unit("ns").astype("int64")
    theirs = set(zip(status["issue_key"], status_ns, status["original_to_value"], strict=True))
    created = data.items.set_index("item_id")["created"]
    moved = data.events[data.events["ts"].to_numpy() != created.reindex(data.events["item_id"]).to_numpy(dtype="int64")]
    ours = set(zip(moved["item_id"], moved["ts"].astype("int64"), moved["state"], strict=True))
    shared = {k for k, _, _ in theirs} & set(data.items["item_id"])
    assert len(shared) == 30
    assert {x for x in ours if x[0] in shared} == {x for x in theirs if x[0] in shared}
    assert len({x for x in ours if x[0] in shared}) == 165


# ---------------------------------------------------------------- real data: Apache Jira Server (issueshark)


def test_apache_jira_server_issues(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    shutil.copytree(DRILL, ctx.stream_dir / "drill")
    data = read(ctx, "drill")
    ev = data.events
    assert timeline(ev, "DRILL-1") == [
        (ns("2012-09-05T16:34:55.991+00:00"), "Open", -1, "mhausenblas"),  # the creator's user name
        (ns("2014-05-28T22:58:39.071+00:00"), "Resolved", -1, "jnadeau"),
    ]
    assert timeline(ev, "DRILL-38") == [
        (ns("2013-02-24T02:04:42.952+00:00"), "Open", -1, "chrismerrick"),
        (ns("2013-02-24T17:43:46.087+00:00"), "In Progress", -1, "cmerrick"),
        (ns("2013-02-25T04:02:52.996+00:00"), "Closed", -1, "jnadeau"),
    ]
    # DRILL-138: 3 of 8 histories; its only status item is after resolutiondate -> a guessed start, warned
    assert [s for _, s, _, _ in timeline(ev, "DRILL-138")] == ["Reopened", "Resolved"]
    w221 = [p for p in data.problems if p.code == "W221"]
    assert len(w221) == 1 and "DRILL-138" in w221[0].message and "3 of 8" in w221[0].message
    assert w221[0].location.path == "streams/s/drill/drill_138_issue.json"
    assert data.items.set_index("item_id").loc["DRILL-38", "type"] == "Sub-task"
    assert not ev["actor"].dropna().str.contains(" at |@").any()


# ---------------------------------------------------------------- end to end: jira-json == events-csv


STAGES = """
stages:
  - {id: backlog, states: [Inbox, To Do, Open, Ready for Dev], kind: wait}
  - {id: dev, states: [In Development, In Progress], kind: active}
  - {id: done, states: [Resolved, Closed, 已完成], kind: done}
commitment: dev
timezone: Asia/Shanghai
as_of: 2022-08-01T00:00:00Z
"""


def test_jira_json_and_hand_written_events_csv_give_the_same_item_measures(tmp_path: Path) -> None:
    issues = devlake_issues()
    jira_dir = tmp_path / "streams" / "jira"
    (jira_dir / "data").mkdir(parents=True)
    (jira_dir / "data" / "issues.json").write_text(json.dumps(issues, ensure_ascii=False), encoding="utf-8")
    (jira_dir / "stream.yaml").write_text("name: From Jira\nsources:\n  - {kind: jira-json, path: data/issues.json}\n" + STAGES, encoding="utf-8")
    # the same history, parsed here independently and written as the canonical CSV files
    csv_dir = tmp_path / "streams" / "csv"
    (csv_dir / "data").mkdir(parents=True)
    with open(csv_dir / "data" / "events.csv", "w", encoding="utf-8", newline="") as ef, open(csv_dir / "data" / "items.csv", "w", encoding="utf-8", newline="") as itf:
        events, items = csv.writer(ef), csv.writer(itf)
        events.writerow(["item_id", "timestamp", "state", "blocked", "actor"])
        items.writerow(["item_id", "type", "title", "created"])
        for issue in issues:
            fields = issue["fields"]
            changes = sorted(
                ((datetime.fromisoformat(h["created"]), int(h["id"]), it) for h in issue["changelog"]["histories"] for it in h["items"] if it["field"] == "status"),
                key=lambda c: (c[0], c[1]),
            )
            first = changes[0][2]["fromString"] if changes else fields["status"]["name"]
            events.writerow([issue["key"], fields["created"], first, "", ""])
            for when, _, item in changes:
                events.writerow([issue["key"], when.isoformat(), item["toString"], "", ""])
            items.writerow([issue["key"], fields["issuetype"]["name"], fields["summary"].replace("\x00", ""), fields["created"]])
    (csv_dir / "stream.yaml").write_text(
        "name: From CSV\nsources:\n  - {kind: events-csv, path: data/events.csv}\n  - {kind: items-csv, path: data/items.csv}\n" + STAGES, encoding="utf-8"
    )
    project, problems = load_project(tmp_path)
    assert not [p for p in problems if p.severity == "error"], problems
    results = {}
    for config in project.streams:
        data = read_stream(tmp_path, config)
        assert not [p for p in data.problems if p.severity == "error"], data.problems
        as_of = int(pd.Timestamp(config.definition.as_of).tz_convert("UTC").value) if pd.Timestamp(config.definition.as_of).tzinfo else int(pd.Timestamp(config.definition.as_of, tz="UTC").value)
        results[config.id] = compute_items(data.events, data.items, config.definition, as_of).items.set_index("item_id").sort_index()
    a, b = results["jira"], results["csv"]
    assert len(a) == 33 and list(a.index) == list(b.index)
    assert (a["status"] == "done").sum() == 30
    for col in ("created", "committed", "done", "lead_ns", "cycle_ns", "process_ns", "wait_ns", "blocked_ns", "stage_ns:backlog", "stage_ns:dev", "stage_ns:done", "stage_ns:unmapped"):
        assert a[col].astype("Int64").equals(b[col].astype("Int64")), col
    assert np.array_equal(a["reworked"].to_numpy(), b["reworked"].to_numpy())
    # EE-23 by hand: created 00:33:57.204Z, committed at In Development 01:27:39.141Z, done (final visit) 2020-06-15T09:07:56.858Z
    assert a.loc["EE-23", "lead_ns"] == ns("2020-06-15T09:07:56.858+00:00") - ns("2020-06-12T00:33:57.204+00:00")
    assert a.loc["EE-23", "cycle_ns"] == ns("2020-06-15T09:07:56.858+00:00") - ns("2020-06-12T01:27:39.141+00:00")


@pytest.mark.parametrize("chunk", [1, 2, 5, 64, 4096])
def test_any_chunk_size_reads_the_same_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    """Records split across chunk boundaries anywhere (inside strings, numbers, literals) decode the same."""
    monkeypatch.setattr(json_records, "CHUNK", chunk)
    ctx = context(tmp_path)
    shutil.copy(SMALL, ctx.stream_dir / "issues.json")
    shapes = _shape_files(tmp_path)
    issues = json.loads(SMALL.read_text(encoding="utf-8"))
    for name in ("array", "search", "lines"):
        reader = json_records.JsonRecords(ctx.stream_dir / shapes[name], ("issues",))
        assert [r.value for r in reader] == issues, name
        assert not reader.bad and reader.stop is None
    search = json_records.JsonRecords(ctx.stream_dir / shapes["search"], ("issues",))
    list(search)
    assert search.wrapper == {"expand": "schema,names", "startAt": 0, "maxResults": 50, "total": 4}
    single = json_records.JsonRecords(ctx.stream_dir / "pages" / "02-PAY-3.json", ("issues",))
    assert [r.value for r in single] == [issues[2]]


def test_odd_values_never_crash(tmp_path: Path) -> None:
    """Junk after an ISO date (pandas reads `-1` as a zone) and ids beyond int64 are warned, not fatal."""
    ctx = context(tmp_path, "Europe/Berlin")
    issue = {"key": "ODD-1", "fields": {"created": "2024-01-02T10:00:00.5-1", "status": {"name": "Open"}},
             "changelog": {"startAt": 0, "total": 1, "histories": [
                 {"id": "9" * 30, "created": "2024-01-03T10:00:00.000+0100", "items": [{"field": "status", "fromString": "Open", "toString": "Done"}]}]}}
    ok = {"key": "ODD-2", "fields": {"created": "2024-01-02T10:00:00.000+0100", "status": {"name": "Open"}}, "changelog": {"total": 0, "histories": []}}
    (ctx.stream_dir / "odd.json").write_text(json.dumps([issue, ok]), encoding="utf-8")
    data = read(ctx, "odd.json")
    assert [p.code for p in data.problems] == ["W202"] and "'2024-01-02T10:00:00.5-1'" in data.problems[0].message
    assert timeline(data.events, "ODD-1") == [(ns("2024-01-03T09:00:00+00:00"), "Done", -1, None)]  # no initial state without created
    assert pd.isna(data.items.set_index("item_id").loc["ODD-1", "created"])
    assert data.skipped["issues without a valid created instant (no initial state)"] == 1
