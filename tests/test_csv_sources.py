"""events-csv and items-csv readers: instants, exact line numbers, and what is skipped with which warning.

Inputs are in tests/data/foundation/ (named for what they exercise); files that
cannot be kept as text in the repository (BOM, binary, Latin-1) are written
inline. Expected instants are worked out by hand in the comments: Europe/Berlin
is CET (+01:00) in winter and CEST (+02:00) from 2026-03-29 02:00 (clocks jump
to 03:00) to 2026-10-25 03:00 (clocks go back to 02:00).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.errors import Problem
from generator.load.timestamps import NAT
from generator.sources import events_csv, items_csv
from generator.sources.base import ReadContext, SourceData
from generator.sources.collect import read_stream
from generator.sources.rows import ROW_PROBLEM_CAP
from generator.validate.stream import load_project

DATA = Path(__file__).resolve().parent / "data" / "foundation"
FILE = "streams/demo/data/input.csv"


def utc(text: str) -> int:
    """An instant written in UTC as int64 nanoseconds."""
    return (
        pd.Timestamp(text).tz_convert("UTC").value
        if pd.Timestamp(text).tzinfo
        else pd.Timestamp(text, tz="UTC").value
    )


def read(
    tmp_path: Path, content: str | bytes, *, timezone: str = "UTC", kind: str = "events-csv"
) -> SourceData:
    """Read `content` (a file name under tests/data/foundation, or raw bytes) as streams/demo/data/input.csv."""
    stream = tmp_path / "proj" / "streams" / "demo"
    (stream / "data").mkdir(parents=True, exist_ok=True)
    target = stream / "data" / "input.csv"
    if isinstance(content, bytes):
        target.write_bytes(content)
    else:
        shutil.copy(DATA / content, target)
    module = events_csv if kind == "events-csv" else items_csv
    ctx = ReadContext(tmp_path / "proj", stream, timezone, 0)
    return module.read(module.Options(kind=kind, path="data/input.csv"), ctx)


def found(problems: list[Problem]) -> list[tuple[str, int | None]]:
    """(code, line) of every problem, sorted by line then code."""
    return sorted(((p.code, p.location.line) for p in problems), key=lambda t: (t[1] or 0, t[0]))


def assert_located(problems: list[Problem]) -> None:
    for p in problems:
        assert p.location.path == FILE, p.format()
        assert p.hint, p.format()


# ---------------------------------------------------------------- timestamps


def test_offsets(tmp_path: Path) -> None:
    # the stream's zone must not matter for values with an offset
    data = read(tmp_path, "events_offsets.csv", timezone="Europe/Berlin")
    assert data.problems == []
    ev = data.events
    assert ev is not None
    assert list(ev["line"]) == [2, 3, 4, 5, 6]
    assert list(ev["ts"]) == [
        utc("2026-03-02T08:00:00Z"),  # line 2: Z
        utc("2026-03-02T10:30:00Z"),  # line 3: 12:30 at +02:00 -> 10:30 UTC
        utc("2026-03-02T12:15:00Z"),  # line 4: 20:15 at +0800 (no colon) -> 12:15 UTC
        utc("2026-03-02T06:00:00Z"),  # line 5: 01:00 at -05:00 -> 06:00 UTC
        utc("2026-03-02T23:59:59.250Z"),  # line 6: fractional seconds kept
    ]
    assert list(ev["state"]) == ["Open", "In Progress", "Done", "Open", "Done"]
    assert set(ev["file"]) == {FILE}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # a uniform `+hh:mm` column takes the C fast path: 12:30+02:00 -> 10:30Z; 12:30-01:00 -> 13:30Z
        (
            ["2026-03-02T12:30:00+02:00", "2026-03-02T12:30:00-01:00"],
            ["2026-03-02T10:30:00Z", "2026-03-02T13:30:00Z"],
        ),
        (
            ["2026-03-02T12:30:00Z", "2026-03-02T12:30:00.5Z"],
            ["2026-03-02T12:30:00Z", "2026-03-02T12:30:00.5Z"],
        ),
        # padded with spaces: trimmed
        (
            [" 2026-03-02T12:30:00+02:00 ", "2026-03-02T12:30:00+02:00"],
            ["2026-03-02T10:30:00Z", "2026-03-02T10:30:00Z"],
        ),
    ],
    ids=["fast-path-offsets", "z", "padded"],
)
def test_uniform_columns(tmp_path: Path, values: list[str], expected: list[str]) -> None:
    body = "item_id,timestamp,state\n" + "".join(f"A,{v},Open\n" for v in values)
    data = read(tmp_path, body.encode(), timezone="Asia/Tokyo")
    assert data.problems == []
    assert data.events is not None
    assert list(data.events["ts"]) == [utc(e) for e in expected]


def test_naive_times_in_berlin_across_both_dst_changes(tmp_path: Path) -> None:
    data = read(tmp_path, "events_dst_berlin.csv", timezone="Europe/Berlin")
    assert found(data.problems) == [("W209", 3), ("W208", 5)]
    assert_located(data.problems)
    w209 = next(p for p in data.problems if p.code == "W209")
    assert "2026-03-29T02:30:00" in w209.message and "Europe/Berlin" in w209.message
    assert "offset" in w209.hint
    ev = data.events
    assert ev is not None
    assert list(ev["line"]) == [2, 3, 4, 5, 6, 7, 8, 9]
    assert list(ev["ts"]) == [
        # line 2: 01:30 CET (+01) -> 00:30 UTC
        utc("2026-03-29T00:30:00Z"),
        # line 3: 02:30 does not exist; moved forward by the 1 h gap to 03:30 CEST -> 01:30 UTC (W209)
        utc("2026-03-29T01:30:00Z"),
        # line 4: 03:30 CEST (+02) -> 01:30 UTC
        utc("2026-03-29T01:30:00Z"),
        # line 5: 02:30 occurs twice; the earlier is 02:30 CEST (+02) -> 00:30 UTC (W208)
        utc("2026-10-25T00:30:00Z"),
        # line 6: 03:30 CET (+01) -> 02:30 UTC
        utc("2026-10-25T02:30:00Z"),
        # line 7: '2026-10-26 12:00' (space, no seconds) CET -> 11:00 UTC
        utc("2026-10-26T11:00:00Z"),
        # line 8: date only = midnight CET -> 23:00 UTC the day before
        utc("2026-01-14T23:00:00Z"),
        # line 9: explicit Z among naive values
        utc("2026-07-01T12:00:00Z"),
    ]


def test_date_only_is_read_in_the_stream_zone(tmp_path: Path) -> None:
    # '2026-01-15' has no offset (its trailing '-15' is the day, not a UTC offset):
    # midnight in New York (EST, -05:00) is 05:00 UTC
    data = read(
        tmp_path,
        b"item_id,timestamp,state\nA,2026-01-15,Open\nA,2026-01-16T09:00:00,Done\n",
        timezone="America/New_York",
    )
    assert data.problems == []
    assert data.events is not None
    assert list(data.events["ts"]) == [utc("2026-01-15T05:00:00Z"), utc("2026-01-16T14:00:00Z")]


# ---------------------------------------------------------------- bad rows


def test_bad_rows_with_their_lines(tmp_path: Path) -> None:
    data = read(tmp_path, "events_bad_rows.csv")
    assert found(data.problems) == [
        ("W206", 3),  # 3 fields, the header has 5
        ("W202", 4),  # 'yesterday'
        ("W203", 5),  # empty item_id
        ("W205", 6),  # 'maybe' is not a boolean; row kept, blocked unchanged
        ("W202", 7),  # empty timestamp
        ("W204", 8),  # empty state, blocked unchanged
        ("W206", 10),  # 6 fields
    ]
    assert_located(data.problems)
    assert all(p.severity == "warning" for p in data.problems)
    messages = {(p.code, p.location.line): p.message for p in data.problems}
    assert "'yesterday'" in messages[("W202", 4)]
    assert "3 fields" in messages[("W206", 3)] and "5" in messages[("W206", 3)]
    assert "'maybe'" in messages[("W205", 6)]
    ev = data.events
    assert ev is not None
    assert list(ev["line"]) == [2, 6, 9, 11]
    assert list(ev["state"]) == ["Open", "In Progress", "", "Done"]
    # line 6: 'maybe' -> unchanged (-1); line 9: empty state but blocked=true -> a blocked-only change;
    # line 11: 'FALSE' (any case) -> 0
    assert list(ev["blocked"]) == [-1, -1, 1, 0]
    assert list(ev["actor"].fillna("<none>")) == ["alice", "bob", "bob", "<none>"]
    assert data.skipped == {
        "rows with the wrong number of fields": 2,
        "rows without a valid timestamp": 2,
        "rows without an item_id": 1,
        "rows without a state": 1,
    }


def test_quoted_newline_keeps_later_line_numbers(tmp_path: Path) -> None:
    # line 2's note spans lines 2-3, so the next row starts on line 4
    data = read(tmp_path, "events_quoted_newline.csv")
    assert found(data.problems) == [("W202", 5), ("W206", 6)]
    assert data.events is not None
    assert list(data.events["line"]) == [2, 4, 7]
    assert list(data.events["ts"]) == [
        utc("2026-03-02T09:00:00Z"),
        utc("2026-03-02T10:00:00Z"),
        utc("2026-03-02T12:00:00Z"),
    ]


def test_crlf_and_blank_lines(tmp_path: Path) -> None:
    body = b"item_id,timestamp,state\r\nA,2026-03-02T09:00:00Z,Open\r\n\r\nA,bad,Open\r\nA,2026-03-02T10:00:00Z,Done\r\n"
    data = read(tmp_path, body)
    # line 3 is blank (ignored), 'bad' is on line 4
    assert found(data.problems) == [("W202", 4)]
    assert data.events is not None
    assert list(data.events["line"]) == [2, 5]
    assert list(data.events["state"]) == ["Open", "Done"]


def test_many_bad_rows_are_folded(tmp_path: Path) -> None:
    # 25 bad timestamps on lines 2..26: the first 20 one by one, then one entry for 5 rows from line 22
    body = "item_id,timestamp,state\n" + "A,never,Open\n" * 25
    data = read(tmp_path, body.encode())
    assert ROW_PROBLEM_CAP == 20
    assert [p.location.line for p in data.problems] == [*range(2, 22), 22]
    assert [p.count for p in data.problems] == [1] * 20 + [5]
    assert "(5 rows)" in data.problems[-1].format()


# ---------------------------------------------------------------- header and encoding


def test_bom_is_ignored(tmp_path: Path) -> None:
    data = read(tmp_path, b"\xef\xbb\xbfitem_id,timestamp,state\r\nA,2026-03-02T09:00:00Z,Open\r\n")
    assert data.problems == []
    assert data.events is not None
    assert list(data.events["item_id"]) == ["A"]
    assert list(data.events["line"]) == [2]


def test_columns_in_any_order_extra_ignored_header_case_insensitive(tmp_path: Path) -> None:
    # header: Note, STATE (padded), Time Stamp, Extra, Item_ID, BLOCKED
    data = read(tmp_path, "events_any_column_order.csv")
    assert data.problems == []
    ev = data.events
    assert ev is not None
    assert list(ev["item_id"]) == ["E-1", "E-1"]
    assert list(ev["state"]) == ["Open", "In Progress"]
    assert list(ev["ts"]) == [utc("2026-03-02T09:00:00Z"), utc("2026-03-02T10:00:00Z")]
    assert list(ev["blocked"]) == [-1, 1]  # '' -> unchanged, 'Yes' -> blocked
    assert "Note" not in ev and "Extra" not in ev


def test_missing_required_column(tmp_path: Path) -> None:
    data = read(tmp_path, "events_missing_column.csv")
    assert [(p.code, p.severity, p.location.path, p.location.line) for p in data.problems] == [
        ("E201", "error", FILE, 1)
    ]
    (p,) = data.problems
    assert "'timestamp'" in p.message
    assert p.hint.startswith("did you mean 'timestmp'?")
    assert data.events is None


def test_missing_column_without_close_match(tmp_path: Path) -> None:
    data = read(tmp_path, b"key,when,status\nA,2026-03-02T09:00:00Z,Open\n")
    # all three required columns are reported at once
    assert sorted(p.message.split("'")[1] for p in data.problems) == [
        "item_id",
        "state",
        "timestamp",
    ]
    assert {p.code for p in data.problems} == {"E201"}


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"", 1, "empty"),
        (b"  \n\n", 1, "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", 1, "NUL"),
        # what Excel's "Unicode text" writes: UTF-16 with a BOM (full of NUL bytes)
        ("item_id,timestamp,state\nA,2026-03-02T09:00:00Z,Open\n".encode("utf-16"), 1, "NUL"),
        # a header that is not UTF-8 (Latin-1 'é'); a few bad rows further down are W211 warnings
        # and a whole Latin-1 file is E200 with a hint: tests/test_bad_text.py
        ("item_id,timestamp,\xe9tat\nA,2026-03-02T09:00:00Z,Open\n".encode("latin-1"), 1, "UTF-8"),
    ],
    ids=["empty", "blank", "binary", "utf-16", "latin-1-header"],
)
def test_unreadable_files(tmp_path: Path, content: bytes, line: int, reason: str) -> None:
    data = read(tmp_path, content)
    assert [(p.code, p.severity, p.location.path, p.location.line) for p in data.problems] == [
        ("E200", "error", FILE, line)
    ]
    assert reason in data.problems[0].message
    assert data.problems[0].hint
    assert data.events is None


def test_header_only_file_has_no_rows_and_no_problems(tmp_path: Path) -> None:
    data = read(tmp_path, b"item_id,timestamp,state\n")
    assert data.problems == []
    assert data.events is not None and len(data.events) == 0


# ---------------------------------------------------------------- items-csv


def test_items_csv(tmp_path: Path) -> None:
    data = read(tmp_path, "items_attributes.csv", kind="items-csv", timezone="Europe/Berlin")
    assert found(data.problems) == [
        ("W210", 3),  # javascript: url
        ("W212", 4),  # I-1 again
        ("W202", 5),  # created 'not a date' (value ignored, item kept)
        ("W203", 7),  # empty item_id
        ("W210", 8),  # ftp: url
    ]
    assert_located(data.problems)
    assert all(p.severity == "warning" for p in data.problems)
    w210 = next(p for p in data.problems if p.location.line == 3)
    assert "javascript:alert(1)" in w210.message
    items = data.items
    assert items is not None
    assert list(items["item_id"]) == ["I-1", "I-2", "I-3", "I-4", "I-5"]
    assert list(items["line"]) == [2, 3, 5, 6, 8]
    # the first row of I-1 wins
    assert items["title"].iloc[0] == "Checkout button"
    assert items["url"].iloc[0] == "https://tracker.example/I-1"
    assert items["title"].iloc[1] == "Title, with comma"
    # unsafe urls are dropped, http(s) in any case kept
    assert list(items["url"].fillna("<none>")) == [
        "https://tracker.example/I-1",
        "<none>",
        "HTTPS://tracker.example/I-3",
        "<none>",
        "<none>",
    ]
    assert list(items["type"].fillna("<none>")) == ["Story", "Bug", "<none>", "Story", "Story"]
    created = [None if pd.isna(v) else int(v) for v in items["created"]]
    assert created == [
        utc("2026-01-02T02:04:05Z"),  # I-1: 03:04:05 at +01:00 -> 02:04:05 UTC
        utc("2026-07-01T10:00:00Z"),  # I-2: naive 12:00 in summer (CEST, +02) -> 10:00 UTC
        None,  # I-3: 'not a date'
        None,  # I-4: empty
        utc("2026-01-14T23:00:00Z"),  # I-5: date only, midnight CET -> 23:00 UTC the day before
    ]
    assert data.skipped == {
        "item rows with the wrong number of fields": 0,
        "item rows without an item_id": 1,
        "repeated item rows": 1,
    }


def test_items_csv_requires_item_id(tmp_path: Path) -> None:
    data = read(tmp_path, b"Item,type\nA,Story\n", kind="items-csv")
    assert [(p.code, p.location.line) for p in data.problems] == [("E201", 1)]
    assert "item_id" in data.problems[0].message


def test_items_csv_only_item_id(tmp_path: Path) -> None:
    data = read(tmp_path, b"item_id\nA\nB\n", kind="items-csv")
    assert data.problems == []
    assert data.items is not None
    assert list(data.items["item_id"]) == ["A", "B"]
    assert data.items["created"].isna().all() and data.items["url"].isna().all()


# ---------------------------------------------------------------- collect


def test_read_stream_merges_sources_in_order(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    shutil.copytree(DATA / "project", root)
    project, problems = load_project(root)
    assert problems == []
    (config,) = project.streams
    data = read_stream(root, config)
    assert data.problems == []
    assert data.inputs == ["streams/demo/data/events.csv", "streams/demo/data/items.csv"]
    assert len(data.events) == 12 and len(data.items) == 4
    assert set(data.events["source"]) == {0}
    assert str(data.events["ts"].dtype) == "int64" and str(data.items["created"].dtype) == "Int64"
    assert (data.events["ts"].to_numpy() != NAT).all()
    assert np.array_equal(data.events["line"].to_numpy(), np.arange(2, 14))
