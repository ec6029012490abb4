"""Charts as page context: the spec JSON, a short data table, and the CSV download beside the page."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from generator.charts.spec import Chart, spec_json
from generator.render.tables import csv_bytes

if TYPE_CHECKING:
    from generator.render.site import SiteContext

TABLE_ROWS = 60


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def chart_view(chart: Chart, ctx: SiteContext, folder: str) -> dict[str, Any]:
    """Write the chart's CSV into `folder` and return what the `chart` macro needs."""
    table = chart.table
    if chart.download:
        ctx.add(f"{folder}/{chart.download}", csv_bytes(table, text_columns=tuple(c for c in table.columns if table[c].dtype == object)))
    rows = [[_cell(v) for v in row] for row in table.head(TABLE_ROWS).itertuples(index=False)]
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
