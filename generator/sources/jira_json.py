"""`jira-json`: Jira REST issues with their changelog (`expand=changelog`) -> events and items.

One file or a folder of them; each holds a JSON array of issues, a search
response (`{"issues": [...]}`), one issue, or JSON Lines. Files are streamed:
a 1 GB export needs memory for one chunk and one issue at a time plus the
rows kept. The streaming reader (json_records.py) and the row helpers
(json_rows.py) are shared with the other JSON kinds (github-issues,
gitlab-issues, azure-devops-updates).

Each issue gives: its initial state (the first status change's `fromString`,
or the current status when it never moved) at `fields.created`; one event per
`status` item at its history's `created`; `Flagged` items (matched by field
name) set blocked (any value) or clear it (empty). Histories may come newest
first; they are ordered by instant, then history id.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from generator.errors import Location, Problem
from generator.sources.base import ReadContext, SourceData, SourceOptions, check_base_url
from generator.sources.json_records import JsonRecord, JsonSource
from generator.sources.json_rows import (
    EventRows,
    ItemRows,
    located,
    name_of,
    person,
    sortable,
    text,
    title,
)

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
            entries = history.get("items")
            if not isinstance(entries, list):  # `"items": true` and the like (found by make fuzz)
                if entries is not None:
                    skipped["changelog histories whose items are not a list"] += 1
                continue
            for entry in entries:
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
