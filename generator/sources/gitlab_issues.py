"""`gitlab-issues`: GitLab REST issues plus resource state and label events -> events and items.

`path` holds the issues (`GET /projects/:id/issues`), `state_events` the
`resource_state_events` and `label_events` the `resource_label_events` (each a
file or a folder, one file per issue or many). Events find their issue by
`resource_id` (the issue's global `id`, not its `iid`).

GitLab does not record the initial state: each issue starts in `open_state`
at `created_at`. Scoped labels of `scope` (`workflow::in dev`) are states;
changing one emits a `remove` and an `add` at the same instant, which are
applied removals first and give one row with the new state. `closed` state
events move the issue to `closed_state`, `reopened` back to its scoped label
or `open_state`. A closed issue without a `closed` state event is closed at
its `closed_at`. Label events whose label was deleted (`label: null`) are
skipped with a W222 warning.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar, Literal

from generator.errors import Problem
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.github_issues import (
    OTHER,
    REMOVE,
    Changes,
    add_opened,
    record_number,
    replay,
    unknown_items,
)
from generator.sources.json_records import JsonSource
from generator.sources.json_rows import ItemRows, located, name_of, person, sortable, text


class Options(SourceOptions):
    kind: Literal["gitlab-issues"]
    state_events: str | None = None  # resource_state_events JSON: a file or a folder
    label_events: str | None = None  # resource_label_events JSON: a file or a folder
    scope: str = "workflow"  # scoped labels <scope>::<state> are states
    open_state: str = "Open"
    closed_state: str = "Closed"
    blocked_label: str | None = "blocked"
    id_prefix: str = "#"  # item ids are <id_prefix><iid>
    path_fields: ClassVar[tuple[str, ...]] = ("path", "state_events", "label_events")


def scoped_state(name: str, scope: str) -> str | None:
    """`workflow::in dev` -> `in dev` when the scope matches (the scope is all before the last `::`)."""
    if "::" not in name:
        return None
    head, _, value = name.rpartition("::")
    return value.strip() or None if head.strip().casefold() == scope.strip().casefold() else None


def read(options: Options, ctx: ReadContext) -> SourceData:
    data = SourceData(notes={"has_actor": True})
    issues = JsonSource(ctx.stream_dir / options.path, ctx, data)
    items, changes = ItemRows(), Changes()
    by_id: dict[int, str] = {}
    closed: dict[str, tuple[Any, Any, Any, str, int, int]] = {}
    skipped: Counter[str] = Counter()
    odd: list[tuple[str, int, str]] = []
    repeats: list[tuple[str, int, str]] = []
    for file, rec in issues:
        issue = rec.value
        iid = record_number(issue.get("iid")) if isinstance(issue, dict) else None
        if iid is None:
            odd.append(
                (file, rec.line, f"record {rec.index} is not a GitLab issue (no 'iid'); skipped")
            )
            skipped["records that are not issues"] += 1
            continue
        item = f"{options.id_prefix}{iid}"
        if item in closed:
            repeats.append((file, rec.line, f"issue {item} appears again; the first copy is used"))
            continue
        gid = record_number(issue.get("id"))
        if gid is not None:
            by_id[gid] = item
        kind = text(issue.get("issue_type")) or text(issue.get("type"))
        author = person(issue.get("author"), ("username",))
        add_opened(items, changes, item, kind, issue, issue.get("web_url"), author, file, rec)
        closed[item] = (
            issue.get("state"),
            issue.get("closed_at"),
            person(issue.get("closed_by"), ("username",)),
            file,
            rec.index,
            rec.line,
        )
    lines_mode = dict(issues.lines_mode)
    for path, reader in (
        (options.state_events, _state_event),
        (options.label_events, _label_event),
    ):
        if path:
            source = JsonSource(ctx.stream_dir / path, ctx, data)
            data.problems += _read_events(
                source, reader, options, by_id, changes, skipped, odd, repeats
            )
            lines_mode.update(source.lines_mode)
            skipped["malformed JSON records"] += source.bad_records
    has_close = {changes.item[i] for i, k in enumerate(changes.kind) if k == "close"}
    for item, (state, closed_at, actor, file, index, tline) in closed.items():
        if state == "closed" and item not in has_close:
            changes.add(
                item, closed_at, "close", options.closed_state, actor, file, index, tline, seq=1
            )
            skipped["closed issues without a 'closed' state event (closed at closed_at)"] += 1
    skipped["malformed JSON records"] += issues.bad_records
    skipped["repeated records"] = len(repeats)
    data.problems += located(
        odd,
        "W222",
        "point `path` at issues, `state_events` at resource_state_events and `label_events` at resource_label_events",
    )
    data.problems += located(
        repeats, "W225", "overlapping exports are fine: repeated records count once"
    )
    data.events, problems, bad = replay(changes, ctx, options.open_state, lines_mode)
    data.problems += problems
    skipped["changes without a valid instant"] = bad
    created_ns, problems, created_ok = items.parse(ctx)
    data.problems += problems
    data.items = items.frame(created_ns, created_ok, lines_mode)
    data.skipped.update(skipped)
    return data


def _state_event(event: dict[str, Any], options: Options) -> tuple[str, Any, str, int] | str:
    """(kind, value, group, rank) of a resource state event, or why it is skipped."""
    state = event.get("state")
    if state == "closed":
        return ("close", options.closed_state, "", OTHER)
    if state in ("reopened", "opened"):
        return ("reopen", None, "", OTHER)
    return "state events that are not closed/reopened"


def _label_event(event: dict[str, Any], options: Options) -> tuple[str, Any, str, int] | str:
    """(kind, value, group, rank) of a resource label event, or why it is skipped."""
    action = event.get("action")
    name = name_of(event.get("label"))
    if action not in ("add", "remove"):
        return "label events without add/remove"
    if options.blocked_label and name and name.casefold() == options.blocked_label.casefold():
        return ("block", 1 if action == "add" else 0, "", OTHER)
    state = scoped_state(name, options.scope) if name else None
    if state is None:
        return "label events that are not statuses"
    return ("add", state, "label", OTHER) if action == "add" else ("remove", state, "label", REMOVE)


def _read_events(
    source: JsonSource,
    reader: Any,
    options: Options,
    by_id: dict[int, str],
    changes: Changes,
    skipped: Counter[str],
    odd: list[tuple[str, int, str]],
    repeats: list[tuple[str, int, str]],
) -> list[Problem]:
    seen: set[Any] = set()
    unknown: list[tuple[str, int, str]] = []
    deleted: list[tuple[str, int, str]] = []
    for file, rec in source:
        event = rec.value
        if not isinstance(event, dict) or "resource_id" not in event:
            odd.append(
                (
                    file,
                    rec.line,
                    f"record {rec.index} is not a resource event (no 'resource_id'); skipped",
                )
            )
            skipped["records that are not events"] += 1
            continue
        if event.get("resource_type", "Issue") != "Issue":
            skipped[f"events of {event.get('resource_type')} resources"] += 1
            continue
        item = by_id.get(record_number(event.get("resource_id")) or -1)
        if item is None:
            unknown.append(
                (
                    file,
                    rec.line,
                    f"event {event.get('id')} names resource_id {event.get('resource_id')}",
                )
            )
            skipped["events of issues not in the issues file"] += 1
            continue
        if reader is _label_event and event.get("label") is None:
            deleted.append(
                (
                    file,
                    rec.line,
                    f"label event {event.get('id')} of {item} has no label (the label was deleted); skipped",
                )
            )
            skipped["label events of deleted labels"] += 1
            continue
        eid = event.get("id")
        key = (
            (reader.__name__, eid)
            if isinstance(eid, (int, str))
            else (
                item,
                str(event.get("created_at")),
                str(event.get("label")),
                str(event.get("action")),
                str(event.get("state")),
            )
        )
        if key in seen:
            repeats.append(
                (file, rec.line, f"event {event.get('id')} of {item} appears again; counted once")
            )
            continue
        seen.add(key)
        meaning = reader(event, options)
        if isinstance(meaning, str):
            skipped[meaning] += 1
            continue
        kind, value, group, rank = meaning
        seq = sortable(event.get("id"), rec.index)
        changes.add(
            item,
            event.get("created_at"),
            kind,
            value,
            person(event.get("user"), ("username",)),
            file,
            rec.index,
            rec.line,
            group=group,
            rank=rank,
            seq=seq,
        )
    return located(
        deleted, "W222", "nothing to fix: GitLab keeps the event but not the deleted label"
    ) + unknown_items(unknown, "export the issues and their events from the same project")
