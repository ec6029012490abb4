"""`items-parquet`: item attributes as Parquet, one file or a folder of files.

The columns and rules are those of `items-csv` (docs/sources.md): each file's
columns are read as text and checked by the items-csv reader; an item listed
again in a later file of the folder is W212 too (the first row is used).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import Problem
from generator.load.csv_table import CsvTable
from generator.sources import items_csv
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.parquet_common import Column, plan, read_piece, text
from generator.sources.rows import row_problems

COLUMNS = (
    Column("item_id", "text", True),
    Column("type", "text", False),
    Column("title", "text", False),
    Column("created", "instant", False),
    Column("url", "text", False),
)


class Options(SourceOptions):
    kind: Literal["items-parquet"]


def _as_text(table: pa.Table, name: str) -> pa.Array:
    """A column as the CSV reader would see it: zoned timestamps as ISO 8601 with an offset."""
    column = table.column(name).combine_chunks()
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        column = column.cast(pa.timestamp("ns", tz="UTC"))
        return pc.replace_substring(column.cast(pa.string()), " ", "T")
    return text(table, name)


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    found = plan(path, ctx, COLUMNS)
    data = SourceData(inputs=found.inputs, problems=list(found.problems))
    if any(p.severity == "error" for p in found.problems):
        return data
    frames: list[pd.DataFrame] = []
    for file in dict.fromkeys(piece.file for piece in found.pieces):
        tables = []
        for piece in (p for p in found.pieces if p.file == file):
            table, problems = read_piece(piece)
            data.problems += problems
            if table is not None:
                tables.append(table)
        if len(tables) < sum(1 for p in found.pieces if p.file == file):
            continue
        whole = pa.concat_tables(tables, promote_options="permissive") if tables else None
        if whole is None or not whole.num_rows:
            continue
        names = whole.column_names
        columns = CsvTable(
            header=names,
            columns=[_as_text(whole, name) for name in names],
            lines=np.arange(1, whole.num_rows + 1, dtype=np.int64),
        )
        part = items_csv.read_table(columns, file, ctx, SourceData())
        data.problems += part.problems
        for reason, count in part.skipped.items():
            data.skipped[reason] = data.skipped.get(reason, 0) + count
        if part.items is not None:
            frames.append(part.items)
    if frames:
        items = pd.concat(frames, ignore_index=True)
        again = items["item_id"].duplicated(keep="first").to_numpy()
        ids = items["item_id"].to_numpy(dtype=object)
        for file in dict.fromkeys(items["file"]):
            rows = np.flatnonzero((items["file"] == file).to_numpy())
            data.problems += _listed_again(str(file), rows, again, ids, items["line"].to_numpy())
        data.skipped["repeated item rows"] = data.skipped.get("repeated item rows", 0) + int(
            again.sum()
        )
        data.items = items[~again].reset_index(drop=True)
    return data


def _listed_again(
    file: str, rows: np.ndarray, again: np.ndarray, ids: np.ndarray, lines: np.ndarray
) -> list[Problem]:
    """W212 for the rows of one file whose item an earlier file (or row) already listed."""
    return row_problems(
        "W212",
        file,
        again[rows],
        lines[rows],
        lambda i: f"item '{ids[rows[i]]}' is listed again; the first row is used",
        "keep one row per item",
    )
