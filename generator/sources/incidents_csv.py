"""`incidents-csv`: the canonical incident log (for time to restore and change failure rate).

Columns (matched case- and space-insensitively):
  incident_id  required  the incident's key
  opened       required  when it was opened (ISO 8601)
  resolved     optional  when service was restored; empty while the incident is open
  deploy_id    optional  the deployment that caused it (a deploy_id of a deployment source)
  severity     optional  free text, kept for display

Incident frame (extends INCIDENT_COLUMNS of base.py), one row per incident:
  incident_id string; opened int64 UTC ns; resolved Int64 UTC ns or <NA>;
  deploy_id string or <NA>; severity string or <NA>; file string; line int64

Codes: W233 resolved before opened (the resolution is ignored: the incident counts
as unresolved), W202 bad timestamps (opened: row skipped; resolved: value ignored),
W203 empty incident_id, W212 an incident_id listed twice (first row used).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from generator.load.timestamps import NAT
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import null_if_blank, open_csv, parse_time_column
from generator.sources.rows import (
    bad_row_problems,
    is_blank,
    require_columns,
    row_problems,
    skipped_rows,
    text_column,
)

INCIDENT_DTYPES = {
    "incident_id": "string",
    "opened": "int64",
    "resolved": "Int64",
    "deploy_id": "string",
    "severity": "string",
    "file": "string",
    "line": "int64",
}


class Options(SourceOptions):
    kind: Literal["incidents-csv"]


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    table, problems = open_csv(path, ctx)
    data.problems += problems
    if table is None:
        return data
    cols, problems = require_columns(
        table, file, ("incident_id", "opened"), ("resolved", "deploy_id", "severity")
    )
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    lines = table.lines
    ids_arr = text_column(table, cols["incident_id"])
    no_id = is_blank(ids_arr)
    ids = pd.Series(ids_arr, dtype="string")
    id_text = ids.to_numpy(dtype=object)
    data.problems += row_problems(
        "W203",
        file,
        no_id,
        lines,
        lambda i: "incident_id is empty; row skipped",
        "every incident needs its key",
    )
    dup = ids.duplicated(keep="first").to_numpy() & ~no_id
    data.problems += row_problems(
        "W212",
        file,
        dup,
        lines,
        lambda i: f"incident '{id_text[i]}' is listed again; the first row is used",
        "keep one row per incident",
    )
    opened, problems = parse_time_column(
        table.columns[cols["opened"]], ctx, file, lines, "opened", required=True
    )
    data.problems += problems
    resolved_ns = np.full(table.num_rows, NAT, dtype=np.int64)
    if "resolved" in cols:
        resolved, problems = parse_time_column(
            table.columns[cols["resolved"]], ctx, file, lines, "resolved", required=False
        )
        data.problems += problems
        resolved_ns = resolved.ns.copy()
    bad_opened = opened.invalid | opened.empty
    keep = ~(no_id | dup | bad_opened)
    backwards = keep & (resolved_ns != NAT) & (resolved_ns < opened.ns)
    data.problems += row_problems(
        "W233",
        file,
        backwards,
        lines,
        lambda i: (
            f"incident '{id_text[i]}' is resolved before it was opened; it is counted as unresolved"
        ),
        "check both timestamps and their UTC offsets",
    )
    resolved_ns[backwards] = NAT
    mask = pa.array(keep)
    data.skipped = {
        **skipped_rows(table, "incident rows"),
        "incident rows without an incident_id": int(no_id.sum()),
        "repeated incident rows": int(dup.sum()),
        "incident rows without a valid opened time": int((bad_opened & ~no_id & ~dup).sum()),
    }
    kept_resolved = resolved_ns[keep]
    resolved_col = pd.array(kept_resolved, dtype="Int64")
    resolved_col[kept_resolved == NAT] = pd.NA
    data.incidents = pd.DataFrame(
        {
            "incident_id": pd.Series(ids_arr.filter(mask), dtype="string"),
            "opened": opened.ns[keep],
            "resolved": resolved_col,
            "deploy_id": pd.Series(
                null_if_blank(text_column(table, cols.get("deploy_id"))).filter(mask),
                dtype="string",
            ),
            "severity": pd.Series(
                null_if_blank(text_column(table, cols.get("severity"))).filter(mask), dtype="string"
            ),
            "file": pd.Series([file] * int(keep.sum()), dtype="string"),
            "line": lines[keep],
        }
    ).astype(INCIDENT_DTYPES)
    return data
