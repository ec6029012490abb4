"""Rows gathered from JSON records, shared by every JSON kind.

Reading values out of records (ids, text, names, people), event and item rows
kept as lists until the end, their instants parsed at once, and the located
problems of the rows that could not be used.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.errors import Problem
from generator.load.timestamps import NAT, ParsedInstants, parse_instants, strict_iso
from generator.sources.base import ReadContext
from generator.sources.rows import row_problems

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def sortable(value: Any, default: int) -> int:
    """An id as an int64 tie-break (numeric ids only, within range), else `default`."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 2**62:
        return value
    return default


def text(value: Any) -> str | None:
    """Trimmed text, None when missing or blank."""
    if value is None or isinstance(value, (dict, list)):
        return None
    out = str(value).strip()
    return out or None


def title(value: Any) -> str | None:
    """Untrusted display text without control characters (a real Jira summary ends in a NUL byte)."""
    found = text(value)
    return text(_CONTROL.sub("", found)) if found else None


def name_of(value: Any) -> str | None:
    """`{"name": ...}` objects (issue type, status) or plain text."""
    return text(value.get("name")) if isinstance(value, dict) else text(value)


def person(value: Any, keys: tuple[str, ...] = ("accountId", "name", "key")) -> str | None:
    """A stable id for who made a change (account id, login, user key), never an e-mail address."""
    if not isinstance(value, dict):
        return None
    for key in keys:
        found = value.get(key)
        if isinstance(found, (str, int)) and not isinstance(found, bool):
            out = str(found).strip()
            if out and "@" not in out:
                return sys.intern(out)
    return None


# ---------------------------------------------------------------- rows shared by the JSON kinds


@dataclass
class EventRows:
    """Event rows gathered from JSON records before their instants are parsed (one list per column)."""

    item: list[str] = field(default_factory=list)
    ts: list[str | None] = field(default_factory=list)
    state: list[str | None] = field(default_factory=list)
    blocked: list[int] = field(default_factory=list)
    actor: list[str | None] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    index: list[int] = field(default_factory=list)  # record position in its file
    tline: list[int] = field(default_factory=list)  # text line the record starts on (for messages)
    order: list[int] = field(default_factory=list)  # tie-break among rows of one item and instant

    def add(
        self,
        item: str,
        ts: Any,
        state: str | None,
        blocked: int,
        actor: str | None,
        file: str,
        index: int,
        tline: int,
        order: int = 0,
    ) -> None:
        self.item.append(item)
        self.ts.append(ts if isinstance(ts, str) else None)
        self.state.append(sys.intern(state) if state else None)
        self.blocked.append(blocked)
        self.actor.append(actor)
        self.file.append(file)
        self.index.append(index)
        self.tline.append(tline)
        self.order.append(order)

    def parse(
        self, ctx: ReadContext, outcome: str, name: str
    ) -> tuple[np.ndarray, list[Problem], np.ndarray]:
        """UTC ns per row, W202 problems for missing or invalid instants, and the mask of valid rows."""
        parsed = parse_texts(self.ts, ctx.timezone)
        problems = instant_problems(
            parsed, self.ts, self.item, self.file, self.tline, ctx, name, outcome
        )
        return parsed.ns, problems, parsed.ns != NAT

    def frame(self, ns: np.ndarray, keep: np.ndarray, lines_mode: dict[str, bool]) -> pd.DataFrame:
        """Canonical event columns of the kept rows, plus `_order` for the caller's sort."""
        idx = np.flatnonzero(keep)
        pick = (lambda values: [values[i] for i in idx]) if len(idx) < len(self.item) else list
        return pd.DataFrame(
            {
                "item_id": pd.array(pick(self.item), dtype="string"),
                "ts": np.asarray(ns, dtype=np.int64)[idx],
                "state": pd.array(pick(self.state), dtype="string"),
                "blocked": np.asarray(self.blocked, dtype=np.int8)[idx]
                if self.item
                else np.zeros(0, np.int8),
                "actor": pd.array(pick(self.actor), dtype="string"),
                "file": pick(self.file),
                "line": record_lines(self.file, self.index, self.tline, lines_mode)[idx],
                "_order": np.asarray(self.order, dtype=np.int64)[idx]
                if self.item
                else np.zeros(0, np.int64),
            }
        )


@dataclass
class ItemRows:
    """Item attributes gathered from JSON records."""

    item: list[str] = field(default_factory=list)
    type: list[str | None] = field(default_factory=list)
    title: list[str | None] = field(default_factory=list)
    created: list[str | None] = field(default_factory=list)
    url: list[str | None] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    tline: list[int] = field(default_factory=list)

    def add(
        self,
        item: str,
        type_: str | None,
        title: str | None,
        created: Any,
        url: str | None,
        file: str,
        index: int,
        tline: int,
    ) -> None:
        self.item.append(item)
        self.type.append(type_)
        self.title.append(title)
        self.created.append(created if isinstance(created, str) else None)
        self.url.append(url)
        self.file.append(file)
        self.index.append(index)
        self.tline.append(tline)

    def parse(self, ctx: ReadContext) -> tuple[np.ndarray, list[Problem], np.ndarray]:
        parsed = parse_texts(self.created, ctx.timezone)
        problems = instant_problems(
            parsed,
            self.created,
            self.item,
            self.file,
            self.tline,
            ctx,
            "created",
            "its creation instant is unknown",
        )
        return parsed.ns, problems, parsed.ns != NAT

    def frame(
        self, created_ns: np.ndarray, created_ok: np.ndarray, lines_mode: dict[str, bool]
    ) -> pd.DataFrame:
        created = pd.array(np.asarray(created_ns, dtype=np.int64), dtype="Int64")
        created[~created_ok] = pd.NA
        urls = [u if u and re.match(r"^https?://", u, re.I) else None for u in self.url]
        return pd.DataFrame(
            {
                "item_id": pd.array(self.item, dtype="string"),
                "type": pd.array(self.type, dtype="string"),
                "title": pd.array(self.title, dtype="string"),
                "created": created,
                "url": pd.array(urls, dtype="string"),
                "file": list(self.file),
                "line": record_lines(self.file, self.index, self.tline, lines_mode),
            }
        )


def parse_texts(texts: list[str | None], timezone: str) -> ParsedInstants:
    """ISO 8601 texts -> UTC ns; values that are not strictly ISO 8601 are invalid."""
    safe, bad = strict_iso(pa.array(texts, type=pa.string()))
    parsed = parse_instants(safe, timezone)
    if not bad.any():
        return parsed
    ns = parsed.ns.copy()
    ns[bad] = NAT
    return ParsedInstants(
        ns,
        parsed.invalid | bad,
        parsed.empty & ~bad,
        parsed.ambiguous & ~bad,
        parsed.nonexistent & ~bad,
    )


def instant_problems(
    parsed: ParsedInstants,
    texts: list[str | None],
    items: list[str],
    files: list[str],
    tlines: list[int],
    ctx: ReadContext,
    name: str,
    outcome: str,
) -> list[Problem]:
    """W202 (missing / not ISO 8601) and W208/W209 (naive times at DST changes), located per file."""
    f = np.array(files, dtype=object)
    lines = np.array(tlines, dtype=np.int64)
    out = located_mask(
        "W202",
        f,
        lines,
        parsed.invalid,
        lambda i: f"{items[i]}: {name} '{texts[i]}' is not an ISO 8601 instant; {outcome}",
        "the API writes ISO 8601 instants with an offset; check the export",
    )
    out += located_mask(
        "W202",
        f,
        lines,
        parsed.empty,
        lambda i: f"{items[i]}: {name} is missing; {outcome}",
        "export the records with their timestamps",
    )
    out += located_mask(
        "W208",
        f,
        lines,
        parsed.ambiguous,
        lambda i: (
            f"{items[i]}: {name} '{texts[i]}' occurs twice in {ctx.timezone}; the earlier instant was taken"
        ),
        "timestamps with an offset are exact",
    )
    out += located_mask(
        "W209",
        f,
        lines,
        parsed.nonexistent,
        lambda i: (
            f"{items[i]}: {name} '{texts[i]}' does not exist in {ctx.timezone}; moved forward by the gap"
        ),
        "timestamps with an offset are exact",
    )
    return out


def located_mask(
    code: str,
    files: np.ndarray,
    lines: np.ndarray,
    mask: np.ndarray,
    message: Callable[[int], str],
    hint: str,
) -> list[Problem]:
    """row_problems for rows from several files: capped and folded per file."""
    out: list[Problem] = []
    if not mask.any():
        return out
    for file in dict.fromkeys(files[mask]):
        out += row_problems(code, str(file), mask & (files == file), lines, message, hint)
    return out


def located(entries: list[tuple[str, int, str]], code: str, hint: str) -> list[Problem]:
    """Warnings given as (file, line, message), capped and folded per file."""
    if not entries:
        return []
    files = np.array([e[0] for e in entries], dtype=object)
    lines = np.array([e[1] for e in entries], dtype=np.int64)
    return located_mask(
        code, files, lines, np.ones(len(entries), dtype=bool), lambda i: entries[i][2], hint
    )


def record_lines(
    files: list[str], index: list[int], tline: list[int], lines_mode: dict[str, bool]
) -> np.ndarray:
    """The `line` column: the record's text line in JSON Lines files, else its 1-based position."""
    pos = np.asarray(index, dtype=np.int64)
    lines_files = {f for f, on in lines_mode.items() if on}
    if not lines_files or not files:
        return pos
    in_lines = np.fromiter((f in lines_files for f in files), dtype=bool, count=len(files))
    return np.where(in_lines, np.asarray(tline, dtype=np.int64), pos)
