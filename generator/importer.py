"""`vsm import KIND INPUT -o DIR [--format parquet]`: any source kind written out as the canonical files.

For teams that prefer to commit normalised data: the files written are exactly
what `events-csv`, `items-csv`, `deployments-csv` and `incidents-csv` read
(with `--format parquet`, events and items as what `events-parquet` and
`items-parquet` read),
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
import pyarrow.parquet as pq
from pydantic import ValidationError

from generator.errors import Location, Problem
from generator.load.timestamps import NAT, utc_text
from generator.render.csv_writer import csv_bytes_arrow
from generator.sources import KINDS
from generator.sources.base import ReadContext

PARQUET_ROW_GROUP = 1_000_000  # rows per row group: one unit of work for the dask engine's readers


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


def _parquet_events(ev: pd.DataFrame) -> pa.Table:
    """The events as events-parquet reads them: instants as UTC timestamps, blocked as a
    boolean (null = unchanged)."""
    blocked = ev["blocked"].to_numpy(dtype=np.int64)
    return pa.table(
        {
            "item_id": _text(ev["item_id"], len(ev)),
            "timestamp": pa.array(ev["ts"].to_numpy(dtype=np.int64), pa.timestamp("ns", "UTC")),
            "state": _text(ev["state"], len(ev)),
            "blocked": pa.array(blocked == 1, pa.bool_(), mask=blocked < 0),
            "actor": _text(ev.get("actor"), len(ev)),
        }
    )


def _parquet_items(it: pd.DataFrame) -> pa.Table:
    created = (
        it["created"].to_numpy(dtype=np.int64, na_value=NAT)
        if "created" in it
        else np.full(len(it), NAT, dtype=np.int64)
    )
    return pa.table(
        {
            "item_id": _text(it["item_id"], len(it)),
            "type": _text(it.get("type"), len(it)),
            "title": _text(it.get("title"), len(it)),
            "created": pa.array(created, pa.timestamp("ns", "UTC"), mask=created == NAT),
            "url": _text(it.get("url"), len(it)),
        }
    )


def import_source(
    kind: str,
    source: Path,
    out: Path,
    options: dict[str, Any],
    timezone: str = "UTC",
    fmt: str = "csv",
) -> ImportResult:
    """Read `source` as `kind` and write the canonical files into `out`: CSV, or with
    fmt="parquet" the events and items as events.parquet and items.parquet."""
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
    if fmt == "parquet":
        if data.events is not None and len(data.events):
            del files["events.csv"]
            files["events.parquet"] = _parquet_events(data.events)
        if data.items is not None and len(data.items):
            del files["items.csv"]
            files["items.parquet"] = _parquet_items(data.items)
    for name, table in files.items():
        if name.endswith(".parquet"):
            pq.write_table(table, out / name, row_group_size=PARQUET_ROW_GROUP)
        else:
            (out / name).write_bytes(csv_bytes_arrow(table))
        result.written[name] = table.num_rows
    return result
