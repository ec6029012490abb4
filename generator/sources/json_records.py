"""Streaming JSON records, shared by every JSON kind.

One file or a folder of them; each a JSON array, a search response wrapping
one, a single object, or JSON Lines, read one chunk at a time. Records that
cannot be read are located and skipped (W220), a file with none is E200.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.errors import Location, Problem
from generator.sources.base import ReadContext, SourceData
from generator.sources.rows import ROW_PROBLEM_CAP

# ---------------------------------------------------------------- streaming JSON records

JSON_SUFFIXES = (".json", ".jsonl", ".ndjson")
LINES_SUFFIXES = (".jsonl", ".ndjson")
CHUNK = 1 << 20
_MARGIN = 16
_DECODER = json.JSONDecoder()
_NON_WS = re.compile(r"[^ \t\r\n]")
_SKIP = re.compile(r'"(?:[^"\\]|\\.)*"|["{}\[\],]', re.S)


@dataclass(frozen=True)
class JsonRecord:
    value: Any
    index: int  # 1-based position of the record in its file
    line: int  # text line the record starts on


@dataclass(frozen=True)
class BadRecord:
    index: int
    line: int
    reason: str


class _Malformed(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JsonRecords:
    """The records of one JSON file, read in chunks so that memory does not grow with the file.

    A file holds a JSON array of records, an object wrapping such an array
    under one of `array_keys` (its other keys land in `wrapper`), a single
    record object, or JSON Lines (several top-level values). A record that
    cannot be decoded is listed in `bad` and reading goes on after it; `stop`
    says why reading ended early (truncated file, not JSON, not UTF-8).
    """

    def __init__(self, path: Path, array_keys: tuple[str, ...] = ()) -> None:
        self.path = path
        self.array_keys = array_keys
        self.wrapper: dict[str, Any] = {}
        self.bad: list[BadRecord] = []
        self.stop: BadRecord | None = None
        self.records = 0  # records yielded
        self.lines_mode = path.suffix.lower() in LINES_SUFFIXES
        self._count = 0  # records seen, good or bad
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._lineno = 1
        self._linepos = 0
        self._dropped = 0
        self._ended = False

    # -- buffer
    def _fill(self) -> bool:
        """Read the next chunk, dropping what was consumed; False at end of file."""
        if self._eof:
            return False
        chunk = self._file.read(max(CHUNK, len(self._buf) - self._pos))
        if not chunk:
            self._eof = True  # the buffer is left as it was: callers' positions stay valid
            return False
        if self._pos:
            self._lineno += self._buf.count("\n", self._linepos, self._pos)
            self._linepos = 0
            self._dropped += self._pos
            self._buf = self._buf[self._pos :]
            self._pos = 0
        self._buf += chunk
        return True

    def _line(self) -> int:
        self._lineno += self._buf.count("\n", self._linepos, self._pos)
        self._linepos = self._pos
        return self._lineno

    def _peek(self) -> str:
        """The next non-blank character ('' at end of file), positioned on it."""
        while True:
            m = _NON_WS.search(self._buf, self._pos)
            if m:
                self._pos = m.start()
                return self._buf[self._pos]
            self._pos = len(self._buf)
            if not self._fill():
                return ""

    def _decode(self) -> Any:
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                unterminated = exc.msg.startswith("Unterminated string")
                tail = len(self._buf) - exc.pos
                offset = exc.pos - self._pos
                if (tail <= _MARGIN or unterminated) and self._fill():
                    continue  # the value may go on in the next chunk
                if tail <= 1 or unterminated:
                    raise _Malformed(
                        "the file ends inside this record (truncated export?)"
                    ) from None
                line = self._line() + self._buf.count("\n", self._pos, self._pos + offset)
                raise _Malformed(f"{exc.msg} (line {line})") from None
            if (
                end >= len(self._buf) - _MARGIN
                and not isinstance(value, (dict, list, str))
                and self._fill()
            ):
                continue  # a number may go on in the next chunk
            self._pos = end
            return value

    def _skip_value(self) -> bool:
        """Move past a value that could not be decoded, by bracket matching; False at end of file."""
        depth = 0
        while True:
            m = _SKIP.search(self._buf, self._pos)
            if m is None or m.group() == '"':
                self._pos = m.start() if m else len(self._buf)
                if not self._fill():
                    return False
                continue
            token = m.group()
            if token in "{[":
                depth += 1
            elif token in "}]":
                if depth == 0:
                    self._pos = m.start()
                    return True
                depth -= 1
                if depth == 0:
                    self._pos = m.end()
                    return True
            elif token == "," and depth == 0:
                self._pos = m.start()
                return True
            self._pos = m.end()

    def _skip_line(self) -> bool:
        while True:
            at = self._buf.find("\n", self._pos)
            if at >= 0:
                self._pos = at + 1
                return True
            self._pos = len(self._buf)
            if not self._fill():
                return False

    # -- grammar
    def __iter__(self) -> Iterator[JsonRecord]:
        try:
            self._file = open(self.path, encoding="utf-8-sig", newline="")  # noqa: SIM115
        except OSError as exc:
            self.stop = BadRecord(0, 1, f"cannot be read ({exc.strerror})")
            return
        with self._file:
            try:
                yield from (self._lines() if self.lines_mode else self._values())
            except UnicodeDecodeError:
                self.stop = BadRecord(self._count, self._line(), "not UTF-8 text")
            except RecursionError:
                self.stop = BadRecord(self._count, self._line(), "nested too deeply")

    def _bad(self, line: int, reason: str) -> None:
        self.bad.append(BadRecord(self._count, line, reason))

    def _values(self) -> Iterator[JsonRecord]:
        c = self._peek()
        if not c:
            self.stop = BadRecord(0, 1, "the file is empty")
            return
        tops = 0
        while c and not self._ended:
            tops += 1
            self.lines_mode = tops > 1
            if c == "[":
                yield from self._array()
            elif c == "{":
                yield from self._object()
            else:
                line = self._line()
                if tops == 1:
                    self.stop = BadRecord(0, line, f"not JSON: expected '[' or '{{', found '{c}'")
                    return
                self._count += 1
                self._bad(line, f"unexpected text starting with '{c}'")
                if not self._skip_line():
                    return
            c = self._peek()

    def _array(self) -> Iterator[JsonRecord]:
        self._pos += 1
        while not self._ended:
            c = self._peek()
            if c == "]":
                self._pos += 1
                return
            if c == ",":
                self._pos += 1
                continue
            if not c:
                self.stop = BadRecord(
                    self._count,
                    self._line(),
                    "the file ends before the array is closed with ']' (truncated export?)",
                )
                self._ended = True
                return
            yield from self._element()
            c = self._peek()
            if c in ",]":
                continue
            if not c:
                continue  # reported above on the next turn
            # anything else: a missing comma; the next element reports what it finds

    def _element(self) -> Iterator[JsonRecord]:
        self._count += 1
        line = self._line()
        where = self._dropped + self._pos
        try:
            value = self._decode()
        except _Malformed as exc:
            self._bad(line, exc.reason)
            if not self._skip_value():
                self._ended = True
            elif self._dropped + self._pos == where:
                self._pos += 1
            return
        self.records += 1
        yield JsonRecord(value, self._count, line)

    def _object(self) -> Iterator[JsonRecord]:
        """A top-level object: a wrapper around an array of records, or itself one record."""
        line = self._line()
        self._pos += 1
        obj: dict[str, Any] = {}
        wrapped = False
        try:
            while True:
                c = self._peek()
                if c == "}":
                    self._pos += 1
                    break
                if not c:
                    raise _Malformed("the file ends inside this object (truncated export?)")
                key = self._decode()
                if not isinstance(key, str) or self._peek() != ":":
                    raise _Malformed(f"expected a key and ':' (line {self._line()})")
                self._pos += 1
                if self._peek() == "[" and key in self.array_keys:
                    wrapped = True
                    yield from self._array()
                    if self._ended:
                        return
                else:
                    obj[key] = self._decode()
                c = self._peek()
                if c == ",":
                    self._pos += 1
                elif c != "}":
                    raise _Malformed(f"expected ',' or '}}' (line {self._line()})")
        except _Malformed as exc:
            if wrapped:
                self.stop = BadRecord(
                    self._count,
                    self._line(),
                    f"the object around the records is malformed: {exc.reason}",
                )
                self._ended = True
                return
            self._count += 1
            self._bad(line, exc.reason)
            if not (self._skip_line() if self.lines_mode else self._skip_value()):
                self._ended = True
            return
        if wrapped:
            self.wrapper.update(obj)
            return
        self._count += 1
        self.records += 1
        yield JsonRecord(obj, self._count, line)

    def _lines(self) -> Iterator[JsonRecord]:
        for number, text in enumerate(self._file, 1):
            if not text.strip():
                continue
            self._count += 1
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                self.bad.append(BadRecord(self._count, number, exc.msg))
                continue
            pages = [
                k
                for k in self.array_keys
                if isinstance(value, dict) and isinstance(value.get(k), list)
            ]
            if pages:
                for element in value.pop(pages[0]):
                    self.records += 1
                    yield JsonRecord(element, self._count, number)
                self.wrapper.update(value)
                continue
            self.records += 1
            yield JsonRecord(value, self._count, number)


def json_files(path: Path) -> list[Path]:
    """The file itself, or a folder's *.json / *.jsonl / *.ndjson files sorted by name."""
    if path.is_dir():
        return sorted(
            (p for p in path.iterdir() if p.is_file() and p.suffix.lower() in JSON_SUFFIXES),
            key=lambda p: p.name,
        )
    return [path]


class JsonSource:
    """Every record of one path option (a file or a folder), with file problems put into `data`.

    A file that yields no record at all because it is malformed is an E200
    error; bad records in an otherwise readable file are W220 warnings.
    """

    def __init__(
        self, path: Path, ctx: ReadContext, data: SourceData, array_keys: tuple[str, ...] = ()
    ) -> None:
        self.path = path
        self.ctx = ctx
        self.data = data
        self.array_keys = array_keys
        self.lines_mode: dict[str, bool] = {}
        self.wrappers: dict[str, dict[str, Any]] = {}
        self.bad_records = 0

    def __iter__(self) -> Iterator[tuple[str, JsonRecord]]:
        rel = self.ctx.rel(self.path)
        if not self.path.exists():
            self.data.problems.append(
                Problem(
                    "E122",
                    "error",
                    Location(rel),
                    f"'{rel}' does not exist",
                    "check the path; it is relative to the stream's folder",
                )
            )
            return
        files = json_files(self.path)
        if self.path.is_dir() and not files:
            self.data.problems.append(
                Problem(
                    "E200",
                    "error",
                    Location(rel),
                    "the folder holds no .json, .jsonl or .ndjson files",
                    "put the exported files in this folder",
                )
            )
            return
        for path in files:
            file = self.ctx.rel(path)
            self.data.inputs.append(file)
            reader = JsonRecords(path, self.array_keys)
            for record in reader:
                yield file, record
            self.lines_mode[file] = reader.lines_mode
            self.wrappers[file] = reader.wrapper
            self.bad_records += len(reader.bad)
            self.data.problems += _file_problems(reader, file)


def _file_problems(reader: JsonRecords, file: str) -> list[Problem]:
    if reader.records == 0 and (reader.bad or reader.stop):
        first = reader.stop if reader.stop and not reader.bad else reader.bad[0]
        more = f" ({len(reader.bad)} records could not be read)" if len(reader.bad) > 1 else ""
        return [
            Problem(
                "E200",
                "error",
                Location(file, first.line),
                f"cannot read this JSON file: {first.reason}{more}",
                "export the data again as JSON (UTF-8)",
            )
        ]
    out = [
        Problem(
            "W220",
            "warning",
            Location(file, b.line),
            f"record {b.index} cannot be read and is skipped: {b.reason}",
            "the rest of the file was read; export again to get this record",
        )
        for b in reader.bad[:ROW_PROBLEM_CAP]
    ]
    rest = reader.bad[ROW_PROBLEM_CAP:]
    if rest:
        out.append(
            Problem(
                "W220",
                "warning",
                Location(file, rest[0].line),
                f"{len(rest)} more records like the ones above, from this line on",
                "export the data again",
                count=len(rest),
            )
        )
    if reader.stop:
        out.append(
            Problem(
                "W220",
                "warning",
                Location(file, reader.stop.line),
                f"reading stopped after record {reader.stop.index}: {reader.stop.reason}",
                "the records before this point were read; export again to get the rest",
            )
        )
    return out
