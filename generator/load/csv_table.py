"""Read a CSV file into string columns, keeping the line each row started on.

Columns are read by position (headers may repeat, as in Jira exports).
Rows with the wrong number of fields are not fatal: they come back with their
line so the caller can warn and count them. The fast path is pyarrow's reader;
when rows and lines do not correspond one to one (values with newlines, blank
lines) the rows are re-read with Python's csv module to get exact lines.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from generator.load.text_bytes import (
    MAX_LINE_BYTES,
    BadText,
    find_bad_text,
    first_long_line,
    looks_like_latin1,
)


class CsvUnreadable(Exception):
    """The file cannot be read as CSV at all (missing, empty, not text)."""

    def __init__(
        self, reason: str, hint: str, line: int | None = None, col: int | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint
        self.line = line
        self.col = col


@dataclass
class BadRow:
    line: int
    expected: int
    actual: int
    text: str


@dataclass
class CsvTable:
    """String columns by position, each row's starting line, and the rows that did not fit."""

    header: list[str]
    columns: list[pa.Array]
    lines: np.ndarray
    bad_rows: list[BadRow] = field(default_factory=list)
    # lines with bytes that are not text (invalid UTF-8, NUL): their rows are left out
    bad_text: list[BadText] = field(default_factory=list)

    @property
    def num_rows(self) -> int:
        return len(self.lines)

    def find(self, name: str) -> int | None:
        """Position of the first column named `name` (exact, then case- and space-insensitive)."""
        if name in self.header:
            return self.header.index(name)
        want = _norm(name)
        for i, h in enumerate(self.header):
            if _norm(h) == want:
                return i
        return None

    def positions(self, name: str) -> list[int]:
        """Every position of a (possibly repeated) header, matched case- and space-insensitively."""
        want = _norm(name)
        return [i for i, h in enumerate(self.header) if _norm(h) == want]


def _norm(text: str) -> str:
    return "".join(text.split()).casefold()


def read_csv_table(path: Path, delimiter: str = ",") -> CsvTable:
    """Read a whole CSV file; raise CsvUnreadable when it cannot be read at all."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CsvUnreadable(
            "file not found", "check the path; it is relative to the stream's folder"
        ) from None
    except IsADirectoryError:
        raise CsvUnreadable("is a folder, not a file", "point `path` at a CSV file") from None
    except OSError as exc:
        raise CsvUnreadable(
            f"cannot be read ({exc.strerror})", "check the file's permissions"
        ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if re.search(rb"\S", raw) is None:
        raise CsvUnreadable("file is empty", "export the data again; a CSV needs a header row", 1)
    long_line = first_long_line(raw) if len(raw) > MAX_LINE_BYTES else None
    if long_line is not None:
        line, length = long_line
        raise CsvUnreadable(
            f"line {line} is {length / (1 << 20):.0f} MiB long; no CSV export has a line that long",
            "check that this is the exported file; cut very long values before exporting",
            line,
        )
    cleaned, bad_text = find_bad_text(raw)
    _check_bad_text(raw, bad_text)
    raw = cleaned
    # the header is read whole, however wide (a 100k-column header is longer than 64 KiB)
    header_end = raw.find(b"\n", 0, MAX_LINE_BYTES)
    text_head = raw[: max(65536, header_end + 1)].decode("utf-8", "ignore")
    header_reader = csv.reader(io.StringIO(text_head), delimiter=delimiter)
    try:
        header = next(header_reader)
    except (StopIteration, csv.Error):
        raise CsvUnreadable("no header row", "the first line must name the columns", 1) from None
    header = [h.strip() for h in header]
    if len(header) < 1 or not any(header):
        raise CsvUnreadable("no header row", "the first line must name the columns", 1)
    table = _fast(raw, header, delimiter)
    if table is None:
        table = _slow(raw, header, delimiter)
    return _without_bad_text(table, bad_text) if bad_text else table


def _check_bad_text(raw: bytes, bad: list[BadText]) -> None:
    """A header that is not text, or bad bytes on many lines, make the whole file unreadable; a
    few bad lines are left out row by row (W211)."""
    if not bad:
        return
    first = bad[0]
    latin1 = looks_like_latin1(bad)
    hint = (
        "the file looks like Latin-1 or Windows-1252: save or export it as UTF-8"
        if latin1
        else "save or export the file as UTF-8 text"
    )
    if first.line == 1 and b"\x00" in raw[:65536]:
        # a header that is not text and NUL bytes near it: a binary file or UTF-16
        raise CsvUnreadable(
            "not a text file (contains NUL bytes)", "export the data as CSV (UTF-8)", 1
        )
    if first.line == 1:
        raise CsvUnreadable(
            f"the header row is not UTF-8 text ({first.detail} at column {first.column})",
            hint,
            1,
            first.column,
        )
    lines = raw.count(b"\n") + 1
    if len(bad) > max(10, lines // 10):
        raise CsvUnreadable(
            f"not UTF-8 text: {len(bad)} of {lines} lines have bytes that are not"
            f" (the first: {first.detail} at column {first.column})",
            hint,
            first.line,
            first.column,
        )


def _without_bad_text(table: CsvTable, bad: list[BadText]) -> CsvTable:
    """Leave out the rows that hold a bad line: a good row, or a row with the wrong number of
    fields (then reported as bad text only)."""
    bad_lines = np.array([b.line for b in bad], dtype=np.int64)
    good_starts = table.lines
    bad_starts = np.array([b.line for b in table.bad_rows], dtype=np.int64)
    starts = np.concatenate((good_starts, bad_starts))
    is_good = np.concatenate((np.ones(len(good_starts), bool), np.zeros(len(bad_starts), bool)))
    order = np.argsort(starts, kind="stable")
    starts, is_good = starts[order], is_good[order]
    owner = np.searchsorted(starts, bad_lines, side="right") - 1
    owner = owner[owner >= 0]
    hit = starts[owner]
    keep = ~np.isin(table.lines, hit[is_good[owner]])
    dropped_bad = set(hit[~is_good[owner]].tolist())
    mask = pa.array(keep)
    return CsvTable(
        table.header,
        [column.filter(mask) for column in table.columns],
        table.lines[keep],
        [b for b in table.bad_rows if b.line not in dropped_bad],
        bad,
    )


def _fast(raw: bytes, header: list[str], delimiter: str) -> CsvTable | None:
    names = [f"c{i}" for i in range(len(header))]
    bad: list[tuple[int, int, int, str]] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        bad.append((row.number or -1, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    bad_seen: list[int] = []

    def any_invalid(row: pcsv.InvalidRow) -> str:
        bad_seen.append(1)
        return "skip"

    # threaded first (row numbers of bad rows are unknown then); re-read in one thread only when some row is bad
    threaded = _read(raw, names, delimiter, any_invalid, threads=True)
    if threaded is not None and not bad_seen:
        table = threaded
    else:
        table = _read(raw, names, delimiter, on_invalid, threads=False)
    if table is None:
        return None
    if any(number < 0 for number, *_ in bad):
        return None
    total_rows = table.num_rows + len(bad)
    newline_count = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    if newline_count != total_rows + 1:
        return None  # rows and lines differ: values with newlines or blank lines
    bad_numbers = np.array(sorted(number for number, *_ in bad), dtype=np.int64)
    rows = np.arange(2, total_rows + 2, dtype=np.int64)
    keep = np.ones(total_rows, dtype=bool)
    # pyarrow counts the header as row 1, so a bad row's number is its line here
    keep[bad_numbers - 2] = False
    lines = rows[keep]
    columns = [table.column(n).combine_chunks() for n in names]
    return CsvTable(header, columns, lines, [BadRow(n, e, a, t) for n, e, a, t in sorted(bad)])


def _read(
    raw: bytes,
    names: list[str],
    delimiter: str,
    handler: Callable[[pcsv.InvalidRow], str],
    threads: bool,
) -> pa.Table | None:
    try:
        return pcsv.read_csv(
            pa.BufferReader(raw),
            read_options=pcsv.ReadOptions(
                column_names=names, skip_rows=1, use_threads=threads, block_size=1 << 24
            ),
            parse_options=pcsv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=handler
            ),
            convert_options=pcsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "UTF8" in message or "utf8" in message.lower():
            raise CsvUnreadable("not UTF-8 text", "save or export the file as UTF-8") from None
        return None


def _slow(raw: bytes, header: list[str], delimiter: str) -> CsvTable:
    text = raw.decode("utf-8")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    width = len(header)
    values: list[list[str]] = [[] for _ in range(width)]
    lines: list[int] = []
    bad: list[BadRow] = []
    start = 1
    try:
        next(reader)
        start = reader.line_num + 1
        for row in reader:
            if not row:
                start = reader.line_num + 1
                continue
            if len(row) != width:
                bad.append(BadRow(start, width, len(row), delimiter.join(row)[:200]))
            else:
                for i, value in enumerate(row):
                    values[i].append(value)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise CsvUnreadable(
            f"not valid CSV ({exc})", "check quoting near this line", reader.line_num
        ) from None
    columns = [pa.array(v, type=pa.string()) for v in values]
    return CsvTable(header, columns, np.array(lines, dtype=np.int64), bad)
