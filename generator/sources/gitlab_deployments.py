"""`gitlab-deployments`: GitLab REST deployments (`GET /projects/:id/deployments`) as deployments.

Accepted files (`path`): a JSON array of deployment objects (pages concatenated into one
array, or JSON Lines), or an Apache DevLake raw table (`.csv` whose `data` column holds one
deployment per row, e.g. _raw_gitlab_api_deployments.csv).

Rules (SOURCES.md 3):
  * status: `success` -> success, `failed` -> failure; `created`, `running`, `canceled`,
    `blocked`, `skipped` are kept but are not finished deployments (W232); anything else
    (e.g. `completed`, `undeployed` in the DevLake fixture) is an unknown status (W232);
  * the deployment's own `status` decides, not `deployable.status` (the CI job's);
  * instant: `deployable.finished_at`, else `updated_at`, else `created_at`;
  * environment: `environment.name`; production = named by the `environment` option
    (default `production`, case-insensitive).

Frame: the deployment frame of deployments_csv.py (deploy_id = the deployment's `id`).
Codes: E122 missing file, E200 not JSON, W202 bad timestamp, W232 no successful status / unknown.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from generator.load.timestamps import parse_instants
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.deployments_csv import (
    FAILURE,
    SUCCESS,
    Environments,
    classify_status,
    deployment_frame,
    environment_names,
    production_mask,
    status_problems,
)
from generator.sources.github_deployments import json_records, norm
from generator.sources.rows import row_problems

GITLAB_STATUSES = {
    "success": SUCCESS,
    "failed": FAILURE,
    "canceled": "canceled",
    "created": "created",
    "running": "running",
    "blocked": "blocked",
    "skipped": "skipped",
}


class Options(SourceOptions):
    kind: Literal["gitlab-deployments"]
    # the name(s) of the production environment (case-insensitive)
    environment: Environments = "production"


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
        dep = norm(obj)
        job = norm(dep.get("deployable"))
        env = dep.get("environment")
        env_name = norm(env).get("name") if isinstance(env, dict) else env
        when = job.get("finishedat") or dep.get("updatedat") or dep.get("createdat") or ""
        rows.append(
            (
                str(dep.get("id") or dep.get("iid") or ""),
                str(when),
                str(env_name or ""),
                str(dep.get("status") or ""),
                dep.get("sha"),
                line,
            )
        )
    frame = pd.DataFrame(rows, columns=["deploy_id", "when", "environment", "state", "sha", "line"])
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
        "a deployment needs deployable.finished_at, updated_at or created_at",
    )
    keep = ~bad_time
    raw = frame["state"].to_numpy(dtype=object)
    status, known = classify_status(raw, GITLAB_STATUSES)
    data.problems += status_problems(
        file,
        lines[keep],
        ids[keep],
        raw[keep],
        status[keep],
        known[keep],
        ", ".join(GITLAB_STATUSES),
    )
    env_keep = frame["environment"].to_numpy(dtype=object)[keep]
    data.skipped = {"deployments without a valid time": int(bad_time.sum())}
    data.deployments = deployment_frame(
        {
            "deploy_id": ids[keep],
            "ts": parsed.ns[keep],
            "environment": env_keep,
            "status": status[keep],
            "sha": pd.Series(frame["sha"].to_numpy(dtype=object)[keep], dtype="string"),
            "production": production_mask(env_keep, environment_names(options.environment)),
            "file": np.full(int(keep.sum()), file, dtype=object),
            "line": lines[keep],
        }
    )
    return data
