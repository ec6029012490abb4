"""`github-issues`: GitHub REST issues plus their issue events or timeline -> events and items.

`path` holds the issues (`GET /repos/{o}/{r}/issues?state=all`: an array, a
folder of pages, single issues, or a search response). `events` holds issue
events or timeline events (`/issues/{n}/events`, `/issues/{n}/timeline`, or
the repo-wide `/issues/events`, whose events carry their `issue`). An event
without an `issue` object belongs to the issue whose number is in its file
name (`6050.json`, `issue_6050_events.json`).

Each issue starts in `open_state` at `created_at`. `closed` moves it to
`closed_state` (`not_planned_state` when closed as not planned or duplicate),
`reopened` back to its open state: the latest status label or project column
still on it, else `open_state`. Labels become states through `label_states`
or `label_prefix`; the `blocked_label` sets and clears blocked. A closed issue
without a `closed` event is closed at its `closed_at`. Pull requests are left
out unless `include_pull_requests` is set.

The replay below (changes sorted per item, applied one by one, one row per
instant) is shared with gitlab-issues.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from generator.errors import Location, Problem
from generator.load.timestamps import NAT
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.json_records import JsonRecord, JsonSource
from generator.sources.json_rows import (
    EventRows,
    ItemRows,
    instant_problems,
    located,
    name_of,
    parse_texts,
    person,
    sortable,
    text,
    title,
)

# ranks order the changes of one item at one instant: creation first, label removals before additions
OPEN, REMOVE, OTHER = 0, 1, 2
_GRAPHQL = {
    "ClosedEvent": "closed",
    "ReopenedEvent": "reopened",
    "LabeledEvent": "labeled",
    "UnlabeledEvent": "unlabeled",
    "ProjectV2ItemStatusChangedEvent": "project_v2_item_status_changed",
    "MovedColumnsInProjectEvent": "moved_columns_in_project",
}
_PROJECT_CARD_EVENTS = ("moved_columns_in_project", "added_to_project", "converted_note_to_issue")


class Options(SourceOptions):
    kind: Literal["github-issues"]
    events: str | None = None  # issue events / timeline JSON: a file or a folder
    label_prefix: str = "status: "  # labels starting with this are states (the rest of the name)
    label_states: dict[str, str] = Field(
        default_factory=dict
    )  # label -> state, checked before label_prefix (case-insensitive)
    open_state: str = "Open"
    closed_state: str = "Closed"
    not_planned_state: str = "Won't Do"
    blocked_label: str | None = "blocked"
    include_pull_requests: bool = False
    id_prefix: str = "#"  # item ids are <id_prefix><number>
    path_fields: ClassVar[tuple[str, ...]] = ("path", "events")


@dataclass
class Changes:
    """What happened to items, before instants are parsed and changes replayed (one list per column)."""

    item: list[str] = field(default_factory=list)
    ts: list[str | None] = field(default_factory=list)
    kind: list[str] = field(
        default_factory=list
    )  # open | close | reopen | add | remove | set | block
    value: list[Any] = field(default_factory=list)  # state name, closed state, or blocked 0/1
    group: list[str] = field(default_factory=list)  # what a status comes from: label, project, ...
    actor: list[str | None] = field(default_factory=list)
    file: list[str] = field(default_factory=list)
    index: list[int] = field(default_factory=list)
    tline: list[int] = field(default_factory=list)
    rank: list[int] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)

    def add(
        self,
        item: str,
        ts: Any,
        kind: str,
        value: Any,
        actor: str | None,
        file: str,
        index: int,
        tline: int,
        *,
        group: str = "",
        rank: int = OTHER,
        seq: int = 0,
    ) -> None:
        self.item.append(item)
        self.ts.append(ts if isinstance(ts, str) else None)
        self.kind.append(kind)
        self.value.append(value)
        self.group.append(group)
        self.actor.append(actor)
        self.file.append(file)
        self.index.append(index)
        self.tline.append(tline)
        self.rank.append(rank)
        self.seq.append(seq)


class Timeline:
    """One item's state while its changes are applied: closed or open, the status stack, blocked."""

    def __init__(self, open_state: str) -> None:
        self.open_state = open_state
        self.closed: str | None = None
        self.stack: list[tuple[str, str]] = []  # (group, state), latest last
        self.blocked = 0

    def apply(self, kind: str, value: Any, group: str) -> None:
        if kind == "close":
            self.closed = value
        elif kind == "reopen":
            self.closed = None
        elif kind == "add":
            self.stack = [e for e in self.stack if e != (group, value)] + [(group, value)]
        elif kind == "remove":
            self.stack = [e for e in self.stack if e != (group, value)]
        elif kind == "set":
            self.stack = [e for e in self.stack if e[0] != group] + (
                [(group, value)] if value else []
            )
        elif kind == "block":
            self.blocked = value

    @property
    def state(self) -> str:
        if self.closed is not None:
            return self.closed
        return self.stack[-1][1] if self.stack else self.open_state


def replay(
    changes: Changes, ctx: ReadContext, open_state: str, lines_mode: dict[str, bool]
) -> tuple[pd.DataFrame, list[Problem], int]:
    """Apply each item's changes in order (instant, rank, seq); one event row per item and instant.

    The row carries the state and blocked flag after every change at that
    instant, so changes that cancel out at one instant (a scoped label removed
    and another added) leave no trace. Returns the events, W202 problems and
    the number of changes skipped for a missing or invalid instant.
    """
    parsed = parse_texts(changes.ts, ctx.timezone)
    problems = instant_problems(
        parsed,
        changes.ts,
        changes.item,
        changes.file,
        changes.tline,
        ctx,
        "event time",
        "change skipped",
    )
    ok = parsed.ns != NAT
    idx = np.flatnonzero(ok)
    code = (
        pd.Index(sorted(set(changes.item))).get_indexer(pd.Index(changes.item))
        if changes.item
        else np.zeros(0, np.int64)
    )
    idx = idx[
        np.lexsort(
            (
                np.asarray(changes.seq, np.int64)[idx],
                np.asarray(changes.rank, np.int64)[idx],
                parsed.ns[idx],
                code[idx],
            )
        )
    ]
    out = EventRows()
    ns: list[int] = []
    timeline = Timeline(open_state)
    blocks = False  # a blocked change at this instant (else the row leaves blocked unchanged: -1)
    for pos, i in enumerate(idx):
        if pos == 0 or code[idx[pos - 1]] != code[i]:
            timeline = Timeline(open_state)
        timeline.apply(changes.kind[i], changes.value[i], changes.group[i])
        blocks = blocks or changes.kind[i] == "block"
        last = (
            pos == len(idx) - 1
            or code[idx[pos + 1]] != code[i]
            or parsed.ns[idx[pos + 1]] != parsed.ns[i]
        )
        if last:
            out.add(
                changes.item[i],
                None,
                timeline.state,
                timeline.blocked if blocks else -1,
                changes.actor[i],
                changes.file[i],
                changes.index[i],
                changes.tline[i],
            )
            ns.append(int(parsed.ns[i]))
            blocks = False
    frame = out.frame(
        np.asarray(ns, dtype=np.int64), np.ones(len(ns), dtype=bool), lines_mode
    ).drop(columns="_order")
    return frame, problems, int((~ok).sum())


def number_in_name(file: str) -> int | None:
    """The issue number in a per-issue file's name (`6050.json`, `issue_6050_events.json`)."""
    found = re.findall(r"\d+", Path(file).stem)
    return int(found[0]) if len(found) == 1 else None


def record_number(value: Any) -> int | None:
    """An issue number or id as exported: an int, or a string of digits (never a bool)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def add_opened(
    items: ItemRows,
    changes: Changes,
    item: str,
    kind: str | None,
    issue: dict[str, Any],
    url: Any,
    author: str | None,
    file: str,
    rec: JsonRecord,
) -> None:
    """An issue's item row and its opening at created_at (GitHub and GitLab issues alike)."""
    created = issue.get("created_at")
    items.add(item, kind, title(issue.get("title")), created, text(url), file, rec.index, rec.line)
    changes.add(item, created, "open", None, author, file, rec.index, rec.line, rank=OPEN)


def _v2_status(event: dict[str, Any]) -> str | None:
    """The new status of a Projects (v2) status event: `status`, or a webhook-style `changes.field_value.to`."""
    found = name_of(event.get("status"))
    if found:
        return found
    changes = event.get("changes")
    to = (
        changes.get("field_value", {}).get("to")
        if isinstance(changes, dict) and isinstance(changes.get("field_value"), dict)
        else None
    )
    return name_of(to)


def read(options: Options, ctx: ReadContext) -> SourceData:
    data = SourceData(notes={"has_actor": True})
    issues = JsonSource(ctx.stream_dir / options.path, ctx, data, array_keys=("items",))
    items, changes = ItemRows(), Changes()
    closed: dict[
        str, tuple[Any, Any, Any, str, int, int]
    ] = {}  # item -> (state, closed_at, state_reason, file, index, tline)
    pulls: set[int] = set()
    skipped: Counter[str] = Counter()
    odd: list[tuple[str, int, str]] = []
    repeats: list[tuple[str, int, str]] = []
    first_at: dict[str, tuple[str, int]] = {}
    for file, rec in issues:
        issue = rec.value
        number = record_number(issue.get("number")) if isinstance(issue, dict) else None
        if number is None:
            odd.append(
                (file, rec.line, f"record {rec.index} is not a GitHub issue (no 'number'); skipped")
            )
            skipped["records that are not issues"] += 1
            continue
        is_pull = bool(issue.get("pull_request"))
        if is_pull and not options.include_pull_requests:
            pulls.add(number)
            skipped["pull requests (include_pull_requests is off)"] += 1
            continue
        item = f"{options.id_prefix}{number}"
        if item in first_at:
            repeats.append(
                (
                    file,
                    rec.line,
                    f"issue {item} appears again (first at {first_at[item][0]}:{first_at[item][1]}); the first copy is used",
                )
            )
            continue
        first_at[item] = (file, rec.line)
        kind = name_of(issue.get("type")) or ("Pull request" if is_pull else None)
        author = person(issue.get("user"), ("login",))
        add_opened(items, changes, item, kind, issue, issue.get("html_url"), author, file, rec)
        closed[item] = (
            issue.get("state"),
            issue.get("closed_at"),
            issue.get("state_reason"),
            file,
            rec.index,
            rec.line,
        )
    lines_mode = dict(issues.lines_mode)
    if options.events:
        events = JsonSource(ctx.stream_dir / options.events, ctx, data)
        data.problems += _read_events(events, options, items, changes, pulls, skipped, odd, repeats)
        lines_mode.update(events.lines_mode)
        skipped["malformed JSON records"] += events.bad_records
    has_close = {changes.item[i] for i, k in enumerate(changes.kind) if k == "close"}
    for item, (state, closed_at, reason, file, index, tline) in closed.items():
        if state == "closed" and item not in has_close:
            changes.add(
                item,
                closed_at,
                "close",
                _closed_state(options, reason),
                None,
                file,
                index,
                tline,
                seq=1,
            )
            skipped["closed issues without a 'closed' event (closed at closed_at)"] += 1
    skipped["malformed JSON records"] += issues.bad_records
    data.problems += located(
        odd, "W222", "point `path` at issues and `events` at issue events or timeline events"
    )
    data.problems += located(
        repeats, "W225", "overlapping exports are fine: repeated records count once"
    )
    skipped["repeated records"] = len(repeats)
    data.events, problems, bad = replay(changes, ctx, options.open_state, lines_mode)
    data.problems += problems
    skipped["changes without a valid instant"] = bad
    created_ns, problems, created_ok = items.parse(ctx)
    data.problems += problems
    data.items = items.frame(created_ns, created_ok, lines_mode)
    data.skipped.update(skipped)
    return data


def _closed_state(options: Options, reason: Any) -> str:
    return (
        options.not_planned_state
        if reason in ("not_planned", "duplicate", "NOT_PLANNED", "DUPLICATE")
        else options.closed_state
    )


def _label_change(options: Options, name: str) -> tuple[str, Any, str] | None:
    """A label's meaning: ('block', 0/1) for the blocked label, ('status', state) for a status label, else None."""
    folded = name.casefold()
    if options.blocked_label and folded == options.blocked_label.casefold():
        return ("block", 1, "")
    mapped = {k.casefold(): v for k, v in options.label_states.items()}
    if folded in mapped:
        return ("status", mapped[folded], "")
    if (
        options.label_prefix
        and folded.startswith(options.label_prefix.casefold())
        and name[len(options.label_prefix) :].strip()
    ):
        return ("status", name[len(options.label_prefix) :].strip(), "")
    return None


def _read_events(
    events: JsonSource,
    options: Options,
    items: ItemRows,
    changes: Changes,
    pulls: set[int],
    skipped: Counter[str],
    odd: list[tuple[str, int, str]],
    repeats: list[tuple[str, int, str]],
) -> list[Problem]:
    known = set(items.item)
    seen: set[Any] = set()
    unknown: list[tuple[str, int, str]] = []
    no_number: list[tuple[str, int, str]] = []
    for file, rec in events:
        event = rec.value
        kind = (
            (event.get("event") or _GRAPHQL.get(str(event.get("__typename"))))
            if isinstance(event, dict)
            else None
        )
        if not isinstance(kind, str):
            odd.append(
                (file, rec.line, f"record {rec.index} is not an issue event (no 'event'); skipped")
            )
            skipped["records that are not events"] += 1
            continue
        issue = event.get("issue") if isinstance(event.get("issue"), dict) else None
        number = record_number(issue.get("number")) if issue else number_in_name(file)
        if number is None:
            no_number.append(
                (
                    file,
                    rec.line,
                    f"event {rec.index} ({kind}) names no issue: no 'issue' object and no single number in the file name; skipped",
                )
            )
            skipped["events without an issue number"] += 1
            continue
        if number in pulls or (
            issue and issue.get("pull_request") and not options.include_pull_requests
        ):
            skipped["events of pull requests"] += 1
            continue
        item = f"{options.id_prefix}{number}"
        if item not in known:
            unknown.append(
                (
                    file,
                    rec.line,
                    f"event {rec.index} ({kind}) belongs to {item}, which is not in the issues file; skipped",
                )
            )
            skipped["events of issues not in the issues file"] += 1
            continue
        label = name_of(event.get("label"))
        eid = event.get("id") or event.get("node_id")
        key = (
            eid
            if isinstance(eid, (int, str))
            else (item, kind, str(event.get("created_at")), label)
        )
        if key in seen:
            repeats.append((file, rec.line, f"event {key} of {item} appears again; counted once"))
            continue
        seen.add(key)
        ts = event.get("created_at") or event.get("createdAt")
        actor = person(event.get("actor"), ("login",))
        seq = sortable(event.get("id"), rec.index)
        at = (file, rec.index, rec.line)
        if kind == "closed":
            changes.add(
                item,
                ts,
                "close",
                _closed_state(options, event.get("state_reason") or event.get("stateReason")),
                actor,
                *at,
                seq=seq,
            )
        elif kind == "reopened":
            changes.add(item, ts, "reopen", None, actor, *at, seq=seq)
        elif kind in ("labeled", "unlabeled") and label:
            meaning = _label_change(options, label)
            if meaning is None:
                skipped["label events that are not statuses"] += 1
            elif meaning[0] == "block":
                changes.add(item, ts, "block", 1 if kind == "labeled" else 0, actor, *at, seq=seq)
            else:
                changes.add(
                    item,
                    ts,
                    "add" if kind == "labeled" else "remove",
                    meaning[1],
                    actor,
                    *at,
                    group="label",
                    rank=OTHER if kind == "labeled" else REMOVE,
                    seq=seq,
                )
        elif kind in _PROJECT_CARD_EVENTS or kind == "removed_from_project":
            card = event.get("project_card") if isinstance(event.get("project_card"), dict) else {}
            column = text(card.get("column_name")) if kind != "removed_from_project" else None
            if column is None and kind != "removed_from_project":
                skipped["project events without a column"] += 1
                continue
            changes.add(item, ts, "set", column, actor, *at, group="project", seq=seq)
        elif kind == "project_v2_item_status_changed":
            status = _v2_status(event)
            if status is None:
                skipped["project status events without a status"] += 1
                continue
            changes.add(item, ts, "set", status, actor, *at, group="project-v2", seq=seq)
        else:
            skipped["events that do not change state"] += 1
    return located(
        no_number,
        "W203",
        "name per-issue event files after the issue (6050.json) or export repo-wide events, which carry their issue",
    ) + unknown_items(
        unknown, "export the issues and their events from the same repository and period"
    )


def unknown_items(unknown: list[tuple[str, int, str]], hint: str) -> list[Problem]:
    """One folded W222 for events of items the issues file does not list."""
    if not unknown:
        return []
    file, line, first = unknown[0]
    return [
        Problem(
            "W222",
            "warning",
            Location(file, line),
            f"{len(unknown)} event(s) belong to issues not in the issues file and are skipped (first: {first})",
            hint,
            count=len(unknown),
        )
    ]
