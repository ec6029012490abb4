"""A chart as the page needs it: a stable id, the plotly spec, a caption, a finding and its data."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson
import pandas as pd


@dataclass
class Chart:
    """One chart: `spec` is {data, layout}; `table` is the data behind it (also the CSV download)."""

    id: str  # stable: page + metric, e.g. "trends-throughput"
    title: str
    caption: str  # what it counts: start and end events
    finding: str  # one sentence stating what the chart shows (aria-label)
    spec: dict[str, Any]
    table: pd.DataFrame
    download: str = ""  # file name of the CSV beside the page
    table_caption: str = ""
    columns: dict[str, str] = field(default_factory=dict)  # table column -> header text


def spec_json(spec: dict[str, Any]) -> str:
    """JSON safe to place inside <script type="application/json"> (no '<', '>' or '&' left raw).

    orjson writes numpy arrays, dates and NaN (as null) directly, deterministically.
    """
    data = orjson.dumps(
        _rounded(spec),
        option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS,
        default=_default,
    )
    text = data.decode("utf-8")
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _rounded(spec: dict[str, Any]) -> dict[str, Any]:
    """Numeric trace columns rounded to 4 decimals (smaller pages, stable bytes); the rest as is."""
    data = []
    for trace in spec.get("data", []):
        trace = dict(trace)
        for key in ("x", "y", "z", "customdata"):
            values = trace.get(key)
            if (
                isinstance(values, list)
                and values
                and any(isinstance(v, float) for v in values[:50])
                and all(
                    v is None or (isinstance(v, float | int) and not isinstance(v, bool))
                    for v in values[:50]
                )
            ):
                with contextlib.suppress(TypeError, ValueError):
                    trace[key] = np.round(
                        np.array([np.nan if v is None else v for v in values], dtype=np.float64), 4
                    )
        data.append(trace)
    return {**spec, "data": data}


def _default(value: Any) -> Any:
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
