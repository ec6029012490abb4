"""`dates-csv`: hand-made milestone files (tests/data/sources/dates_*.csv) and the real
agile-project-dataset, whose 1,662 rows finished the day before they were created surface as W223.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from generator.sources import dates_csv
from generator.sources.base import ReadContext, SourceData

DATA = Path(__file__).parent / "data"
SOURCES = DATA / "sources"
AGILE = DATA / "real" / "agile-project-dataset" / "jira.csv"
MILESTONES = {"created": "Open", "started": "In Progress", "finished": "Done"}


def context(tmp_path: Path, zone: str = "UTC") -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, zone, 0)


def read(ctx: ReadContext, path: str, **options: object) -> SourceData:
    return dates_csv.read(dates_csv.Options(kind="dates-csv", path=path, **options), ctx)


def utc(text: str) -> int:
    return pd.Timestamp(text).tz_convert("UTC").as_unit("ns").value if pd.Timestamp(text).tzinfo else pd.Timestamp(text, tz="UTC").as_unit("ns").value


def timeline(events: pd.DataFrame, item: str) -> list[tuple[int, str]]:
    rows = events[events["item_id"] == item]
    return list(zip(rows["ts"].astype("int64").tolist(), rows["state"].astype(str).tolist(), strict=True))


@pytest.fixture
def milestones(tmp_path: Path) -> ReadContext:
    ctx = context(tmp_path, "Europe/Berlin")
    shutil.copy(SOURCES / "dates_milestones.csv", ctx.stream_dir / "dates.csv")
    shutil.copy(SOURCES / "dates_dmy.csv", ctx.stream_dir / "dmy.csv")
    return ctx


def test_milestones(milestones: ReadContext) -> None:
    data = read(milestones, "dates.csv", columns=MILESTONES, created_column="created", type_column="type", title_column="title", url_column="url")
    ev = data.events
    # dates are midnights in the stream's zone (Europe/Berlin, UTC+1 in January)
    assert timeline(ev, "A-1") == [(utc("2024-01-01T23:00Z"), "Open"), (utc("2024-01-04T23:00Z"), "In Progress"), (utc("2024-01-08T23:00Z"), "Done")]
    assert timeline(ev, "A-2") == [(utc("2024-01-02T23:00Z"), "Open"), (utc("2024-01-03T23:00Z"), "Done")]  # empty cell skipped
    assert timeline(ev, "A-5") == [(utc("2024-01-01T23:00Z"), "Open"), (utc("2024-01-19T23:00Z"), "Done")]  # bad date ignored
    assert sorted(set(ev["item_id"])) == ["A-1", "A-2", "A-5"]
    assert ev["line"].tolist() == [2, 2, 2, 3, 3, 7, 7]
    problems = sorted((p.code, p.location.line) for p in data.problems)
    assert problems == [("W202", 5), ("W202", 7), ("W203", 6), ("W206", 8), ("W210", 3), ("W223", 4)]
    w223 = next(p for p in data.problems if p.code == "W223")
    assert w223.message == "item 'A-3': finished is before started (negative duration); row skipped"
    items = data.items.set_index("item_id")
    assert list(items.index) == ["A-1", "A-2", "A-5"]
    assert items.loc["A-1", "url"] == "https://tracker.example/A-1" and pd.isna(items.loc["A-2", "url"])
    assert items.loc["A-2", "type"] == "Bug" and items.loc["A-1", "title"] == "First"
    assert items.loc["A-1", "created"] == utc("2024-01-01T23:00Z")
    assert data.skipped["rows with milestones out of order (W223)"] == 1
    assert data.skipped["rows without any milestone date"] == 1
    assert data.skipped["date cells that are not dates"] == 1


def test_clamp_keeps_out_of_order_rows(milestones: ReadContext) -> None:
    data = read(milestones, "dates.csv", columns=MILESTONES, out_of_order="clamp", timezone="UTC")
    assert timeline(data.events, "A-3") == [(utc("2024-01-10"), "Open"), (utc("2024-01-12"), "In Progress"), (utc("2024-01-12"), "Done")]
    assert "finished moved back to started" in next(p.message for p in data.problems if p.code == "W223")


def test_date_format_and_dst(milestones: ReadContext) -> None:
    data = read(milestones, "dmy.csv", id_column="key", columns={"opened": "Open", "done": "Done"}, date_format="%d.%m.%Y %H:%M")
    assert timeline(data.events, "B-1") == [(utc("2024-01-02T08:30Z"), "Open"), (utc("2024-01-05T16:00Z"), "Done")]
    # 02:30 does not exist in Berlin on 2024-03-31: moved forward by the gap (W209)
    assert timeline(data.events, "B-2") == [(utc("2024-03-31T01:30Z"), "Open")]
    codes = sorted((p.code, p.location.line) for p in data.problems)
    assert codes == [("W202", 4), ("W202", 4), ("W209", 3)]
    assert any("does not match date_format '%d.%m.%Y %H:%M'" in p.message for p in data.problems)


def test_missing_columns_and_bad_options(milestones: ReadContext) -> None:
    data = read(milestones, "dates.csv", columns={"created": "Open", "resolved": "Done"})
    assert [(p.code, p.severity) for p in data.problems] == [("E201", "error")] and "resolved" in data.problems[0].message
    assert data.events is None
    assert [p.code for p in read(milestones, "missing.csv", columns=MILESTONES).problems] == ["E122"]
    with pytest.raises(ValidationError):
        dates_csv.Options(kind="dates-csv", path="x.csv", columns={})
    with pytest.raises(ValidationError):
        dates_csv.Options(kind="dates-csv", path="x.csv", columns=MILESTONES, timezone="Mars/Olympus")


def test_agile_project_dataset(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    shutil.copy(AGILE, ctx.stream_dir / "jira.csv")
    with open(AGILE, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    negative = [r["id"] for r in rows if date.fromisoformat(r["finished_date"]) < date.fromisoformat(r["created_date"])]
    assert len(rows) == 4123 and len(negative) == 1662
    data = read(ctx, "jira.csv", columns={"created_date": "Open", "finished_date": "Done"}, created_column="created_date")
    w223 = [p for p in data.problems if p.code == "W223"]
    assert sum(p.count for p in w223) == 1662 and len(w223) == 21  # 20 listed, the rest folded into one
    assert w223[0].message == "item 'P0-T5052': finished_date is before created_date (negative duration); row skipped"
    assert w223[0].location.line == 2
    assert data.skipped["rows with milestones out of order (W223)"] == 1662
    assert len(data.items) == 4123 - 1662 and len(data.events) == 2 * (4123 - 1662)
    assert not set(negative) & set(data.items["item_id"])
    assert timeline(data.events, "P0-T324") == [(utc("2013-08-13"), "Open"), (utc("2013-08-31"), "Done")]
    clamped = read(ctx, "jira.csv", columns={"created_date": "Open", "finished_date": "Done"}, out_of_order="clamp")
    assert len(clamped.items) == 4123 and len(clamped.events) == 2 * 4123
    assert timeline(clamped.events, "P0-T5052") == [(utc("2015-02-05"), "Open"), (utc("2015-02-05"), "Done")]


def test_junk_after_a_date_is_a_warning(tmp_path: Path) -> None:
    ctx = context(tmp_path, "Europe/Berlin")
    (ctx.stream_dir / "junk.csv").write_text("id,created,done\nJ-1,2024-01-02T10:00:00.5-1,2024-01-03\nJ-2,2024-01-02,2024-01-03\n", encoding="utf-8")
    data = read(ctx, "junk.csv", columns={"created": "Open", "done": "Done"})
    assert [(p.code, p.location.line) for p in data.problems] == [("W202", 2)]
    assert "is not an ISO 8601 date or instant" in data.problems[0].message
    assert timeline(data.events, "J-1") == [(utc("2024-01-02T23:00Z"), "Done")]
