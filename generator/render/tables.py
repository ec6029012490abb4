"""CSV and JSON downloads: deterministic bytes, formulas neutralised, numbers rounded once."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

DECIMALS = 6
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(values: pd.Series) -> pd.Series:
    """Prefix text a spreadsheet would run as a formula with an apostrophe."""
    text = values.astype("string")
    risky = text.str.startswith(FORMULA_START).fillna(False)
    return text.where(~risky, "'" + text)


def csv_bytes(frame: pd.DataFrame, text_columns: tuple[str, ...] = ()) -> bytes:
    """A frame as UTF-8 CSV with \\n line endings; NaN/NA as empty cells."""
    out = frame.copy()
    for col in text_columns:
        if col in out:
            out[col] = neutralise(out[col])
    for col in out.columns:
        if out[col].dtype.kind == "f":
            out[col] = out[col].round(DECIMALS)
    return out.to_csv(index=False, lineterminator="\n").encode("utf-8")


def clean(value: Any) -> Any:
    """JSON-safe value: numpy scalars to Python, NaN to None, floats rounded."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        f = float(value)
        return None if math.isnan(f) or math.isinf(f) else round(f, DECIMALS)
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA:
        return None
    return value


def json_bytes(data: Any) -> bytes:
    return (json.dumps(clean(data), indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode(
        "utf-8"
    )
