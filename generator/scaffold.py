"""`vsm new`: scaffold streams/<id>/ with a commented stream.yaml, notes.md, reports/ and example data.

Never overwrites: an existing folder is a located error and nothing is
written. Without `--from` the stream reads the canonical `events-csv` and
`items-csv` files, created with example rows so `vsm check` and `vsm build`
pass at once. With `--from KIND` its source is that kind, every option listed
(optional ones commented out, with their defaults and the comment their
Options model gives them); `--input PATH` copies an export into `data/`, and for
`jira-json` proposes stages from the statuses' categories.
"""

from __future__ import annotations

import inspect
import re
import shutil
from pathlib import Path
from typing import Any

import yaml

from generator.errors import Location, Problem
from generator.validate.schema import STREAM_ID_RE

DELIVERY = (
    "git-history",
    "deployments-csv",
    "incidents-csv",
    "github-deployments",
    "gitlab-deployments",
)
DEFAULT_PATHS = {
    "events-csv": "data/events.csv",
    "items-csv": "data/items.csv",
    "dates-csv": "data/dates.csv",
    "jira-json": "data/jira.json",
    "jira-csv": "data/jira.csv",
    "github-issues": "data/issues.json",
    "gitlab-issues": "data/issues.json",
    "azure-devops-updates": "data/updates.json",
    "git-history": "data/delivery",
    "deployments-csv": "data/deployments.csv",
    "incidents-csv": "data/incidents.csv",
    "github-deployments": "data/deployments.json",
    "gitlab-deployments": "data/deployments.json",
}
REQUIRED_EXAMPLES = {  # required options besides kind and path: a working example value
    (
        "dates-csv",
        "columns",
    ): f"{'columns:':<33} # date column -> state entered on that date, in milestone order\n"
    "      created: Open\n      started: In Progress\n      finished: Done",
}
CATEGORY_KIND = {"new": "wait", "indeterminate": "active", "done": "done"}

# example data: one item finished in each example period, so the first build has figures and no warnings
EVENTS_CSV = (
    "item_id,timestamp,state,blocked,actor\n"
    "EX-1,2025-11-03T09:00:00Z,Open,,alice\nEX-1,2025-11-04T09:00:00Z,In Progress,,alice\nEX-1,2025-11-06T15:00:00Z,Done,,alice\n"
    "EX-2,2026-01-05T09:00:00Z,Open,,bob\nEX-2,2026-01-06T10:00:00Z,In Progress,,bob\nEX-2,2026-01-08T12:00:00Z,Done,,bob\n"
)
ITEMS_CSV = (
    "item_id,type,title,created,url\n"
    "EX-1,Story,An example item: replace data/ with your export,2025-11-03T09:00:00Z,\n"
    "EX-2,Bug,A second example item,2026-01-05T09:00:00Z,\n"
)

HEAD = """\
# {name}: a value stream, from the request entering the backlog to delivered value.
# Every key is documented in docs/stream-yaml.md; `vsm check` validates this file,
# `vsm serve` shows the result as you edit it.

name: {name}
description: >-
  What flows through this stream, for whom, from where to where.
owner: My team
# group: Portfolio/Program            # streams with a group roll up into /groups/ pages
timezone: UTC                         # IANA zone the team works in: days, weeks and periods are cut here
# as_of: 2026-04-01T00:00:00Z         # compute the figures as of this instant (default: the latest event)

sources:                              # read in this order; paths are relative to this folder
"""

STAGES = """\

# Stages in flow order, each listing the tracker states that mean "in this stage".
# kind: wait (a queue), active (work happens), done or cancelled (finished; list them last).
stages:
  - id: backlog
    name: Backlog
    states: [Open]
    kind: wait
  - id: dev
    name: In progress
    states: [In Progress]
    kind: active
    # wip_limit: 5                    # drawn on the map beside the actual WIP
  - id: done
    name: Done
    states: [Done]
    kind: done

commitment: dev                       # cycle time starts when an item enters this stage
"""

TAIL = """
# blocked:
#   states: [Blocked]                 # blocked time, counted in the stage the item is in

item_types:                           # tracker type -> flow type (feature, defect, risk, debt, other)
  Story: feature
  Bug: defect

# exclude:
#   types: [Sub-task]                 # not items of their own

{periods}
# targets:
#   lead_time_p85_days: 30
#   flow_efficiency: 0.25

# events:                             # process changes, drawn on every trend chart
#   - date: 2026-02-01
#     label: WIP limits introduced
"""

PERIODS = """\
periods:                              # whole local days, both ends included: set them to your own
  baseline:                           # (default without periods: the two 90-day spans before as_of)
    start: 2025-10-01
    end: 2025-12-31
    label: Q4 2025
  current:
    start: 2026-01-01
    end: 2026-03-31
    label: Q1 2026
"""

NOTES = """\
## About this stream

What this stream delivers, for whom, and where its data comes from: which
tracker, which project or board, how the export is made. Shown on the
stream's pages; Markdown.
"""


def kinds() -> list[str]:
    """Every source kind, as stream.yaml's `kind:` spells it."""
    from generator.sources import KINDS

    return sorted(KINDS)


def new_stream(
    project: Path, stream_id: str, kind: str | None = None, input_file: Path | None = None
) -> tuple[list[str], list[Problem]]:
    """Create streams/<stream_id>/; the project-relative paths created, or the problems that stopped it (nothing written)."""
    rel = f"streams/{stream_id}"
    if not STREAM_ID_RE.match(stream_id):
        return [], [
            Problem(
                "E121",
                "error",
                Location(rel),
                f"'{stream_id}' is not a valid stream id",
                "use lowercase letters, digits and '-', starting with a letter (e.g. checkout, team-a)",
            )
        ]
    folder = project / "streams" / stream_id
    if folder.exists() or folder.is_symlink():
        return [], [
            Problem(
                "E123",
                "error",
                Location(rel),
                f"{rel} already exists; nothing was written",
                "pick another id, or move the existing folder away first",
            )
        ]
    if input_file is not None and not input_file.is_file():
        return [], [
            Problem(
                "E122",
                "error",
                Location(str(input_file)),
                "the --input file does not exist",
                "check the path of the export",
            )
        ]
    files = _files(stream_id, kind, input_file)
    (project / "streams").mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir()
    except FileExistsError:
        return [], [
            Problem(
                "E123",
                "error",
                Location(rel),
                f"{rel} already exists; nothing was written",
                "pick another id",
            )
        ]
    try:
        for name, content in files.items():
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                shutil.copyfile(content, target)
            else:
                with target.open("x", encoding="utf-8", newline="\n") as f:
                    f.write(content)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return [f"{rel}/{name}" for name in files], []


def _files(stream_id: str, kind: str | None, input_file: Path | None) -> dict[str, str | Path]:
    name = stream_id.replace("-", " ").capitalize()
    files: dict[str, str | Path] = {}
    sources = ""
    stages = STAGES
    canonical = kind in (None, "events-csv", "items-csv") and input_file is None
    if canonical or kind in DELIVERY:
        sources += _source(
            "events-csv",
            DEFAULT_PATHS["events-csv"],
            "one row per state change: item_id, timestamp, state[, blocked, actor]",
        )
        sources += _source(
            "items-csv",
            DEFAULT_PATHS["items-csv"],
            "one row per item: item_id, type, title, created, url",
        )
        files["data/events.csv"] = EVENTS_CSV
        files["data/items.csv"] = ITEMS_CSV
    if not canonical and kind is not None:
        path = DEFAULT_PATHS.get(kind, "data/export")
        if input_file is not None:
            path = f"data/{input_file.name}"
            files[path] = input_file
            if kind == "jira-json":
                stages = _jira_stages(input_file) or STAGES
        note = (
            "copied from " + input_file.name
            if input_file is not None
            else "put the export here (a file or a folder), then run `vsm check`"
        )
        sources += _source(kind, path, note)
    periods = (
        PERIODS
        if "data/events.csv" in files
        else "".join(f"# {line}\n" if line else "\n" for line in PERIODS.splitlines())
    )
    files["stream.yaml"] = HEAD.format(name=name) + sources + stages + TAIL.format(periods=periods)
    files["notes.md"] = NOTES
    files["reports/.gitkeep"] = ""
    return files


def _source(kind: str, path: str, note: str) -> str:
    """One `sources:` entry: kind and path, then every other option (optional ones commented, with defaults)."""
    lines = [f"  - kind: {kind}", _pad(f"    path: {path}", note)]
    options = _options(kind)
    for option, (required, default, comment) in options.items():
        if option in ("kind", "path"):
            continue
        if required:
            lines.append("    " + REQUIRED_EXAMPLES.get((kind, option), f"{option}: CHANGE-ME"))
            continue
        value = "" if default is None else " " + _yaml_value(default)
        lines.append(_pad(f"    # {option}:{value}", comment))
    return "\n".join(lines) + "\n"


def _pad(text: str, comment: str) -> str:
    return f"{text:<37} # {comment}" if comment else text


def _yaml_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1000).strip()
    return text[: -len("...")].strip() if text.endswith("...") else text


def _options(kind: str) -> dict[str, tuple[bool, Any, str]]:
    """option -> (required, default, the comment beside its field in the kind's Options class)."""
    from generator.sources import KINDS

    model = KINDS[kind].Options
    try:
        source = inspect.getsource(model)
    except (OSError, TypeError):
        source = ""
    comments = dict(re.findall(r"^\s+(\w+)\s*:.*?\s{2}#\s(.+?)\s*$", source, re.M))
    out: dict[str, tuple[bool, Any, str]] = {}
    for option, info in model.model_fields.items():
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        out[option] = (info.is_required(), default, comments.get(option, ""))
    return out


def _jira_stages(export: Path) -> str | None:
    """Stages proposed from a Jira export: one per status, ordered by category (to do, in progress, done)
    and then by where the status typically comes in an issue's history; None when nothing usable is found."""
    from generator.sources import jira_json
    from generator.sources.base import ReadContext

    options = jira_json.Options(kind="jira-json", path=export.name)
    data = jira_json.read(options, ReadContext(export.parent, export.parent, "UTC", 0))
    categories: dict[str, list[str]] = data.notes.get("status_categories", {})
    events = data.events
    if events is None or not len(events) or not categories:
        return None
    events = events[events["state"].notna() & (events["state"] != "")].sort_values(
        ["item_id", "ts"], kind="stable"
    )
    rank = events.assign(rank=events.groupby("item_id").cumcount()).groupby("state")["rank"].mean()
    order = {"new": 0, "indeterminate": 1, "done": 2}
    known = [
        (s, next((c for c in cats if c in order), "indeterminate"))
        for s, cats in categories.items()
    ]
    guessed = set()
    for state in sorted(
        set(rank.index.astype(str)) - set(categories)
    ):  # no issue is in it now: no category
        nearest = (
            min(
                known, key=lambda sc: (abs(float(rank.get(sc[0], 0.0)) - float(rank[state])), sc[0])
            )[1]
            if known
            else "new"
        )
        known.append((state, "indeterminate" if nearest == "done" else nearest))
        guessed.add(state)
    known.sort(key=lambda sc: (order[sc[1]], float(rank.get(sc[0], 0.0)), sc[0]))
    if not any(c == "done" for _, c in known):
        return None
    ids: set[str] = set()
    lines = [
        "",
        "# Proposed from the statuses' categories in "
        + export.name
        + " (to do -> wait, in progress -> active,",
        "# done -> done). Check the order, make queues (Ready for ..., Waiting ...) kind: wait, and",
        "# move statuses that end work without delivering it (Won't Do, Duplicate) into a kind: cancelled stage.",
        "stages:",
    ]
    made: list[tuple[str, str]] = []
    for state, category in known:
        base = re.sub(r"[^a-z0-9]+", "-", state.casefold()).strip("-") or "stage"
        base = base if re.match(r"^[a-z]", base) else f"s-{base}"
        stage_id, n = base, 2
        while stage_id in ids or stage_id == "unmapped":
            stage_id, n = f"{base}-{n}", n + 1
        ids.add(stage_id)
        kind = CATEGORY_KIND[category]
        made.append((stage_id, kind))
        lines += [
            f"  - id: {stage_id}",
            f"    name: {_yaml_value(state)}",
            f"    states: [{_yaml_value(state)}]",
            _pad(
                f"    kind: {kind}",
                "guessed: no issue is in this status now, so its category is unknown"
                if state in guessed
                else "",
            ),
        ]
    commitment = next((i for i, k in made if k == "active"), None) or next(
        (i for i, k in made if k == "wait"), None
    )
    if commitment is None:
        return None
    lines += [
        "",
        _pad(f"commitment: {commitment}", "cycle time starts when an item enters this stage"),
    ]
    return "\n".join(lines) + "\n"
