"""`jira-json`: Jira REST issues with their changelog (`expand=changelog`) -> events and items.

One file or a folder of them; each holds a JSON array of issues, a search
response (`{"issues": [...]}`), one issue, or JSON Lines. Files are streamed:
a 1 GB export needs memory for one chunk and one issue at a time plus the
rows kept. The streaming reader and the row helpers in the second half of this
module are shared by the other JSON kinds (github-issues, gitlab-issues,
azure-devops-updates).

Each issue gives: its initial state (the first status change's `fromString`,
or the current status when it never moved) at `fields.created`; one event per
`status` item at its history's `created`; `Flagged` items (matched by field
name) set blocked (any value) or clear it (empty). Histories may come newest
first; they are ordered by instant, then history id.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import field_validator

from generator.errors import Location, Problem
from generator.load.timestamps import NAT, ParsedInstants, parse_instants
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.rows import ROW_PROBLEM_CAP, row_problems

_STRICT_ISO = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}(?::\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?$"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
FIRST = -(2**62)  # order of a synthetic initial-state row: before anything at the same instant


class Options(SourceOptions):
    kind: Literal["jira-json"]
    base_url: str | None = (
        None  # e.g. https://example.atlassian.net -> item links <base_url>/browse/<key>
    )
    flagged_field: str = (
        "Flagged"  # changelog field that sets/clears blocked (matched case-insensitively)
    )

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return check_base_url(value)


def check_base_url(value: str | None) -> str | None:
    """Only http(s) base urls: anything else would become a link on every page."""
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/]+", value.strip(), re.I):
        raise ValueError("base_url must start with http:// or https:// and name a host")
    return value.strip().rstrip("/")


# ---------------------------------------------------------------- jira-json


@dataclass
class _Issues:
    """What the Jira reader keeps per issue besides the item row."""

    status: list[str | None] = field(default_factory=list)  # current status name
    creator: list[str | None] = field(default_factory=list)
    row: dict[str, int] = field(default_factory=dict)  # key -> item row
    histories: dict[str, set[str]] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)
    categories: dict[str, set[str]] = field(default_factory=dict)


def read(options: Options, ctx: ReadContext) -> SourceData:
    data = SourceData()
    source = JsonSource(ctx.stream_dir / options.path, ctx, data, array_keys=("issues",))
    rows, items, issues = EventRows(), ItemRows(), _Issues()
    from_state: list[str | None] = []  # per event row: the status it left (None for Flagged rows)
    skipped: Counter[str] = Counter()
    odd: list[tuple[str, int, str]] = []
    no_key: list[tuple[str, int, str]] = []
    repeats: list[tuple[str, int, str]] = []
    no_changelog: list[int] = []
    flagged = options.flagged_field.casefold()
    for file, rec in source:
        issue = rec.value
        if not isinstance(issue, dict) or not isinstance(issue.get("fields"), dict):
            odd.append(
                (
                    file,
                    rec.line,
                    f"record {rec.index} is not a Jira issue (no 'fields' object); skipped",
                )
            )
            skipped["records that are not issues"] += 1
            continue
        key = text(issue.get("key"))
        if key is None:
            no_key.append((file, rec.line, f"record {rec.index} has no issue 'key'; skipped"))
            skipped["issues without a key"] += 1
            continue
        if key in issues.row:
            first = issues.row[key]
            repeats.append(
                (
                    file,
                    rec.line,
                    f"issue {key} appears again (first at {items.file[first]}:{items.tline[first]}); its histories are merged",
                )
            )
        else:
            _add_issue(key, issue["fields"], options, file, rec, items, issues)
        changelog = issue.get("changelog")
        if not isinstance(changelog, dict):
            no_changelog.append(issues.row[key])
            continue
        histories = changelog.get("histories")
        histories = histories if isinstance(histories, list) else []
        known = issues.histories.setdefault(key, set())
        total = changelog.get("total")
        if isinstance(total, int) and not changelog.get("startAt"):
            issues.totals[key] = max(issues.totals.get(key, 0), total)
        for pos, history in enumerate(histories):
            if not isinstance(history, dict):
                continue
            hid = str(history.get("id", f"{file}:{rec.index}:{pos}"))
            if hid in known:
                skipped["histories repeated across exports"] += 1
                continue
            known.add(hid)
            order = sortable(hid, -1)
            actor = person(history.get("author"))
            for entry in history.get("items") or ():
                if not isinstance(entry, dict):
                    continue
                name = str(entry.get("field") or entry.get("fieldId") or "").casefold()
                if name == "status" and entry.get("fieldtype") in ("jira", None):
                    if text(entry.get("toString")) is None:
                        skipped["status changes without a status name"] += 1
                        continue
                    rows.add(
                        key,
                        history.get("created"),
                        text(entry.get("toString")),
                        -1,
                        actor,
                        file,
                        rec.index,
                        rec.line,
                        order,
                    )
                    from_state.append(text(entry.get("fromString")))
                elif name == flagged:
                    rows.add(
                        key,
                        history.get("created"),
                        None,
                        1 if text(entry.get("toString")) else 0,
                        actor,
                        file,
                        rec.index,
                        rec.line,
                        order,
                    )
                    from_state.append(None)
    data.problems += located(
        odd, "W222", "export issues from the REST API (…/search?jql=…&expand=changelog)"
    )
    data.problems += located(no_key, "W203", "every issue needs its 'key'")
    data.problems += located(
        repeats, "W225", "overlapping exports are fine: repeated histories count once"
    )
    data.problems += _changelog_problems(items, issues, no_changelog)
    data.problems += _page_problems(source, len(issues.row))
    skipped["issues repeated across exports"] = len(repeats)
    ev_ns, problems, ev_ok = rows.parse(ctx, "event skipped", "history created")
    data.problems += problems
    created_ns, problems, created_ok = items.parse(ctx)
    data.problems += problems
    initial = _initial_states(rows, ev_ns, ev_ok, from_state, items, issues)
    has_initial = created_ok & np.array([bool(s) for s in initial], dtype=bool)
    start = EventRows()
    for i in np.flatnonzero(has_initial):
        start.add(
            items.item[i],
            None,
            initial[i],
            -1,
            issues.creator[i],
            items.file[i],
            items.index[i],
            items.tline[i],
            FIRST,
        )
    events = pd.concat(
        [
            start.frame(created_ns[has_initial], np.ones(len(start.item), bool), source.lines_mode),
            rows.frame(ev_ns, ev_ok, source.lines_mode),
        ],
        ignore_index=True,
    )
    data.events = (
        events.sort_values(["item_id", "ts", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    data.items = items.frame(created_ns, created_ok, source.lines_mode)
    skipped["events without a valid instant"] = int((~ev_ok).sum())
    skipped["issues without a valid created instant (no initial state)"] = int((~created_ok).sum())
    skipped["issues without any status"] = int((created_ok & ~has_initial).sum())
    skipped["malformed JSON records"] = source.bad_records
    data.skipped.update(skipped)
    data.notes["status_categories"] = {
        name: sorted(c) for name, c in sorted(issues.categories.items())
    }
    data.notes["has_actor"] = True
    return data


def _add_issue(
    key: str,
    fields: dict[str, Any],
    options: Options,
    file: str,
    rec: JsonRecord,
    items: ItemRows,
    issues: _Issues,
) -> None:
    issues.row[key] = len(items.item)
    raw = fields.get("status")
    status: dict[str, Any] = raw if isinstance(raw, dict) else {}
    category = status.get("statusCategory")
    name = text(status.get("name"))
    if name and isinstance(category, dict) and isinstance(category.get("key"), str):
        issues.categories.setdefault(name, set()).add(category["key"])
    url = f"{options.base_url}/browse/{key}" if options.base_url else None
    items.add(
        key,
        name_of(fields.get("issuetype")),
        title(fields.get("summary")),
        fields.get("created"),
        url,
        file,
        rec.index,
        rec.line,
    )
    issues.status.append(name)
    issues.creator.append(person(fields.get("creator")) or person(fields.get("reporter")))


def _changelog_problems(items: ItemRows, issues: _Issues, no_changelog: list[int]) -> list[Problem]:
    out: list[Problem] = []
    if no_changelog:
        i = no_changelog[0]
        out.append(
            Problem(
                "W221",
                "warning",
                Location(items.file[i], items.tline[i]),
                f"{len(set(no_changelog))} issue(s) have no changelog (first: {items.item[i]}); they stay in their current status from creation",
                "export with expand=changelog",
                count=len(set(no_changelog)),
            )
        )
    truncated = [
        (
            items.file[issues.row[k]],
            items.tline[issues.row[k]],
            f"issue {k}: the changelog holds {len(issues.histories.get(k, ()))} of {t} histories; its earliest changes are missing, so its first states are a guess",
        )
        for k, t in issues.totals.items()
        if t > len(issues.histories.get(k, ()))
    ]
    return out + located(
        truncated,
        "W221",
        "Jira embeds at most 100 histories (the new search: 40); page /rest/api/3/issue/KEY/changelog and put every history into changelog.histories",
    )


def _page_problems(source: JsonSource, read_issues: int) -> list[Problem]:
    """W221 when search responses say there are more issues than the files hold (one page exported)."""
    pages = [(file, w) for file, w in source.wrappers.items() if isinstance(w.get("total"), int)]
    if not pages:
        return []
    total = max(w["total"] for _, w in pages)
    if read_issues >= total:
        return []
    return [
        Problem(
            "W221",
            "warning",
            Location(pages[0][0], 1),
            f"the search response(s) report {total} issues, the files hold {read_issues}: pages are missing",
            "export every page (startAt=0, 50, 100, …) into the folder named by `path`",
        )
    ]


def _initial_states(
    rows: EventRows,
    ns: np.ndarray,
    ok: np.ndarray,
    from_state: list[str | None],
    items: ItemRows,
    issues: _Issues,
) -> np.ndarray:
    """Per item: the state it was created in (the earliest status change's fromString, else the current status)."""
    initial = np.empty(len(issues.status), dtype=object)
    initial[:] = issues.status
    is_status = ok & np.array([s is not None for s in rows.state], dtype=bool)
    if not is_status.any():
        return initial
    code = pd.Index(items.item).get_indexer(pd.Index(rows.item))
    idx = np.flatnonzero(is_status)
    idx = idx[np.lexsort((np.asarray(rows.order)[idx], ns[idx], code[idx]))]
    first = idx[np.concatenate(([True], code[idx][1:] != code[idx][:-1]))]
    for i in first:
        if from_state[i]:
            initial[code[i]] = from_state[i]
    return initial


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
