"""`vsm import KIND INPUT -o DIR`: any source kind written out as the canonical CSV files.

For teams that prefer to commit normalised data: the files written are exactly
what `events-csv`, `items-csv`, `deployments-csv` and `incidents-csv` read,
and a `git-history` import writes the `commits.csv` / `tags.csv` export that
`git-history` reads with `format: csv`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import ValidationError

from generator.errors import Location, Problem
from generator.load.timestamps import NAT, utc_text
from generator.render.csv_writer import csv_bytes_arrow
from generator.sources import KINDS
from generator.sources.base import ReadContext


@dataclass
class ImportResult:
    written: dict[str, int] = field(default_factory=dict)  # file name -> rows
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)


def _text(values: Any, n: int) -> pa.Array:
    if values is None:
        return pa.nulls(n, pa.large_string())
    arr = pa.array(values.array if isinstance(values, pd.Series) else values, from_pandas=True)
    return arr.cast(pa.large_string())


def _times(values: pd.Series) -> pa.Array:
    return utc_text(values.to_numpy(dtype=np.int64, na_value=NAT), precise=True)


def _bool_text(values: np.ndarray, unchanged: int = -1) -> pa.Array:
    text = np.where(values == 1, "true", np.where(values == 0, "false", ""))
    return pa.array(text, pa.large_string())


def import_source(
    kind: str, source: Path, out: Path, options: dict[str, Any], timezone: str = "UTC"
) -> ImportResult:
    """Read `source` as `kind` and write the canonical CSV files into `out`."""
    result = ImportResult()
    if kind not in KINDS:
        result.problems.append(
            Problem(
                "E105",
                "error",
                Location(str(source)),
                f"unknown source kind '{kind}'",
                f"known kinds: {', '.join(sorted(KINDS))}",
            )
        )
        return result
    source = source.resolve()
    base = source.parent
    raw = {"kind": kind, "path": source.name, **options}
    module = KINDS[kind]
    try:
        parsed = module.Options.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False):
            where = ".".join(str(p) for p in err["loc"]) or "options"
            result.problems.append(
                Problem(
                    "E104",
                    "error",
                    Location(str(source)),
                    f"{where}: {err['msg']}",
                    "pass options as --option key=value (see docs/sources.md)",
                )
            )
        return result
    data = module.read(parsed, ReadContext(base, base, timezone, 0))
    result.problems += data.problems
    result.skipped = dict(data.skipped)
    if any(p.severity == "error" for p in data.problems):
        return result
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, pa.Table] = {}
    if data.events is not None and len(data.events):
        ev = data.events
        files["events.csv"] = pa.table(
            {
                "item_id": _text(ev["item_id"], len(ev)),
                "timestamp": _times(ev["ts"]),
                "state": _text(ev["state"], len(ev)),
                "blocked": _bool_text(ev["blocked"].to_numpy(dtype=np.int64)),
                "actor": _text(ev.get("actor"), len(ev)),
            }
        )
    if data.items is not None and len(data.items):
        it = data.items
        files["items.csv"] = pa.table(
            {
                "item_id": _text(it["item_id"], len(it)),
                "type": _text(it.get("type"), len(it)),
                "title": _text(it.get("title"), len(it)),
                "created": _times(it["created"])
                if "created" in it
                else pa.nulls(len(it), pa.large_string()),
                "url": _text(it.get("url"), len(it)),
            }
        )
    if data.deployments is not None and len(data.deployments):
        dp = data.deployments
        files["deployments.csv"] = pa.table(
            {
                "deploy_id": _text(dp["deploy_id"], len(dp)),
                "timestamp": _times(dp["ts"]),
                "environment": _text(dp.get("environment"), len(dp)),
                "status": _text(dp.get("status"), len(dp)),
                "sha": _text(dp.get("sha"), len(dp)),
            }
        )
    if data.incidents is not None and len(data.incidents):
        inc = data.incidents
        files["incidents.csv"] = pa.table(
            {
                "incident_id": _text(inc["incident_id"], len(inc)),
                "opened": _times(inc["opened"]),
                "resolved": _times(inc["resolved"])
                if "resolved" in inc
                else pa.nulls(len(inc), pa.large_string()),
                "deploy_id": _text(inc.get("deploy_id"), len(inc)),
                "severity": _text(inc.get("severity"), len(inc)),
            }
        )
    if data.changes is not None and len(data.changes):
        ch = data.changes
        files["changes.csv"] = pa.table(
            {
                "sha": _text(ch["sha"], len(ch)),
                "timestamp": _times(ch["ts"]),
                "is_merge": pa.array(
                    np.where(ch["is_merge"].to_numpy(dtype=bool), "1", "0"), pa.large_string()
                ),
                "deploy_id": _text(ch.get("deploy_id"), len(ch)),
            }
        )
    for name, table in files.items():
        (out / name).write_bytes(csv_bytes_arrow(table))
        result.written[name] = table.num_rows
    return result
