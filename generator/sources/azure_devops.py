"""`azure-devops-updates`: Azure Boards work item updates -> events and items.

`path` is a file or a folder of `GET …/wit/workItems/{id}/updates` responses
(`{"count": n, "value": [...]}` or a plain array; one file per work item or
many). Revisions (`…/revisions`, full field snapshots) are read too.

The instant of an update is `fields["System.ChangedDate"].newValue`, never
`revisedDate`, which is when the revision was superseded (the newest carries
the sentinel 9999-01-01). The state comes from `System.State` (or
`System.BoardColumn` with `state_field: board_column`); blocked from
`Microsoft.VSTS.CMMI.Blocked` (Yes/No) or a `Blocked` tag in `System.Tags`,
either one blocking. Type, title and created come from `System.WorkItemType`,
`System.Title` (the latest) and `System.CreatedDate`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from generator.load.timestamps import NAT
from generator.sources.base import ReadContext, SourceData, SourceOptions, check_base_url
from generator.sources.json_records import JsonSource
from generator.sources.json_rows import (
    EventRows,
    ItemRows,
    instant_problems,
    located,
    parse_texts,
    person,
    sortable,
    text,
    title,
)

STATE_FIELDS = {"state": "System.State", "board_column": "System.BoardColumn"}


class Options(SourceOptions):
    kind: Literal["azure-devops-updates"]
    state_field: Literal["state", "board_column"] = "state"
    blocked_field: str = "Microsoft.VSTS.CMMI.Blocked"  # Yes/No field that blocks
    blocked_tag: str | None = "Blocked"  # a tag in System.Tags that blocks (case-insensitive)
    base_url: str | None = (
        None  # https://dev.azure.com/{org}/{project} -> <base_url>/_workitems/edit/<id>
    )

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return check_base_url(value)


def _new(fields: dict[str, Any], name: str) -> tuple[bool, Any]:
    """(changed, new value) of a field in an update ({oldValue, newValue}) or a revision (plain value)."""
    if name not in fields:
        return False, None
    value = fields[name]
    if isinstance(value, dict) and ("newValue" in value or "oldValue" in value):
        return True, value.get("newValue")
    return True, value


def _tag_blocked(tags: Any, tag: str) -> int:
    return int(
        isinstance(tags, str) and tag.casefold() in {t.strip().casefold() for t in tags.split(";")}
    )


def read(options: Options, ctx: ReadContext) -> SourceData:
    data = SourceData(notes={"has_actor": True})
    source = JsonSource(ctx.stream_dir / options.path, ctx, data, array_keys=("value",))
    state_name = STATE_FIELDS[options.state_field]
    raw = EventRows()
    field_flag: list[int] = []  # per row: -1 unchanged, else the blocked field's value
    tag_flag: list[int] = []  # per row: -1 unchanged, else whether the tag is present
    attrs: dict[str, dict[str, Any]] = {}
    skipped: Counter[str] = Counter()
    odd: list[tuple[str, int, str]] = []
    repeats: list[tuple[str, int, str]] = []
    seen: set[tuple[str, Any]] = set()
    for file, rec in source:
        update = rec.value
        if not isinstance(update, dict) or not isinstance(update.get("fields", {}), dict):
            odd.append((file, rec.line, f"record {rec.index} is not a work item update; skipped"))
            skipped["records that are not updates"] += 1
            continue
        is_update = "workItemId" in update
        wid = update.get("workItemId") if is_update else update.get("id")
        if not isinstance(wid, (int, str)) or isinstance(wid, bool) or not str(wid).strip():
            odd.append(
                (
                    file,
                    rec.line,
                    f"record {rec.index} names no work item (no 'workItemId'); skipped",
                )
            )
            skipped["records that are not updates"] += 1
            continue
        item = str(wid).strip()
        rev = str(update.get("id") if is_update else update.get("rev"))
        if (item, rev) in seen:
            repeats.append(
                (file, rec.line, f"update {rev} of work item {item} appears again; counted once")
            )
            continue
        seen.add((item, rev))
        fields = update.get("fields") or {}
        info = attrs.setdefault(item, {"file": file, "index": rec.index, "tline": rec.line})
        order = sortable(update.get("rev"), rec.index)
        for name, key, latest in (
            ("System.WorkItemType", "type", True),
            ("System.Title", "title", True),
            ("System.CreatedDate", "created", False),
        ):
            changed, value = _new(fields, name)
            if (
                changed
                and value is not None
                and (key not in info or (order >= info[key][0]) == latest)
            ):
                info[key] = (order, value)
        has_state, state = _new(fields, state_name)
        has_field, blocked = _new(fields, options.blocked_field)
        has_tags, tags = _new(fields, "System.Tags")
        flag = (
            (1 if str(blocked).strip().casefold() in ("yes", "true", "1") else 0)
            if has_field
            else -1
        )
        tag = _tag_blocked(tags, options.blocked_tag) if has_tags and options.blocked_tag else -1
        if not (has_state and text(state)) and flag < 0 and tag < 0:
            skipped["updates that change neither state nor blocked"] += 1
            continue
        _, changed_at = _new(fields, "System.ChangedDate")
        actor = person(update.get("revisedBy"), ("id", "displayName"))
        raw.add(
            item,
            changed_at,
            text(state) if has_state else None,
            -1,
            actor,
            file,
            rec.index,
            rec.line,
            order,
        )
        field_flag.append(flag)
        tag_flag.append(tag)
    data.problems += located(
        odd, "W222", "export work item updates: GET …/_apis/wit/workItems/{id}/updates"
    )
    data.problems += located(
        repeats, "W225", "overlapping exports are fine: repeated updates count once"
    )
    skipped["repeated updates"] = len(repeats)
    skipped["malformed JSON records"] = source.bad_records
    parsed = parse_texts(raw.ts, ctx.timezone)
    data.problems += instant_problems(
        parsed,
        raw.ts,
        raw.item,
        raw.file,
        raw.tline,
        ctx,
        "System.ChangedDate",
        "update skipped (revisedDate is never used: it is when the revision was superseded)",
    )
    ok = parsed.ns != NAT
    skipped["updates without a valid System.ChangedDate"] = int((~ok).sum())
    raw.blocked = _combine_blocked(raw, parsed.ns, ok, field_flag, tag_flag)
    events = raw.frame(parsed.ns, ok, source.lines_mode)
    data.events = (
        events.sort_values(["item_id", "ts", "_order"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )
    data.items = _items(attrs, options, ctx, data, source.lines_mode)
    data.skipped.update(skipped)
    return data


def _combine_blocked(
    raw: EventRows, ns: np.ndarray, ok: np.ndarray, field_flag: list[int], tag_flag: list[int]
) -> list[int]:
    """Blocked after each update: the field or the tag blocks; -1 where neither changed."""
    out = [-1] * len(raw.item)
    idx = np.flatnonzero(ok)
    if not len(idx):
        return out
    code = pd.Index(sorted(set(raw.item))).get_indexer(pd.Index(raw.item))
    idx = idx[np.lexsort((np.asarray(raw.order)[idx], ns[idx], code[idx]))]
    by_field = by_tag = 0
    for pos, i in enumerate(idx):
        if pos == 0 or code[idx[pos - 1]] != code[i]:
            by_field = by_tag = 0
        if field_flag[i] < 0 and tag_flag[i] < 0:
            continue
        by_field = field_flag[i] if field_flag[i] >= 0 else by_field
        by_tag = tag_flag[i] if tag_flag[i] >= 0 else by_tag
        out[i] = int(bool(by_field or by_tag))
    return out


def _items(
    attrs: dict[str, dict[str, Any]],
    options: Options,
    ctx: ReadContext,
    data: SourceData,
    lines_mode: dict[str, bool],
) -> pd.DataFrame:
    items = ItemRows()
    for item, info in attrs.items():
        url = f"{options.base_url}/_workitems/edit/{item}" if options.base_url else None
        value = {k: info[k][1] if k in info else None for k in ("type", "title", "created")}
        items.add(
            item,
            text(value["type"]),
            title(value["title"]),
            value["created"],
            url,
            info["file"],
            info["index"],
            info["tline"],
        )
    parsed = parse_texts(items.created, ctx.timezone)
    # a work item whose first update was not exported has no System.CreatedDate: its first event stands in
    quiet = replace(parsed, empty=np.zeros(len(items.item), dtype=bool))
    data.problems += instant_problems(
        quiet,
        items.created,
        items.item,
        items.file,
        items.tline,
        ctx,
        "System.CreatedDate",
        "its first update stands in",
    )
    data.skipped["work items without System.CreatedDate (first update used)"] = int(
        parsed.empty.sum()
    )
    return items.frame(parsed.ns, parsed.ns != NAT, lines_mode)
