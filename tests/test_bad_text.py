"""Bytes that are not UTF-8 text in a CSV row: a located warning (W211), the row skipped and counted,
no traceback from pyarrow's invalid-row handler; a header or a whole file that is not text is E200.

Reproducer of the defect (issue 11): in a copy of streams/support/data/events.csv, replace one byte
after the first 64 KiB (the comma before a state, or a letter inside it) with 0xFD. Before the fix
the build printed `Exception ignored in: <function _fast.<locals>.on_invalid ...> UnicodeDecodeError`
and failed the whole stream with an unlocated E200. Lines and columns below are counted by hand
from the bytes each test writes (line 1 is the header; columns are 1-based byte offsets).
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from generator.cli import main
from generator.load.text_bytes import find_bad_text, first_long_line
from generator.sources import events_csv
from generator.sources.base import ReadContext, SourceData

HEADER = b"item_id,timestamp,state\n"
FILE = "streams/demo/data/input.csv"
FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation"


@pytest.fixture(autouse=True)
def no_unraisable(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Collect what Python would print as 'Exception ignored in ...' and fail when there is any."""
    seen: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", seen.append)
    yield seen
    assert seen == [], [f"{u.exc_type.__name__}: {u.exc_value}" for u in seen]


def read(tmp_path: Path, content: bytes) -> SourceData:
    stream = tmp_path / "proj" / "streams" / "demo"
    (stream / "data").mkdir(parents=True, exist_ok=True)
    (stream / "data" / "input.csv").write_bytes(content)
    ctx = ReadContext(tmp_path / "proj", stream, "UTC", 0)
    return events_csv.read(events_csv.Options(kind="events-csv", path="data/input.csv"), ctx)


def rows(n: int, start: int = 0) -> bytes:
    """n good rows, item A-<i> entering Open at minute i (each row 37 bytes)."""
    return b"".join(
        f"A-{i:04d},2026-03-02T09:{i % 60:02d}:00Z,Open\n".encode() for i in range(start, start + n)
    )


def problems(data: SourceData) -> list[tuple[str, str, int | None, int | None]]:
    return [(p.code, p.severity, p.location.line, p.location.col) for p in data.problems]


def test_a_stray_byte_inside_a_state_far_into_the_file(tmp_path: Path) -> None:
    # 3000 rows (about 111 KB, past the 64 KiB the header check looks at); the row on line 2500 is
    # rows(3000)'s 2499th: "A-2498,2026-03-02T09:38:00Z,O\xfden" -> 0xFD is byte 30 of the line
    # (6 + 1 + 20 + 1 = 28 bytes before "O", then "O" at 29)
    body = bytearray(rows(3000))
    line_start = 2498 * len(b"A-0000,2026-03-02T09:00:00Z,Open\n")
    assert body[line_start : line_start + 6] == b"A-2498"
    body[line_start + 29] = 0xFD
    data = read(tmp_path, HEADER + bytes(body))
    assert problems(data) == [("W211", "warning", 2500, 30)]
    p = data.problems[0]
    assert p.location.path == FILE
    assert "not valid UTF-8" in p.message and "0xFD" in p.message
    assert p.hint and "UTF-8" in p.hint
    assert data.events is not None
    assert len(data.events) == 2999
    assert 2500 not in set(data.events["line"])
    assert {2499, 2501} <= set(data.events["line"])
    assert data.skipped["rows that are not valid UTF-8 text"] == 1


def test_a_stray_byte_replacing_the_delimiter_is_not_a_field_count_problem(tmp_path: Path) -> None:
    # the comma before the state becomes 0xFD: the row has 2 fields, pyarrow's invalid-row handler
    # used to get it and fail to decode it; now the byte is found first, only W211 is said
    body = bytearray(rows(3000))
    line_start = 2000 * 33
    assert body[line_start + 27 : line_start + 28] == b","
    body[line_start + 27] = 0xFD
    data = read(tmp_path, HEADER + bytes(body))
    assert problems(data) == [("W211", "warning", 2002, 28)]
    assert data.events is not None and len(data.events) == 2999
    assert data.skipped["rows with the wrong number of fields"] == 0
    assert data.skipped["rows that are not valid UTF-8 text"] == 1


def test_a_nul_byte_and_a_truncated_sequence(tmp_path: Path) -> None:
    content = (
        HEADER
        + b"A,2026-03-02T09:00:00Z,Open\n"  # line 2
        + b"B,2026-03-02T09:00:00Z,Op\x00en\n"  # line 3: NUL at byte 26
        + b"C,2026-03-02T09:00:00Z,Caf\xc3\n"  # line 4: a 2-byte sequence cut after its lead
        + b"D,2026-03-02T09:00:00Z,Caf\xc3\xa9\n"  # line 5: 'Café' in UTF-8, fine
    )
    data = read(tmp_path, content)
    assert problems(data) == [("W211", "warning", 3, 26), ("W211", "warning", 4, 27)]
    assert "a NUL byte" in data.problems[0].message
    assert "0xC3" in data.problems[1].message
    assert data.events is not None
    assert list(data.events["line"]) == [2, 5]
    assert list(data.events["state"]) == ["Open", "Café"]


def test_a_bad_byte_in_a_quoted_multi_line_value_skips_the_row_it_belongs_to(tmp_path: Path) -> None:
    # the row starting on line 3 goes on over line 4 (a quoted newline): the bad byte on line 4
    # drops that row; line 5's row keeps its line number
    content = (
        HEADER
        + b'A,2026-03-02T09:00:00Z,"Open"\n'
        + b'B,2026-03-02T09:00:00Z,"In\n'
        + b'Pro\xfdgress"\n'
        + b"C,2026-03-02T09:00:00Z,Done\n"
    )
    data = read(tmp_path, content)
    assert problems(data) == [("W211", "warning", 4, 4)]
    assert data.events is not None
    assert list(data.events["line"]) == [2, 5]


def test_a_header_that_is_not_text_stops_the_file(tmp_path: Path) -> None:
    data = read(tmp_path, b"item_id,time\xfdstamp,state\n" + rows(3))
    assert problems(data) == [("E200", "error", 1, 13)]
    assert "header row is not UTF-8" in data.problems[0].message
    assert data.events is None


def test_a_latin1_file_is_unreadable_with_a_hint(tmp_path: Path) -> None:
    # 12 of 21 lines hold a Latin-1 'é' (0xE9): more than the 10 lines a file may lose this way
    lines = [b"A-%d,2026-03-02T09:00:00Z,%s\n" % (i, b"Caf\xe9" if i % 2 else b"Open") for i in range(20)]
    data = read(tmp_path, HEADER + b"".join(lines) + b"B,2026-03-02T09:00:00Z,R\xe9sum\xe9\n")
    assert [(c, s, line) for c, s, line, _ in problems(data)] == [("E200", "error", 3)]
    p = data.problems[0]
    assert "11 of 23 lines" in p.message
    assert p.hint and "Latin-1" in p.hint
    assert data.events is None


def test_find_bad_text_leaves_clean_bytes_alone() -> None:
    raw = HEADER + "B,2026-03-02T09:00:00Z,Caf\u00e9 \U0001f642\n".encode()
    cleaned, bad = find_bad_text(raw)
    assert cleaned is raw and bad == []
    cleaned, bad = find_bad_text(b"a\xffb\n\xfe\xfe\n")
    assert cleaned == b"a?b\n??\n"
    assert [(b.line, b.column, b.detail) for b in bad] == [(1, 2, "byte 0xFF"), (2, 1, "byte 0xFE")]


def test_first_long_line() -> None:
    # limit 4: "abcde" (line 2, 5 bytes) is the first line longer than 4; lines of 4 are fine
    assert first_long_line(b"ab\nabcde\nx", 4) == (2, 5)
    assert first_long_line(b"abcd\nabcd\nabcd", 4) is None
    assert first_long_line(b"abc", 2) == (1, 3)
    assert first_long_line(b"a\n" * 10 + b"y" * 9, 8) == (11, 9)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION / "project", root)
    return root


def test_the_build_warns_counts_and_prints_no_traceback(
    project: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    events = project / "streams" / "demo" / "data" / "events.csv"
    text = events.read_bytes()
    # 2000 more rows put the mangled row past 64 KiB; its state 'Done' gets 0xFD for its 'o':
    # 'Z-9999' (6 bytes), ',' (7), the timestamp (8-27), ',' (28), 'D' (29), 0xFD at column 30
    extra = b"".join(b"Z-%04d,2026-02-10T09:00:00Z,Done\n" % i for i in range(2000))
    bad = b"Z-9999,2026-02-11T09:00:00Z,D\xfdne\n"
    events.write_bytes(text + extra + bad)
    line = text.count(b"\n") + 2000 + 1
    code = main(["build", "--project", str(project), "--quiet"])
    out, err = capfd.readouterr()
    everything = out + err
    assert code == 0, everything
    assert "Traceback" not in everything and "Exception ignored" not in everything
    assert re.search(
        rf"^streams/demo/data/events\.csv:{line}:30: warning\[W211\]: not valid UTF-8", err, re.M
    ), err
    quality = (project / "_site" / "streams" / "demo" / "quality" / "index.html").read_text()
    assert "W211" in quality and "Rows that are not valid UTF-8 text" in quality
    # the skipped-rows table counts it
    assert (
        "<td>rows that are not valid UTF-8 text (streams/demo/data/events.csv)</td>"
        '<td class="num">1</td>'
    ) in quality
