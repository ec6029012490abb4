"""`items-csv`: item attributes (item_id, type, title, created, url)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.load.csv_table import CsvTable
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import null_if_blank, open_csv, parse_time_column
from generator.sources.rows import (
    bad_row_problems,
    is_blank,
    require_columns,
    row_problems,
    skipped_rows,
    text_column,
)


class Options(SourceOptions):
    kind: Literal["items-csv"]


def safe_url_mask(url: pa.Array) -> np.ndarray:
    """True where a url is present and is http or https (anything else is never linked)."""
    lowered = pc.utf8_lower(pc.fill_null(url, ""))
    ok = pc.or_(pc.starts_with(lowered, "http://"), pc.starts_with(lowered, "https://"))
    return np.asarray(ok.to_numpy(zero_copy_only=False), dtype=bool)


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    table, problems = open_csv(path, ctx)
    data.problems += problems
    if table is None:
        return data
    return read_table(table, file, ctx, data)


def read_table(table: CsvTable, file: str, ctx: ReadContext, data: SourceData) -> SourceData:
    """Items from text columns (a CSV file's, or a Parquet file's written as text) into `data`."""
    cols, problems = require_columns(table, file, ("item_id",), ("type", "title", "created", "url"))
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    lines = table.lines
    item_id = text_column(table, cols["item_id"])
    no_item = is_blank(item_id)
    data.problems += row_problems(
        "W203",
        file,
        no_item,
        lines,
        lambda i: "item_id is empty; row skipped",
        "every row needs the item's key",
    )
    ids = pd.Series(item_id, dtype="string")
    dup = ids.duplicated(keep="first").to_numpy() & ~no_item
    dup_ids = ids.to_numpy(dtype=object)
    data.problems += row_problems(
        "W212",
        file,
        dup,
        lines,
        lambda i: f"item '{dup_ids[i]}' is listed again; the first row is used",
        "keep one row per item",
    )
    created = np.full(table.num_rows, np.iinfo(np.int64).min, dtype=np.int64)
    if "created" in cols:
        parsed, problems = parse_time_column(
            table.columns[cols["created"]], ctx, file, lines, "created", required=False
        )
        data.problems += problems
        created = parsed.ns
    url = null_if_blank(text_column(table, cols.get("url")))
    present = ~is_blank(url)
    safe = safe_url_mask(url)
    urls = url.to_pylist() if (present & ~safe).any() else []
    data.problems += row_problems(
        "W210",
        file,
        present & ~safe,
        lines,
        lambda i: f"url '{str(urls[i])[:80]}' is not http or https; it is not linked",
        "tracker links must start with http:// or https://",
    )
    url = pc.if_else(pa.array(safe), url, pa.scalar(None, pa.string()))
    keep = ~(no_item | dup)
    mask = pa.array(keep)
    data.skipped = {
        **skipped_rows(table, "item rows"),
        "item rows without an item_id": int(no_item.sum()),
        "repeated item rows": int(dup.sum()),
    }
    created_series = pd.array(created[keep], dtype="Int64")
    created_series[created[keep] == np.iinfo(np.int64).min] = pd.NA
    data.items = pd.DataFrame(
        {
            "item_id": pd.Series(item_id.filter(mask), dtype="string"),
            "type": pd.Series(
                null_if_blank(text_column(table, cols.get("type"))).filter(mask), dtype="string"
            ),
            "title": pd.Series(
                null_if_blank(text_column(table, cols.get("title"))).filter(mask), dtype="string"
            ),
            "created": created_series,
            "url": pd.Series(url.filter(mask), dtype="string"),
            "line": lines[keep],
        }
    )
    data.items["file"] = file
    return data
