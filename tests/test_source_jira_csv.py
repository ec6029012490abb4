"""`jira-csv`: hand-made exports (German months, repeated headers, 12-hour clock, DST gap) and the
real Apache Hadoop export (2,503 bugs; `Issue id` but no `Issue key`; multi-line descriptions).
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from generator.sources import jira_csv
from generator.sources.base import ReadContext, SourceData

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "sources"
HADOOP = DATA / "real" / "gitbugs-jira-csv" / "hadoop_bugs.csv"


def context(tmp_path: Path, zone: str = "Europe/Berlin") -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, zone, 0)


def read(ctx: ReadContext, path: str, **options: object) -> SourceData:
    return jira_csv.read(jira_csv.Options(kind="jira-csv", path=path, **options), ctx)


def utc(text: str) -> int:
    return pd.Timestamp(text).tz_convert("UTC").as_unit("ns").value


def timeline(events: pd.DataFrame, item: str) -> list[tuple[int, str]]:
    rows = events[events["item_id"] == item]
    return list(zip(rows["ts"].astype("int64").tolist(), rows["state"].astype(str).tolist(), strict=True))


@pytest.fixture
def exports(tmp_path: Path) -> ReadContext:
    ctx = context(tmp_path)
    for name in ("jira_export_de.csv", "jira_export_ampm.csv"):
        shutil.copy(SOURCES / name, ctx.stream_dir / name)
    return ctx


def test_german_export(exports: ReadContext) -> None:
    data = read(exports, "jira_export_de.csv", resolution_states={"Duplikat": "Won't Do"}, base_url="https://jira.example.com")
    ev = data.events
    # wall times in Europe/Berlin; Mär, Okt, Mai, Dez are German month abbreviations
    assert timeline(ev, "PAY-412") == [(utc("2024-03-04T08:15Z"), "Open"), (utc("2024-03-12T15:02Z"), "Done")]
    assert timeline(ev, "PAY-413") == [(utc("2024-10-01T08:00Z"), "Open")]  # not resolved
    assert timeline(ev, "PAY-414") == [(utc("2024-05-07T06:00Z"), "Open"), (utc("2024-05-09T10:30Z"), "Won't Do")]
    assert sorted(set(ev["item_id"])) == ["PAY-412", "PAY-413", "PAY-414"]
    problems = sorted((p.code, p.location.line) for p in data.problems)
    assert problems == [("W202", 6), ("W212", 7), ("W223", 5)]
    bad = next(p for p in data.problems if p.code == "W202")
    assert "'31/Foo/24 08:00'" in bad.message and "['Foo']" in bad.hint and "locale_months" in bad.hint
    items = data.items.set_index("item_id")
    assert items.loc["PAY-413", "title"] == "Cache config, per tenant" and items.loc["PAY-413", "type"] == "Bug"
    assert items.loc["PAY-412", "url"] == "https://jira.example.com/browse/PAY-412"
    assert items.loc["PAY-412", "created"] == utc("2024-03-04T08:15Z")
    assert data.notes["no_history"] is True
    assert data.notes["status_categories"] == {"Erledigt": ["Done"], "In Arbeit": ["In Progress"]}
    assert data.skipped["rows resolved before created (W223)"] == 1
    assert data.skipped["rows without a valid Created date"] == 1
    assert data.skipped["repeated issue rows"] == 1


def test_twelve_hour_clock_and_dst_gap(exports: ReadContext) -> None:
    data = read(exports, "jira_export_ampm.csv")
    assert timeline(data.events, "OPS-1") == [(utc("2024-03-05T13:07Z"), "Open"), (utc("2024-03-06T08:05Z"), "Done")]
    assert timeline(data.events, "OPS-2") == [(utc("2024-03-04T23:00Z"), "Open"), (utc("2024-03-05T11:00Z"), "Done")]  # 12 AM, 12 PM
    # 2:30 AM does not exist in Berlin on 2024-03-31: moved forward by the gap
    assert timeline(data.events, "OPS-3") == [(utc("2024-03-31T01:30Z"), "Open")]
    assert [(p.code, p.location.line) for p in data.problems] == [("W209", 4)]
    utc_data = read(exports, "jira_export_ampm.csv", timezone="UTC", created_state="Backlog", resolved_state="Closed")
    assert timeline(utc_data.events, "OPS-1") == [(utc("2024-03-05T14:07Z"), "Backlog"), (utc("2024-03-06T09:05Z"), "Closed")]


def test_locale_months_and_date_format(tmp_path: Path) -> None:
    ctx = context(tmp_path, "UTC")
    (ctx.stream_dir / "nl.csv").write_text("Issue key,Created,Resolved\nNL-1,01/mrt/24 10:00,15/okt/24 11:00\nNL-2,01/mei/24 10:00,\n", encoding="utf-8")
    data = read(ctx, "nl.csv", locale_months={"mrt": "Mar", "mei": "May"})
    assert timeline(data.events, "NL-1") == [(utc("2024-03-01T10:00Z"), "Open"), (utc("2024-10-15T11:00Z"), "Done")]
    assert timeline(data.events, "NL-2") == [(utc("2024-05-01T10:00Z"), "Open")]
    (ctx.stream_dir / "iso.csv").write_text("Issue key,Created,Resolved\nX-1,2024.03.01 10:00,2024-03-02T10:00:00+01:00\n", encoding="utf-8")
    data = read(ctx, "iso.csv", date_format="%Y.%m.%d %H:%M")
    assert timeline(data.events, "X-1") == [(utc("2024-03-01T10:00Z"), "Open"), (utc("2024-03-02T09:00Z"), "Done")]  # ISO still read
    with pytest.raises(ValidationError):
        jira_csv.Options(kind="jira-csv", path="x.csv", locale_months={"mrt": "Maart"})


def test_key_column_is_required(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (ctx.stream_dir / "nokey.csv").write_text("Summary,Created\nx,01/Jan/24 10:00\n", encoding="utf-8")
    data = read(ctx, "nokey.csv")
    assert [p.code for p in data.problems] == ["E201"] and "Issue id" in data.problems[0].message


def test_hadoop_export(tmp_path: Path) -> None:
    ctx = context(tmp_path, "UTC")
    shutil.copy(HADOOP, ctx.stream_dir / "hadoop.csv")
    with open(HADOOP, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows, starts = [], []
        start = reader.line_num + 1
        for row in reader:
            rows.append(dict(zip(header, row, strict=True)))
            starts.append(start)
            start = reader.line_num + 1
    assert "Issue key" not in header and len(rows) == 2503
    resolved = [r for r in rows if r["Resolved"]]
    assert len(resolved) == 1733
    data = read(ctx, "hadoop.csv", resolution_states={"Duplicate": "Duplicate", "Won't Fix": "Won't Do"})
    assert not data.problems
    assert len(data.items) == 2503 and len(data.events) == 2503 + 1733
    assert data.items["item_id"].tolist() == [r["Issue id"] for r in rows]
    assert data.items["line"].tolist() == starts  # descriptions span lines: each row's first line
    assert timeline(data.events, "13404344") == [(utc("2021-09-30T17:20Z"), "Open"), (utc("2022-07-20T20:51Z"), "Duplicate")]
    states = data.events.groupby("state").size().to_dict()
    by_resolution = pd.Series([r["Resolution"] for r in resolved]).value_counts()
    assert states == {"Open": 2503, "Duplicate": by_resolution["Duplicate"], "Won't Do": by_resolution["Won't Fix"],
                      "Done": 1733 - by_resolution["Duplicate"] - by_resolution["Won't Fix"]}
    assert data.notes == {"no_history": True, "has_actor": False, "status_categories": {}}
    assert data.items.set_index("item_id").loc["13404344", "title"] == "JAR in conflict with timestamp check causes AM errors"
