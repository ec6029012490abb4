"""Bytes that cannot be text: invalid UTF-8 sequences, NUL bytes and overlong lines, found by line.

A data file read as text must be UTF-8 without NUL bytes. The clean case costs one memchr for
NUL and one zero-copy UTF-8 validation (Arrow); only a file with bad bytes is decoded again to
find them. Bad bytes are replaced by '?' in a copy, so the rest of the file can still be parsed
and the rows that held them can be skipped with a located warning.
"""

from __future__ import annotations

import codecs
import threading
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# a physical line longer than this is no CSV export: it fails fast instead of being parsed
MAX_LINE_BYTES = 16 << 20
_CHUNK = 64 << 20
_found = threading.local()


def _record(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _found.ranges.append((exc.start, exc.end))
    return ("?", exc.end)


codecs.register_error("vsm-record-invalid", _record)


@dataclass(frozen=True)
class BadText:
    """A line holding bytes that are not text: its number, the 1-based byte column of the first
    bad byte, and what is there ("byte 0xFD", invalid in UTF-8, or "a NUL byte")."""

    line: int
    column: int
    detail: str


def is_valid_utf8(raw: bytes) -> bool:
    """UTF-8 validation without copying `raw` (Arrow's validator over a one-value string array)."""
    offsets = pa.py_buffer(np.array([0, len(raw)], dtype=np.int64).tobytes())
    array = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(raw)])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def bad_ranges(raw: bytes) -> list[tuple[int, int]]:
    """Byte ranges [start, end) of every invalid UTF-8 sequence and every NUL byte, in order."""
    ranges: list[tuple[int, int]] = []
    if not is_valid_utf8(raw):
        _found.ranges = ranges
        try:
            raw.decode("utf-8", "vsm-record-invalid")
        finally:
            del _found.ranges
    nul = raw.find(b"\x00")
    if nul >= 0:
        data = np.frombuffer(raw, dtype=np.uint8)
        ranges += [(int(i), int(i) + 1) for i in np.flatnonzero(data == 0)]
        ranges.sort()
    return ranges


def line_starts(raw: bytes) -> np.ndarray:
    """Byte offset where each line starts (line 1 at offset 0), scanning in bounded chunks."""
    view = memoryview(raw)
    parts = [np.zeros(1, dtype=np.int64)]
    for at in range(0, len(raw), _CHUNK):
        chunk = np.frombuffer(view[at : at + _CHUNK], dtype=np.uint8)
        parts.append(np.flatnonzero(chunk == 10).astype(np.int64) + at + 1)
    return np.concatenate(parts)


def first_long_line(raw: bytes, limit: int = MAX_LINE_BYTES) -> tuple[int, int] | None:
    """(line number, length) of the first line longer than `limit` bytes, or None. Jumps from
    window to window (each the last line end within `limit` bytes), so it costs len/limit steps
    and no memory: every line that starts inside a window and ends inside it is short enough."""
    pos = 0
    while len(raw) - pos > limit:
        end = raw.rfind(b"\n", pos, pos + limit + 1)
        if end < 0:
            stop = raw.find(b"\n", pos)
            length = (len(raw) if stop < 0 else stop) - pos
            return raw.count(b"\n", 0, pos) + 1, length
        pos = end + 1
    return None


def find_bad_text(raw: bytes) -> tuple[bytes, list[BadText]]:
    """`raw` with every bad byte replaced by '?', and the lines that held them (first bad byte of
    each line). Returns `raw` itself, not a copy, when it is clean."""
    if b"\x00" not in raw and is_valid_utf8(raw):
        return raw, []
    ranges = bad_ranges(raw)
    cleaned = bytearray(raw)
    for start, end in ranges:
        cleaned[start:end] = b"?" * (end - start)
    starts = line_starts(raw)
    out: list[BadText] = []
    last_line = 0
    for start, _end in ranges:
        line = int(np.searchsorted(starts, start, side="right"))
        if line == last_line:
            continue
        last_line = line
        byte = raw[start]
        detail = "a NUL byte" if byte == 0 else f"byte 0x{byte:02X}"
        out.append(BadText(line, start - int(starts[line - 1]) + 1, detail))
    return bytes(cleaned), out


def looks_like_latin1(bad: list[BadText]) -> bool:
    """Most bad bytes are Latin-1 / Windows-1252 letters (0xC0-0xFF): a file saved in that encoding."""
    letters = sum(
        1 for b in bad if b.detail.startswith("byte 0x") and int(b.detail[7:], 16) >= 0xC0
    )
    return letters * 2 > len(bad)
