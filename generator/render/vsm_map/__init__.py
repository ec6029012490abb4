"""The value stream map (MAP.md): a hand-built SVG, and the same figures as an HTML table.

`map_model` gathers what the map shows from a period summary (`aggregates.period_metrics(...).summary`),
an optional baseline summary and the metrics.json comparison; `render_map` lays it out left to right in
stream order, wrapping into rows so 3 to 15 stages stay readable at 1200 px; `map_table` is the
screen-reader and print equivalent. Pure functions: the same model gives the same bytes. Every piece of
text from YAML or exports is escaped; ids come only from stage ids and a sanitised prefix.

The package: model.py (what the map shows), text.py (measuring and wording),
layout.py (geometry), svg.py and rows.py and draw.py (the SVG), table.py (the
text alternative).
"""

from __future__ import annotations

from generator.render.vsm_map.draw import render_map
from generator.render.vsm_map.layout import COL, PAD, M, W, flow_rows, layout_cells
from generator.render.vsm_map.model import MapModel, map_model
from generator.render.vsm_map.table import map_table
from generator.render.vsm_map.text import text_width, wrap

__all__ = [
    "COL",
    "PAD",
    "M",
    "MapModel",
    "W",
    "flow_rows",
    "layout_cells",
    "map_model",
    "map_table",
    "render_map",
    "text_width",
    "wrap",
]
