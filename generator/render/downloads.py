"""The output contract: streams/<id>/data/items.csv and metrics.json."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from generator.load.timestamps import format_utc
from generator.metrics.aggregates import PeriodResult
from generator.metrics.periods import DAY_NS
from generator.metrics.prepare import NAT
from generator.metrics.stream import StreamMetrics
from generator.render.tables import csv_bytes, json_bytes

ITEM_COLUMNS = [
    "item_id", "type", "flow_type", "title", "created", "committed", "done", "lead_time_days",
    "cycle_time_days", "process_days", "wait_days", "blocked_days", "flow_efficiency", "reworked",
]


def iso(ns: int | None) -> str | None:
    if ns is None or ns == NAT:
        return None
    return str(format_utc(np.array([ns], dtype=np.int64))[0])


def items_frame(metrics: StreamMetrics, privacy: bool) -> pd.DataFrame:
    """One row per item in the contract's columns (days as floats, instants ISO UTC)."""
    assert metrics.result is not None
    items = metrics.result.items
    out = pd.DataFrame({"item_id": items["item_id"], "type": items["type"], "flow_type": items["flow_type"]})
    out["title"] = pd.Series(pd.NA, index=items.index, dtype="string") if privacy else items["title"]
    for name in ("created", "committed", "done"):
        out[name] = format_utc(items[name].to_numpy(dtype=np.int64, na_value=NAT))
    for name, col in (("lead_time_days", "lead_ns"), ("cycle_time_days", "cycle_ns")):
        out[name] = items[col].to_numpy(dtype=np.float64, na_value=np.nan) / DAY_NS
    out["process_days"] = items["process_ns"].to_numpy() / DAY_NS
    out["wait_days"] = items["wait_ns"].to_numpy() / DAY_NS
    out["blocked_days"] = items["blocked_ns"].to_numpy() / DAY_NS
    out["flow_efficiency"] = items["flow_efficiency"]
    out["reworked"] = np.where(items["reworked"].to_numpy(), "true", "false")
    for stage in [*(s.id for s in metrics.config.stages), "unmapped"]:
        out[f"stage_days:{stage}"] = items[f"stage_ns:{stage}"].to_numpy() / DAY_NS
    return out


def items_csv(metrics: StreamMetrics, privacy: bool) -> bytes:
    return csv_bytes(items_frame(metrics, privacy), text_columns=("item_id", "type", "title"))


def period_json(period: PeriodResult) -> dict[str, Any]:
    summary = dict(period.summary)
    summary["as_of"] = iso(summary["as_of"])
    return summary


def metrics_document(metrics: StreamMetrics) -> dict[str, Any]:
    return {
        "stream": metrics.config.id,
        "name": metrics.config.definition.name,
        "as_of": iso(metrics.as_of),
        "timezone": metrics.config.timezone,
        "periods": {name: period_json(p) for name, p in metrics.periods.items()},
        "quarters": {name: period_json(p) for name, p in metrics.quarters.items()},
        "comparison": metrics.comparison,
        "littles_law": metrics.littles_law,
        "dora": {k: v for k, v in metrics.dora.items() if k != "weekly"} if metrics.dora else None,
        "quality": metrics.quality,
        "problems": [p.as_dict() for p in metrics.problems],
    }


def metrics_json(metrics: StreamMetrics) -> bytes:
    return json_bytes(metrics_document(metrics))
