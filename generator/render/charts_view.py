"""Charts as page context: the spec JSON, a short data table, and the CSV download beside the page."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.charts.spec import Chart, spec_json
from generator.render.csv_writer import csv_bytes_arrow
from generator.render.downloads import FORMULA_PREFIX
from generator.render.tables import DECIMALS

if TYPE_CHECKING:
    from generator.render.context import SiteContext

TABLE_ROWS = 60


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def table_csv(table: pd.DataFrame) -> bytes:
    """A chart's data as CSV: text neutralised against spreadsheet formulas, numbers rounded once."""
    columns = {}
    for name, col in table.items():
        if col.dtype.kind == "f":
            rounded = np.round(col.to_numpy(dtype=np.float64, na_value=np.nan), DECIMALS)
            columns[str(name)] = pa.array(rounded, from_pandas=True)
        elif col.dtype.kind in "iub":
            columns[str(name)] = pa.array(col.to_numpy())
        else:
            try:
                text = pa.array(
                    col.to_numpy(dtype=object), type=pa.large_string(), from_pandas=True
                )
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # dates and other objects
                text = pa.array(
                    [
                        None
                        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))
                        else (v.isoformat() if hasattr(v, "isoformat") else str(v))
                        for v in col.tolist()
                    ],
                    pa.large_string(),
                )
            risky = pc.match_substring_regex(text, FORMULA_PREFIX)
            if pc.any(risky).as_py():  # nulls are skipped
                text = pc.if_else(
                    pc.fill_null(risky, False),
                    pc.binary_join_element_wise(
                        pa.scalar("'", pa.large_string()), text, pa.scalar("", pa.large_string())
                    ),
                    text,
                )
            columns[str(name)] = text
    return csv_bytes_arrow(
        pa.table(columns) if columns else pa.table({"empty": pa.array([], pa.large_string())})
    )


def chart_view(chart: Chart, ctx: SiteContext, folder: str) -> dict[str, Any]:
    """Write the chart's CSV into `folder` and return what the `chart` macro needs."""
    table = chart.table
    if chart.download:
        ctx.add(f"{folder}/{chart.download}", table_csv(table))
    head = table.head(TABLE_ROWS)
    # column by column (Python scalars, as itertuples gives them): a tenth of itertuples' time
    values = [head.iloc[:, i].tolist() for i in range(head.shape[1])]
    rows = (
        [[_cell(v) for v in row] for row in zip(*values, strict=True)]
        if values
        else [[]] * len(head)
    )
    return {
        "id": chart.id,
        "title": chart.title,
        "caption": chart.caption,
        "finding": chart.finding,
        "spec_json": spec_json(chart.spec),
        "download": chart.download,
        "headers": [chart.columns.get(c, c) for c in table.columns],
        "rows": rows,
        "row_count": len(table),
        "truncated": len(table) > TABLE_ROWS,
    }
