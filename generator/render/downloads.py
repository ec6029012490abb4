"""The output contract: streams/<id>/data/items.csv and metrics.json."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.forecast.document import forecast_document
from generator.load.timestamps import format_utc, utc_text
from generator.metrics.aggregates import PeriodResult
from generator.metrics.periods import DAY_NS
from generator.metrics.prepare import NAT
from generator.metrics.stream import StreamMetrics
from generator.render.csv_writer import csv_bytes_arrow
from generator.render.tables import DECIMALS, json_bytes

ITEM_COLUMNS = [
    "item_id",
    "type",
    "flow_type",
    "title",
    "created",
    "committed",
    "done",
    "lead_time_days",
    "cycle_time_days",
    "process_days",
    "wait_days",
    "blocked_days",
    "flow_efficiency",
    "reworked",
]


def iso(ns: int | None) -> str | None:
    if ns is None or ns == NAT:
        return None
    return str(format_utc(np.array([ns], dtype=np.int64))[0])


FORMULA_PREFIX = r"^[=+\-@\t\r]"


def _text(values: pd.Series) -> pa.Array:
    """Untrusted text for a spreadsheet: values that would run as a formula get a leading apostrophe."""
    arr = pa.array(values.array, from_pandas=True)
    arr = (arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr).cast(
        pa.large_string()
    )
    risky = pc.fill_null(pc.match_substring_regex(arr, FORMULA_PREFIX), False)
    if not pc.any(risky).as_py():
        return arr
    return pc.if_else(
        risky,
        pc.binary_join_element_wise(
            pa.scalar("'", pa.large_string()), arr, pa.scalar("", pa.large_string())
        ),
        arr,
    )


def _days(values: np.ndarray) -> pa.Array:
    """ns -> days rounded to 6 decimals; null where undefined."""
    out = np.round(values.astype(np.float64) / DAY_NS, DECIMALS)
    return pa.array(out, type=pa.float64(), from_pandas=True)


def items_table(metrics: StreamMetrics, privacy: bool) -> pa.Table:
    """One row per item in the contract's columns (days as numbers, instants ISO 8601 UTC)."""
    assert metrics.result is not None
    items = metrics.result.items
    attrs = metrics.result.attrs(None, ("item_id", "type", "title"))
    cols: dict[str, pa.Array] = {
        "item_id": _text(attrs["item_id"]),
        "type": _text(attrs["type"]),
        "flow_type": pa.array(items["flow_type"].astype("string").array),
        "title": pa.nulls(len(items), pa.large_string()) if privacy else _text(attrs["title"]),
    }
    for name in ("created", "committed", "done"):
        cols[name] = utc_text(items[name].to_numpy(dtype=np.int64, na_value=NAT))
    for name, col in (("lead_time_days", "lead_ns"), ("cycle_time_days", "cycle_ns")):
        cols[name] = _days(items[col].to_numpy(dtype=np.float64, na_value=np.nan))
    for name, col in (
        ("process_days", "process_ns"),
        ("wait_days", "wait_ns"),
        ("blocked_days", "blocked_ns"),
    ):
        cols[name] = _days(items[col].to_numpy())
    cols["flow_efficiency"] = pa.array(
        np.round(items["flow_efficiency"].to_numpy(dtype=np.float64), DECIMALS), from_pandas=True
    )
    cols["reworked"] = pa.array(np.where(items["reworked"].to_numpy(), "true", "false"))
    for stage in [*(s.id for s in metrics.config.stages), "unmapped"]:
        cols[f"stage_days:{stage}"] = _days(items[f"stage_ns:{stage}"].to_numpy())
    return pa.table(cols)


def items_frame(metrics: StreamMetrics, privacy: bool) -> pd.DataFrame:
    frame: pd.DataFrame = items_table(metrics, privacy).to_pandas()
    return frame


def items_csv(metrics: StreamMetrics, privacy: bool) -> bytes:
    return csv_bytes_arrow(items_table(metrics, privacy))


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
        "dora": _dora_json(metrics.dora) if metrics.dora else None,
        "forecast": _forecast_json(metrics),
        "scenarios": {sid: r.figures for sid, r in metrics.scenarios.items()},
        "quality": metrics.quality,
        "problems": [p.as_dict() for p in metrics.problems],
    }


def _forecast_json(metrics: StreamMetrics) -> dict[str, Any] | None:
    if metrics.forecast is None:
        return None
    current = metrics.periods.get("current")
    return forecast_document(metrics.forecast, current.span.label if current else None)


def _dora_json(dora: dict[str, Any]) -> dict[str, Any]:
    def period(p: dict[str, Any]) -> dict[str, Any]:
        return {**p, "as_of": iso(p["as_of"])}

    return {
        "level": dora["level"],
        "periods": {k: period(v) for k, v in dora["periods"].items()},
        "quarters": {k: period(v) for k, v in dora["quarters"].items()},
    }


def metrics_json(metrics: StreamMetrics) -> bytes:
    return json_bytes(metrics_document(metrics))


SCENARIO_MEASURES = (  # (measure, path in a scenario's figures, unit)
    ("lead_time_mean", ("lead_time", "*", "mean"), "days"),
    ("lead_time_p50", ("lead_time", "*", "p50"), "days"),
    ("lead_time_p85", ("lead_time", "*", "p85"), "days"),
    ("lead_time_p95", ("lead_time", "*", "p95"), "days"),
    ("cycle_time_p50", ("cycle_time", "*", "p50"), "days"),
    ("cycle_time_p85", ("cycle_time", "*", "p85"), "days"),
    ("flow_efficiency", ("flow_efficiency", "*"), "share"),
    ("process_days_mean", ("process_days_mean", "*"), "days"),
    ("wait_days_mean", ("wait_days_mean", "*"), "days"),
    ("rework_rate", ("rework_rate", "*"), "share"),
    ("rolled_pct_complete_accurate", ("rolled_pct_complete_accurate", "*"), "share"),
)
SCENARIO_INTERVALS = {
    "lead_time_p50": ("lead_time", "p50_interval"),
    "lead_time_p85": ("lead_time", "p85_interval"),
    "cycle_time_p50": ("cycle_time", "p50_interval"),
    "cycle_time_p85": ("cycle_time", "p85_interval"),
    "flow_efficiency": ("flow_efficiency", "interval"),
}


def _at(figures: dict[str, Any], path: tuple[str, ...], side: str) -> Any:
    value: Any = figures
    for part in path:
        value = value.get(side if part == "*" else part) if isinstance(value, dict) else None
    return value


def scenarios_table(metrics: StreamMetrics) -> pd.DataFrame:
    """One row per scenario and measure: measured and projected value, the projected value's 95%
    interval where there is one, and the unit (days, share of items, items)."""
    rows = []
    for sid, result in metrics.scenarios.items():
        f = result.figures
        measures: list[tuple[str, tuple[str, ...], str]] = list(SCENARIO_MEASURES)
        for stage in f["stages"]:
            measures += [
                (f"stage:{stage}:{k}", ("stages", stage, "*", k), u)
                for k, u in (("mean_days", "days"), ("p50_days", "days"), ("p85_days", "days"))
            ]
            measures.append(
                (f"stage:{stage}:items_through", ("stages", stage, "*", "items_through"), "items")
            )
        for measure, path, unit in measures:
            interval = (
                _at(f, SCENARIO_INTERVALS[measure], "") if measure in SCENARIO_INTERVALS else None
            )
            rows.append(
                {
                    "scenario": sid,
                    "name": f["name"],
                    "period": f["period"]["label"],
                    "measure": measure,
                    "unit": unit,
                    "measured": _at(f, path, "current"),
                    "projected": _at(f, path, "projected"),
                    "ci_low": interval[0] if interval else None,
                    "ci_high": interval[1] if interval else None,
                }
            )
    columns = [
        "scenario",
        "name",
        "period",
        "measure",
        "unit",
        "measured",
        "projected",
        "ci_low",
        "ci_high",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("measured", "projected", "ci_low", "ci_high"):
        frame[col] = pd.to_numeric(frame[col]).astype("float64")
    return frame


def scenarios_csv(metrics: StreamMetrics) -> bytes:
    from generator.render.charts_view import table_csv

    return table_csv(scenarios_table(metrics))
