"""Odd files: each gets a located message (or reads correctly) and never a traceback.

Empty, header only, BOM, CRLF and NUL/Latin-1/invalid UTF-8 bytes are in test_csv_sources.py and
test_bad_text.py; DST gap and overlap in test_csv_sources.py (W208/W209). This file covers the
rest of issue 11's list: 100k columns, repeated headers, years 1 and 9999, a line of hundreds of
MB, 10^5 distinct states, events before creation, YAML alias bombs, deep nesting, repeated YAML
keys and tabs. Expected lines and columns are counted by hand from the bytes each test writes.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from generator.cli import main
from generator.load.yaml_doc import MAX_ALIASED, parse_yaml
from generator.sources import events_csv, items_csv
from generator.sources.base import ReadContext, SourceData

HEADER = b"item_id,timestamp,state\n"
FILE = "streams/demo/data/input.csv"
FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation"


def read(tmp_path: Path, content: bytes, kind: str = "events-csv", tz: str = "UTC") -> SourceData:
    stream = tmp_path / "proj" / "streams" / "demo"
    (stream / "data").mkdir(parents=True, exist_ok=True)
    (stream / "data" / "input.csv").write_bytes(content)
    module = events_csv if kind == "events-csv" else items_csv
    ctx = ReadContext(tmp_path / "proj", stream, tz, 0)
    return module.read(module.Options(kind=kind, path="data/input.csv"), ctx)


def located(data: SourceData) -> list[tuple[str, int | None]]:
    return [(p.code, p.location.line) for p in data.problems]


# ---------------------------------------------------------------- CSV shapes


def test_a_header_of_100k_columns_is_read_whole(tmp_path: Path) -> None:
    # before: only the header's first 64 KiB were read (10,950 names), so every row had "100003
    # fields, the header has 10950" (W206) and nothing was read
    extra = b",".join(b"c%d" % i for i in range(100_000))
    header = b"item_id,timestamp," + extra + b",state\n"
    row = b"A,2026-03-02T09:00:00Z," + b"," * 99_999 + b",Open\n"
    data = read(tmp_path, header + row + row.replace(b"A,", b"B,"))
    assert data.problems == []
    assert data.events is not None
    assert list(data.events["item_id"]) == ["A", "B"]
    assert list(data.events["state"]) == ["Open", "Open"]


def test_a_missing_column_lists_only_the_first_headers(tmp_path: Path) -> None:
    header = b"item_id,timestamp," + b",".join(b"c%d" % i for i in range(100_000)) + b"\n"
    data = read(tmp_path, header)
    assert located(data) == [("E201", 1)]
    # 20 names shown (item_id, timestamp, c0..c17), then a count of the other 99,982
    assert data.problems[0].message.endswith("c16, c17, and 99,982 more)")


def test_a_repeated_header_is_a_warning_and_the_first_column_is_read(tmp_path: Path) -> None:
    data = read(tmp_path, b"item_id,timestamp,state,State\nA,2026-03-02T09:00:00Z,Open,Done\n")
    assert located(data) == [("W213", 1)]
    assert "column 'state' appears 2 times in the header (columns 3, 4)" in data.problems[0].message
    assert data.events is not None and list(data.events["state"]) == ["Open"]


@pytest.mark.parametrize(
    ("value", "line"),
    [("0001-01-01T00:00:00Z", 2), ("9999-12-31T23:59:59Z", 3), ("0001-01-01", 4), ("9999-12-31 10:00", 5)],
)
def test_years_1_and_9999_are_warnings_not_a_crash(tmp_path: Path, value: str, line: int) -> None:
    # before: pandas' OutOfBoundsDatetime ("Out of bounds nanosecond timestamp: 1-01-01") ended the
    # build; naive ones are localised in Europe/Berlin, aware ones take the fast path first
    content = HEADER + b"".join(
        b"A-%d,%s,Open\n" % (i, v.encode())
        for i, v in enumerate(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01", "9999-12-31 10:00"])
    ) + b"B,2026-03-02T09:00:00Z,Open\n"
    data = read(tmp_path, content, tz="Europe/Berlin")
    assert located(data) == [("W202", 2), ("W202", 3), ("W202", 4), ("W202", 5)]
    problem = data.problems[line - 2]
    assert f"'{value}' is outside the years 1900 to 2189" in problem.message
    assert data.events is not None and list(data.events["item_id"]) == ["B"]


def test_a_created_date_in_year_9999_is_ignored_with_a_warning(tmp_path: Path) -> None:
    data = read(tmp_path, b"item_id,created\nA,9999-01-01\nB,2026-01-01\n", kind="items-csv")
    assert located(data) == [("W202", 2)]
    assert "value ignored" in data.problems[0].message


@pytest.mark.slow
def test_a_line_of_hundreds_of_mb_fails_fast_in_bounded_memory(tmp_path: Path) -> None:
    # 256 MiB on line 3: E200 at that line, found without parsing it, in a child process whose
    # peak memory stays under 3 times the file (the file is read once; a copy is only made when
    # bytes must be replaced)
    path = tmp_path / "big.csv"
    with path.open("wb") as f:
        f.write(HEADER + b"A,2026-03-02T09:00:00Z,Open\nB,2026-03-02T09:00:00Z,")
        chunk = b"x" * (1 << 20)
        for _ in range(256):
            f.write(chunk)
        f.write(b"\nC,2026-03-02T09:00:00Z,Open\n")
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from generator.load.csv_table import CsvUnreadable, read_csv_table
        try:
            read_csv_table(Path({str(path)!r}))
        except CsvUnreadable as exc:
            print(exc.line, exc.reason)
        # VmHWM: this process's own peak (ru_maxrss would include the forked parent's pages)
        status = Path("/proc/self/status").read_text()
        print(int(status.split("VmHWM:")[1].split()[0]) // 1024 if "VmHWM:" in status else 0)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    first, peak = out.stdout.strip().splitlines()
    assert first == "3 line 3 is 256 MiB long; no CSV export has a line that long", out.stdout
    assert int(peak) < 3 * 256 + 200, f"peak {peak} MB"


# ---------------------------------------------------------------- whole builds


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION / "project", root)
    return root


def build(project: Path, capfd: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["build", "--project", str(project), "--quiet"])
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    return code, err


@pytest.mark.slow
def test_100k_distinct_states_fold_their_warnings(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    # 10^5 rows, each its own state S0..S99999 on items A-1..A-4 (lines 14 on): 20 W201 one by
    # one, then one folded W201 for the 99,980 others; the build goes on
    events = project / "streams" / "demo" / "data" / "events.csv"
    base = events.read_bytes()
    first_line = base.count(b"\n") + 1
    rows = b"".join(b"A-%d,2026-02-%02dT09:00:00Z,S%05d\n" % (1 + i % 4, 1 + i % 20, i) for i in range(100_000))
    events.write_bytes(base + rows)
    start = time.perf_counter()
    code, err = build(project, capfd)
    seconds = time.perf_counter() - start
    assert code == 0, err
    w201 = [line for line in err.splitlines() if "warning[W201]" in line]
    assert len(w201) == 21, w201[:3]
    # states sort as text: S00000, S00001, ... the 21st is S00020 on line first_line + 20
    assert f"events.csv:{first_line + 20}: warning[W201]: 99,980 more states are not mapped" in w201[-1]
    assert seconds < 600  # a bound against a hang, not a speed claim


def test_events_before_creation_move_created_back(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    items = project / "streams" / "demo" / "data" / "items.csv"
    text = items.read_text()
    header, *rows = text.splitlines()
    cols = header.split(",")
    assert "created" in cols, header
    at = cols.index("created")
    fields = rows[0].split(",")
    fields[at] = "2030-01-01T00:00:00Z"  # after every event of the first item
    items.write_text("\n".join([header, ",".join(fields), *rows[1:]]) + "\n")
    code, err = build(project, capfd)
    assert code == 0, err
    assert f"warning[W301]: item '{fields[0]}' has an event before its created time" in err


# ---------------------------------------------------------------- YAML


def bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_is_refused_quickly() -> None:
    # 9 levels of 9 aliases: 9^9 (387 million) values once expanded; before, 7 levels took 192 s
    start = time.perf_counter()
    doc, problems = parse_yaml(bomb(9), "streams/s/stream.yaml")
    assert time.perf_counter() - start < 30  # a bound against a hang, not a speed claim
    assert doc is None
    assert [(p.code, p.location.path) for p in problems] == [("E100", "streams/s/stream.yaml")]
    assert "alias bomb" in problems[0].message
    # the limit is on values reached again through aliases: a few levels are fine
    doc, problems = parse_yaml(bomb(3), "s.yaml")
    assert problems == [] and doc is not None and len(doc.data["a2"]) == 9
    assert 9**3 < MAX_ALIASED < 9**9


def test_a_billion_laughs_in_stream_yaml_is_a_located_error(project: Path, capfd: pytest.CaptureFixture[str]) -> None:
    path = project / "streams" / "demo" / "stream.yaml"
    path.write_text(path.read_text() + "\nx-bomb:\n" + textwrap.indent(bomb(9), "  "))
    code, err = build(project, capfd)
    assert code == 1
    assert "streams/demo/stream.yaml:" in err and "error[E100]" in err and "alias bomb" in err


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", (1, 5003)),  # 'a: ' then the 5000th '['
        ("a:\n  b: " + "{x: " * 3000 + "1" + "}" * 3000 + "\n", (2, 5 + 4 * 2999 + 1)),  # "  b: " then 2999 "{x: "
    ],
    ids=["lists", "mappings"],
)
def test_deep_nesting_is_refused_at_its_deepest_point(text: str, where: tuple[int, int]) -> None:
    # before: RecursionError from PyYAML's composer (and 30 s in its scanner first)
    doc, problems = parse_yaml(text, "s.yaml")
    assert doc is None
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [("E100", *where)]
    assert "nested more than 100 levels" in problems[0].message


def test_repeated_keys_are_located() -> None:
    _, problems = parse_yaml("name: a\nstages: []\nname: b\n", "s.yaml")
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [("E118", 3, 1)]
    assert "first on line 1" in problems[0].message


def test_a_tab_in_the_indentation_says_so() -> None:
    doc, problems = parse_yaml("stages:\n\t- id: a\n", "s.yaml")
    assert doc is None
    assert [(p.code, p.location.line, p.location.col) for p in problems] == [("E100", 2, 1)]
    assert "tabs" in problems[0].hint


def test_peak_memory_of_this_process_is_sane() -> None:
    # a guard that the tests above did not leave gigabytes behind in the worker
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024 < 8192
