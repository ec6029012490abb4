"""A chart as the page needs it: a stable id, the plotly spec, a caption, a finding and its data."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
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


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else round(f, 4)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def spec_json(spec: dict[str, Any]) -> str:
    """JSON safe to place inside <script type="application/json"> (no '<', '>' or '&' left raw)."""
    text = json.dumps(_plain(spec), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
