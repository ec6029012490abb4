"""Turn ISO 8601 text into UTC instants (int64 nanoseconds), vectorised.

Values with an offset (`Z`, `+02:00`, `+0200`) are exact. Values without one
are wall times in the stream's zone: a wall time that occurs twice (DST
fall-back) takes the earlier instant; one that does not exist (spring-forward)
moves forward by the gap, as Python's zoneinfo does with fold=0. Both are
reported back so the caller can warn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

NAT = np.iinfo(np.int64).min
_WALL = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
_ISO_RE = _WALL + "$"  # a naive date or date and time, nothing after it
_OFFSET_RE = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)? ?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"  # only after a time


@dataclass(frozen=True)
class ParsedInstants:
    """Parsed instants with masks of the values that needed attention."""

    ns: np.ndarray  # int64, NAT where invalid or empty
    invalid: np.ndarray  # bool: non-empty text that is not an ISO 8601 instant
    empty: np.ndarray  # bool: empty or missing
    ambiguous: np.ndarray  # bool: naive wall time that occurs twice (earlier instant taken)
    nonexistent: np.ndarray  # bool: naive wall time in a DST gap (moved forward by the gap)


# The instants the tool accepts: years 1900 to 2189. int64 nanoseconds hold 1677-09-21 to
# 2262-04-11, but a duration between two instants must fit too (at most 292 years).
FIRST_YEAR, LAST_YEAR = 1900, 2189
_FIRST, _END = pd.Timestamp(f"{FIRST_YEAR}-01-01"), pd.Timestamp(f"{LAST_YEAR + 1}-01-01")
FIRST_NS, END_NS = _FIRST.value, _END.value


def out_of_range(text: str | None) -> bool:
    """A value written with a year outside FIRST_YEAR..LAST_YEAR (year 1, 9999, 1677, ...)."""
    match = re.match(r"\s*(\d{4})-", text or "")
    return match is not None and not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR


def _to_ns(values: pd.Series) -> np.ndarray:
    """int64 ns of parsed datetimes; NAT for years the tool does not accept (pandas 3 parses
    year 1 or 9999 at a coarser unit, and converting them to nanoseconds would overflow)."""
    tz = values.dt.tz
    lo, end = (_FIRST, _END) if tz is None else (_FIRST.tz_localize("UTC"), _END.tz_localize("UTC"))
    values = values.where(values.isna() | ((values >= lo) & (values < end)))
    out = (
        values.astype("datetime64[ns, UTC]")
        if values.dt.tz is not None
        else values.astype("datetime64[ns]")
    )
    arr = (
        out.to_numpy(dtype="datetime64[ns]")
        if out.dt.tz is None
        else out.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    )
    return arr.view(np.int64).copy()


def _fast_path(text: pa.Array) -> np.ndarray | None:
    """A column whose every value is ISO 8601 with an offset parses in Arrow's C++ parser;
    None when any value is naive, a bare date or not ISO 8601 (then the careful path runs)."""
    try:
        parsed = pc.cast(text, pa.timestamp("ns", tz="UTC"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if parsed.null_count:
        return None
    out: np.ndarray = parsed.cast(pa.int64()).to_numpy(zero_copy_only=False)
    if ((out < FIRST_NS) | (out >= END_NS)).any():
        return None  # some year outside FIRST_YEAR..LAST_YEAR: the careful path marks it invalid
    return out


def parse_instants(values: pd.Series | pa.Array, timezone: str) -> ParsedInstants:
    """Parse a column of ISO 8601 strings into UTC nanoseconds."""
    arr = (
        values
        if isinstance(values, pa.Array)
        else pa.array(values.astype("string").array, from_pandas=True).cast(pa.string())
    )
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    stripped = pc.utf8_trim_whitespace(arr)
    empty = pc.fill_null(pc.equal(pc.utf8_length(stripped), 0), True).to_numpy(zero_copy_only=False)
    fast = _fast_path(stripped) if not empty.any() else None
    false = np.zeros(n, dtype=bool)
    if fast is not None:
        return ParsedInstants(fast, false, empty, false.copy(), false.copy())

    ns = np.full(n, NAT, dtype=np.int64)
    looks_iso = pc.fill_null(pc.match_substring_regex(stripped, _ISO_RE), False).to_numpy(
        zero_copy_only=False
    )
    has_offset = pc.fill_null(pc.match_substring_regex(stripped, _OFFSET_RE), False).to_numpy(
        zero_copy_only=False
    )
    text = pd.Series(stripped.to_numpy(zero_copy_only=False), dtype="object")

    aware = has_offset & ~empty
    if aware.any():
        parsed = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
        ns[aware] = _to_ns(parsed)
    naive = looks_iso & ~has_offset & ~empty  # anything else is not ISO 8601: invalid
    ambiguous = np.zeros(n, dtype=bool)
    nonexistent = np.zeros(n, dtype=bool)
    if naive.any():
        wall = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        wall = wall.where((wall >= _FIRST) & (wall < _END))  # years the tool accepts
        ok = wall.notna().to_numpy()
        wall_ok = wall[ok]
        early = wall_ok.dt.tz_localize(
            timezone, ambiguous=np.ones(len(wall_ok), bool), nonexistent="NaT"
        )
        late = wall_ok.dt.tz_localize(
            timezone, ambiguous=np.zeros(len(wall_ok), bool), nonexistent="NaT"
        )
        early_ns = _to_ns(early)
        late_ns = _to_ns(late)
        gap = early.isna().to_numpy()
        chosen = np.minimum(early_ns, late_ns)
        if gap.any():
            zone = ZoneInfo(timezone)
            wall_gap = wall_ok[gap]
            shifted = {
                v: int(
                    datetime(
                        v.year,
                        v.month,
                        v.day,
                        v.hour,
                        v.minute,
                        v.second,
                        v.microsecond,
                        tzinfo=zone,
                    ).timestamp()
                    * 1_000_000
                )
                * 1000
                for v in wall_gap.unique()
            }
            chosen[gap] = np.array([shifted[v] for v in wall_gap], dtype=np.int64)
        idx = np.flatnonzero(naive)[ok]
        ns[idx] = chosen
        ambiguous[idx] = (early_ns != late_ns) & ~gap
        nonexistent[idx] = gap
    invalid = (ns == NAT) & ~empty
    return ParsedInstants(ns, invalid, empty, ambiguous, nonexistent)


def utc_text(ns: np.ndarray, precise: bool = False) -> pa.Array:
    """ISO 8601 UTC text (`2026-01-05T10:00:00+00:00`) for int64 ns; null for NAT.

    Whole seconds, unless `precise`: then as many fractional digits (3, 6 or 9) as the values need.
    """
    valid = ns != NAT
    unit, scale = "s", 1_000_000_000
    if precise and valid.any():
        for unit, scale in (("s", 1_000_000_000), ("ms", 1_000_000), ("us", 1_000), ("ns", 1)):  # noqa: B007 - used after the loop
            if not (ns[valid] % scale).any():
                break
    values = pa.array(np.where(valid, ns // scale, 0), type=pa.int64(), mask=~valid)
    text = values.cast(pa.timestamp(unit)).cast(pa.string())
    return pc.binary_join_element_wise(pc.replace_substring(text, " ", "T"), "+00:00", "")


def format_utc(ns: np.ndarray) -> np.ndarray:
    """utc_text as a numpy object array with '' for NAT."""
    return np.asarray(pc.fill_null(utc_text(ns), "").to_numpy(zero_copy_only=False), dtype=object)


_STRICT_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$"


def strict_iso(column: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Trimmed values that are ISO 8601 through and through (others become null), and the mask of the others.

    parse_instants takes any value that starts like an ISO date; a tail such
    as `-1` can make pandas see mixed zones and raise, so junk is held back
    here and reported by the caller as not ISO 8601.
    """
    trimmed = pc.utf8_trim_whitespace(column)
    ok = np.asarray(
        pc.fill_null(pc.match_substring_regex(trimmed, _STRICT_ISO), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    blank = np.asarray(
        pc.fill_null(pc.equal(pc.utf8_length(trimmed), 0), True).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    bad = ~ok & ~blank
    if not bad.any():
        return trimmed, bad
    return pc.if_else(pa.array(ok), trimmed, pa.scalar(None, pa.string())), bad
