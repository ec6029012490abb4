"""`github-deployments`: GitHub deployments with their statuses (REST or GraphQL), as deployments.

Accepted files (`path`):
  * REST, paired:   [{"deployment": {...}, "statuses": [...]}, ...]
  * REST, embedded: [{"id": ..., "sha": ..., "environment": ..., "statuses": [...]}, ...]
  * GraphQL nodes:  [{"id", "databaseId", "commitOid", "environment", "createdAt",
                      "statuses": {"nodes": [{"state", "updatedAt"}]}, "latestStatus": {...}}, ...]
    also inside a whole response ({"data": {"repository": {"deployments": {"nodes": [...]}}}});
  * JSON Lines of any of these, or an Apache DevLake raw table (`.csv` whose `data`
    column holds one object per row, e.g. _raw_github_graphql_deployment.csv).
Keys are matched ignoring case and `_` (DevLake writes `CreatedAt`, GitHub `created_at`/`createdAt`).

Rules (SOURCES.md 2c):
  * a deployment's result is its latest status (statuses are sorted by time, newest first);
    its instant is the time of its first `success` status, else of its latest status, else created_at;
  * `inactive` means "superseded": GitHub only marks deployments inactive that had a success
    status, so an inactive deployment counts as successful; when its history is gone (GitHub keeps
    statuses for 90 days) it is timed by created_at and counted in notes
    `github_deployments_timed_by_created_at`;
  * `error` and `failure` are failures; queued / pending / in_progress / waiting are W232;
  * production = environment named by the `environment` option (default `production`,
    case-insensitive) or `production_environment: true`.

Frame: the deployment frame of deployments_csv.py (deploy_id = databaseId or id).
Codes: E122 missing file, E200 not JSON, W202 bad timestamp, W232 no successful status / unknown.
"""

from __future__ import annotations

import bisect
import json
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from generator.errors import Location, Problem
from generator.load.csv_table import CsvUnreadable, read_csv_table
from generator.load.timestamps import parse_instants
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.deployments_csv import (
    FAILURE,
    SUCCESS,
    Environments,
    deployment_frame,
    environment_names,
    production_mask,
    status_problems,
)
from generator.sources.rows import bad_row_problems, row_problems

# GitHub status / GraphQL state (lowercased) -> status
GITHUB_STATUSES = {
    "success": SUCCESS,
    "active": SUCCESS,
    "failure": FAILURE,
    "error": FAILURE,
    "inactive": "inactive",
    "in_progress": "in_progress",
    "queued": "queued",
    "pending": "pending",
    "waiting": "waiting",
    "abandoned": "canceled",
}
_WRAPPERS = ("data", "repository", "deployments", "nodes")

Record = tuple[dict[str, Any], int]


class Options(SourceOptions):
    kind: Literal["github-deployments"]
    # the name(s) of the production environment (case-insensitive); production_environment: true also counts
    environment: Environments = "production"


def norm(obj: object) -> dict[str, Any]:
    """A JSON object with keys lowercased and `_` removed (`created_at`, `createdAt`, `CreatedAt` -> `createdat`)."""
    if not isinstance(obj, dict):
        return {}
    return {str(k).replace("_", "").lower(): v for k, v in obj.items()}


def _line_index(text: str) -> list[int]:
    return [i for i, ch in enumerate(text) if ch == "\n"]


def _array_records(text: str) -> list[Record] | None:
    """Elements of a top-level JSON array with the line each starts on; None when not an array."""
    decoder = json.JSONDecoder()
    newlines = _line_index(text)
    i = len(text) - len(text.lstrip())
    if not text.startswith("[", i):
        return None
    i += 1
    out: list[Record] = []
    while True:
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i >= len(text) or text[i] == "]":
            return out
        obj, end = decoder.raw_decode(text, i)
        out.append((obj, bisect.bisect_left(newlines, i) + 1))
        i = end
        while i < len(text) and text[i] in " \t\r\n":
            i += 1
        if i < len(text) and text[i] == ",":
            i += 1


def _unwrap(obj: Any) -> list[Any]:
    """The list of records inside a response object (GraphQL data.repository.deployments.nodes, edges)."""
    while isinstance(obj, dict):
        n = norm(obj)
        key = (
            None if "id" in n or "databaseid" in n else next((k for k in _WRAPPERS if k in n), None)
        )
        if key is None:
            if "edges" in n and isinstance(n["edges"], list):
                return [norm(e).get("node") for e in n["edges"]]
            return [obj]
        obj = n[key]
    return obj if isinstance(obj, list) else []


def json_records(path: Path, ctx: ReadContext) -> tuple[list[Record], list[Problem]]:
    """Records (JSON objects) of a JSON, JSON Lines or DevLake raw-table CSV file, each with its line."""
    file = ctx.rel(path)
    if path.suffix.lower() == ".csv":
        try:
            table = read_csv_table(path)
        except CsvUnreadable as exc:
            code = "E122" if exc.reason == "file not found" else "E200"
            return [], [
                Problem(
                    code,
                    "error",
                    Location(file, exc.line, exc.col),
                    f"cannot read this CSV file: {exc.reason}",
                    exc.hint,
                )
            ]
        pos = table.find("data")
        if pos is None:
            return [], [
                Problem(
                    "E201",
                    "error",
                    Location(file, 1),
                    "required column 'data' is missing",
                    "a DevLake raw table has a 'data' column with one JSON object per row",
                )
            ]
        out: list[Record] = []
        for text, line in zip(table.columns[pos].to_pylist(), table.lines.tolist(), strict=True):
            try:
                out.append((json.loads(text), line))
            except json.JSONDecodeError as exc:
                return [], [
                    Problem(
                        "E200",
                        "error",
                        Location(file, line),
                        f"the data column is not JSON ({exc.msg})",
                        "export the raw table again",
                    )
                ]
        # rows with the wrong number of fields or bytes that are not text are skipped, and said
        return out, bad_row_problems(table, file)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], [
            Problem(
                "E122",
                "error",
                Location(file),
                "file not found",
                "check the path; it is relative to the stream's folder",
            )
        ]
    except OSError as exc:
        return [], [
            Problem(
                "E200",
                "error",
                Location(file),
                f"cannot be read ({exc.strerror})",
                "point `path` at a JSON file",
            )
        ]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [
            Problem(
                "E200", "error", Location(file, 1), "not UTF-8 text", "save the file as UTF-8 JSON"
            )
        ]
    try:
        records = _array_records(text)
        if records is not None:
            return records, []
        return [(r, 0) for r in _unwrap(json.loads(text))], []
    except json.JSONDecodeError as first:
        lines = [(i + 1, s) for i, s in enumerate(text.splitlines()) if s.strip()]
        try:
            return [(json.loads(s), i) for i, s in lines], []  # JSON Lines
        except json.JSONDecodeError:
            return [], [
                Problem(
                    "E200",
                    "error",
                    Location(file, first.lineno, first.colno),
                    f"not valid JSON ({first.msg})",
                    "export the data again as JSON",
                )
            ]


def _statuses(dep: dict[str, Any], outer: dict[str, Any]) -> list[tuple[str, str]]:
    """(state, time) of each status, newest first."""
    raw = outer.get("statuses", dep.get("statuses"))
    if isinstance(raw, dict):
        raw = norm(raw).get("nodes")
    out = []
    for s in raw if isinstance(raw, list) else []:
        n = norm(s)
        out.append(
            (str(n.get("state") or "").lower(), str(n.get("createdat") or n.get("updatedat") or ""))
        )
    # ISO 8601 UTC text sorts by time; a stable sort keeps the given order for equal times
    return sorted(out, key=lambda st: st[1], reverse=True)


def _result(dep: dict[str, Any], statuses: list[tuple[str, str]]) -> tuple[str, str, str, bool]:
    """(state text, status, instant text, timed by created_at) of one deployment."""
    created = str(dep.get("createdat") or "")
    successes = [t for s, t in statuses if s == "success"]
    if statuses:
        state, when = statuses[0]
    else:
        latest = norm(dep.get("lateststatus"))
        state = str(latest.get("state") or dep.get("state") or "").lower()
        when = str(latest.get("createdat") or latest.get("updatedat") or "") if latest else ""
    status = GITHUB_STATUSES.get(state, state)
    if status == SUCCESS:
        return state, SUCCESS, (successes[-1] if successes else when) or created, False
    if status == "inactive":
        if successes:
            return state, SUCCESS, successes[-1], False
        if not statuses:
            return state, SUCCESS, created, True
    return state, status, when or created, False


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    records, problems = json_records(path, ctx)
    data.problems += problems
    if any(p.severity == "error" for p in problems):
        return data
    rows = []
    for obj, line in records:
        outer = norm(obj)
        dep = norm(outer["deployment"]) if isinstance(outer.get("deployment"), dict) else outer
        state, result, when, by_created = _result(dep, _statuses(dep, outer))
        sha = dep.get("sha") or dep.get("commitoid") or norm(dep.get("commit")).get("oid")
        rows.append(
            (
                str(dep.get("databaseid") or dep.get("id") or ""),
                when,
                str(dep.get("environment") or ""),
                state,
                result,
                sha,
                dep.get("productionenvironment") is True,
                by_created,
                line,
            )
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "deploy_id",
            "when",
            "environment",
            "state",
            "status",
            "sha",
            "prod_flag",
            "by_created",
            "line",
        ],
    )
    lines = frame["line"].to_numpy(dtype=np.int64)
    ids = frame["deploy_id"].to_numpy(dtype=object)
    parsed = parse_instants(frame["when"], ctx.timezone)
    bad_time = parsed.invalid | parsed.empty
    when_text = frame["when"].to_numpy(dtype=object)
    data.problems += row_problems(
        "W202",
        file,
        bad_time,
        lines,
        lambda i: f"deployment '{ids[i]}' has no valid time ('{when_text[i]}'); skipped",
        "statuses need created_at (REST) or updatedAt (GraphQL)",
    )
    keep = ~bad_time
    status = frame["status"].to_numpy(dtype=object)
    known = np.isin(status, list(GITHUB_STATUSES.values()))
    data.problems += status_problems(
        file,
        lines[keep],
        ids[keep],
        frame["state"].to_numpy(dtype=object)[keep],
        status[keep],
        known[keep],
        ", ".join(sorted(GITHUB_STATUSES)),
    )
    env = frame["environment"].to_numpy(dtype=object)[keep]
    production = (
        production_mask(env, environment_names(options.environment))
        | frame["prod_flag"].to_numpy(dtype=bool)[keep]
    )
    data.skipped = {"deployments without a valid time": int(bad_time.sum())}
    data.notes["github_deployments_timed_by_created_at"] = int(
        (frame["by_created"].to_numpy(dtype=bool) & keep).sum()
    )
    data.deployments = deployment_frame(
        {
            "deploy_id": ids[keep],
            "ts": parsed.ns[keep],
            "environment": env,
            "status": status[keep],
            "sha": pd.Series(frame["sha"].to_numpy(dtype=object)[keep], dtype="string"),
            "production": production,
            "file": np.full(int(keep.sum()), file, dtype=object),
            "line": lines[keep],
        }
    )
    return data
