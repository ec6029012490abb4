"""`deployments-csv`: the canonical deployment log, and what every deployment kind shares.

Columns (matched case- and space-insensitively):
  deploy_id    required  the deployment's key (incidents name it in their deploy_id)
  timestamp    required  when the deployment finished (ISO 8601); `finished_at` is accepted instead
  environment  optional  default `production` for every row
  status       optional  success | failure | canceled | running | ...; default `success` for every row
  sha          optional  the commit deployed
  rollback_of  optional  the deploy_id this deployment rolled back (that one caused a failure)
  hotfix       optional  true/false: this deployment fixed the production deployment before it

Deployment frame (extends DEPLOYMENT_COLUMNS of base.py), one row per deployment:
  deploy_id    string   the deployment's key
  ts           int64    UTC ns: when it finished (for GitHub: its success status)
  environment  string   the environment's name as written in the source
  status       string   success | failure | one of OTHER_STATUSES | the unknown text, lowercased
  sha          string   the deployed commit, or <NA>
  production   bool     the environment is one of the source's `environment` option (case-insensitive)
  rollback_of  string   deploy_id rolled back by this deployment, or <NA>
  hotfix       bool     this deployment is a hotfix of the previous production deployment
  file, line            where the row came from (line 0 when not line-based)

Codes: W232 a deployment whose status is not success or failure (kept, not counted
as a deployment by DORA) or is not a known status; W203 empty deploy_id, W212 a
deploy_id listed twice (first row used), W205 a hotfix value that is not true/false,
W202 bad timestamp (row skipped).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.errors import Location, Problem
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import null_if_blank, open_csv, parse_time_column
from generator.sources.events_csv import parse_blocked
from generator.sources.rows import (
    bad_row_problems,
    is_blank,
    require_columns,
    row_problems,
    skipped_rows,
    text_column,
)

SUCCESS = "success"
FAILURE = "failure"
# statuses of a deployment that has not (or not yet) succeeded or failed
OTHER_STATUSES = (
    "canceled",
    "created",
    "queued",
    "pending",
    "running",
    "in_progress",
    "blocked",
    "skipped",
    "waiting",
    "inactive",
)

# the canonical CSV's words (lowercased) -> status
CSV_STATUSES: dict[str, str] = {
    **{
        w: SUCCESS
        for w in (
            "success",
            "succeeded",
            "successful",
            "ok",
            "passed",
            "deployed",
            "done",
            "completed",
        )
    },
    **{w: FAILURE for w in ("failure", "failed", "fail", "error", "errored")},
    **{w: w for w in OTHER_STATUSES},
    "cancelled": "canceled",
    "aborted": "canceled",
    "in progress": "in_progress",
}

DEPLOYMENT_DTYPES = {
    "deploy_id": "string",
    "ts": "int64",
    "environment": "string",
    "status": "string",
    "sha": "string",
    "production": "bool",
    "rollback_of": "string",
    "hotfix": "bool",
    "file": "string",
    "line": "int64",
}

Environments = str | tuple[str, ...]


class Options(SourceOptions):
    kind: Literal["deployments-csv"]
    # the name(s) of the production environment in this file (case-insensitive)
    environment: Environments = "production"


def environment_names(option: Environments) -> tuple[str, ...]:
    return (option,) if isinstance(option, str) else tuple(option)


def production_mask(environment: Sequence[object], names: Sequence[str]) -> np.ndarray:
    """True where the environment is one of `names`, compared case-insensitively."""
    wanted = {n.strip().casefold() for n in names}
    env = pd.Series(list(environment), dtype="string").str.strip().str.casefold()
    return np.asarray(env.isin(wanted).fillna(False), dtype=bool)


def classify_status(
    raw: Sequence[object] | np.ndarray, vocabulary: dict[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """Status text -> canonical status (unknown text kept, lowercased) and a mask of known statuses."""
    lowered = pd.Series(list(raw), dtype="string").str.strip().str.lower()
    mapped = lowered.map(vocabulary)
    known = np.asarray(mapped.notna(), dtype=bool)
    canonical = mapped.where(mapped.notna(), lowered).fillna("")
    return canonical.to_numpy(dtype=object), known


def status_problems(
    file: str,
    lines: np.ndarray,
    ids: np.ndarray,
    raw: np.ndarray,
    canonical: np.ndarray,
    known: np.ndarray,
    words: str,
) -> list[Problem]:
    """W232 for deployments that neither succeeded nor failed, and for statuses that are not known."""
    final = np.isin(canonical, (SUCCESS, FAILURE))
    out = row_problems(
        "W232",
        file,
        known & ~final,
        lines,
        lambda i: (
            f"deployment '{ids[i]}' has status '{raw[i]}' (neither success nor failure); it is not counted as a deployment"
        ),
        "only deployments that succeeded or failed count towards DORA; export again once it has finished",
    )
    out += row_problems(
        "W232",
        file,
        ~known,
        lines,
        lambda i: (
            f"deployment '{ids[i]}' has an unknown status '{raw[i]}'; it is not counted as a deployment"
        ),
        f"use one of: {words}",
    )
    return out


def deployment_frame(columns: dict[str, object]) -> pd.DataFrame:
    """The deployment frame in DEPLOYMENT_DTYPES order; missing optional columns are filled."""
    n = len(columns["deploy_id"])  # type: ignore[arg-type]
    defaults: dict[str, object] = {
        "sha": pd.NA,
        "rollback_of": pd.NA,
        "hotfix": False,
        "production": True,
    }
    frame = pd.DataFrame(
        {
            name: columns.get(name, pd.Series([defaults.get(name, pd.NA)] * n))
            for name in DEPLOYMENT_DTYPES
        }
    )
    return frame.astype(DEPLOYMENT_DTYPES)


def empty_deployments() -> pd.DataFrame:
    return pd.DataFrame({n: pd.Series([], dtype=t) for n, t in DEPLOYMENT_DTYPES.items()})


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    table, problems = open_csv(path, ctx)
    data.problems += problems
    if table is None:
        return data
    cols, problems = require_columns(
        table,
        file,
        ("deploy_id",),
        ("timestamp", "finished_at", "environment", "status", "sha", "rollback_of", "hotfix"),
    )
    time_col = cols.get("timestamp", cols.get("finished_at"))
    if time_col is None:
        problems.append(
            Problem(
                "E201",
                "error",
                Location(file, 1),
                f"required column 'timestamp' is missing (found: {', '.join(table.header)})",
                "add a 'timestamp' column (or 'finished_at') with when each deployment finished",
            )
        )
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    lines = table.lines
    ids_arr = text_column(table, cols["deploy_id"])
    no_id = is_blank(ids_arr)
    ids = pd.Series(ids_arr, dtype="string")
    id_text = ids.to_numpy(dtype=object)
    data.problems += row_problems(
        "W203",
        file,
        no_id,
        lines,
        lambda i: "deploy_id is empty; row skipped",
        "every deployment needs its key",
    )
    dup = ids.duplicated(keep="first").to_numpy() & ~no_id
    data.problems += row_problems(
        "W212",
        file,
        dup,
        lines,
        lambda i: f"deployment '{id_text[i]}' is listed again; the first row is used",
        "keep one row per deployment",
    )
    assert time_col is not None
    parsed, problems = parse_time_column(
        table.columns[time_col], ctx, file, lines, "timestamp", required=True
    )
    data.problems += problems
    bad_time = parsed.invalid | parsed.empty

    if "status" in cols:
        raw_status = np.asarray(text_column(table, cols["status"]).to_pylist(), dtype=object)
        status, known = classify_status(raw_status, CSV_STATUSES)
    else:
        raw_status = np.full(table.num_rows, SUCCESS, dtype=object)
        status, known = raw_status.copy(), np.ones(table.num_rows, dtype=bool)
    if "environment" in cols:
        env = (
            pd.Series(text_column(table, cols["environment"]), dtype="string")
            .fillna("")
            .to_numpy(dtype=object)
        )
    else:
        env = np.full(table.num_rows, "production", dtype=object)
    hotfix_flag, bad_hotfix = parse_blocked(text_column(table, cols.get("hotfix")))
    hotfix_text = text_column(table, cols.get("hotfix")).to_pylist() if bad_hotfix.any() else []
    data.problems += row_problems(
        "W205",
        file,
        bad_hotfix,
        lines,
        lambda i: f"hotfix value '{hotfix_text[i]}' is not true/false; treated as false",
        "write true or false (1/0 and yes/no also work), or leave it empty",
    )
    keep = ~(no_id | dup | bad_time)
    data.problems += status_problems(
        file,
        lines[keep],
        id_text[keep],
        raw_status[keep],
        status[keep],
        known[keep],
        "success, failure, " + ", ".join(OTHER_STATUSES),
    )
    mask = pa.array(keep)
    data.skipped = {
        **skipped_rows(table, "deployment rows"),
        "deployment rows without a deploy_id": int(no_id.sum()),
        "repeated deployment rows": int(dup.sum()),
        "deployment rows without a valid timestamp": int((bad_time & ~no_id & ~dup).sum()),
    }
    data.deployments = deployment_frame(
        {
            "deploy_id": pd.Series(ids_arr.filter(mask), dtype="string"),
            "ts": parsed.ns[keep],
            "environment": env[keep],
            "status": status[keep],
            "sha": pd.Series(
                null_if_blank(text_column(table, cols.get("sha"))).filter(mask), dtype="string"
            ),
            "production": production_mask(env[keep], environment_names(options.environment)),
            "rollback_of": pd.Series(
                null_if_blank(text_column(table, cols.get("rollback_of"))).filter(mask),
                dtype="string",
            ),
            "hotfix": hotfix_flag[keep] == 1,
            "file": np.full(int(keep.sum()), file, dtype=object),
            "line": lines[keep],
        }
    )
    return data
