"""`events-parquet`: the canonical state log as Parquet, one file or a folder of files.

The columns and rules are those of `events-csv` (docs/sources.md); see
parquet_common.py for how files are found and read. The pandas engine reads
every row group here, in order; the dask engine reads the same row groups with
`piece_events` on its workers (generator/engines/dask_input.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import Problem
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import null_if_blank
from generator.sources.events_csv import parse_blocked
from generator.sources.parquet_common import (
    Column,
    Piece,
    instants,
    merge_row_problems,
    plan,
    read_piece,
    text,
)
from generator.sources.rows import is_blank, row_problems

COLUMNS = (
    Column("item_id", "text", True),
    Column("timestamp", "instant", True),
    Column("state", "text", True),
    Column("blocked", "flag", False),
    Column("actor", "text", False),
)
SKIPPED = (
    "rows without a valid timestamp",
    "rows without an item_id",
    "rows without a state",
)


class Options(SourceOptions):
    kind: Literal["events-parquet"]


@dataclass
class PieceEvents:
    """One row group as canonical events (item_id, ts, state, blocked, actor, line, file)."""

    events: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    has_actor: bool = False


def _blocked(table: pa.Table) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """blocked as int8 (1, 0, -1 unchanged), a mask of unreadable values, and the text read."""
    if "blocked" not in table.column_names:
        none = pa.nulls(table.num_rows, pa.string())
        return np.full(table.num_rows, -1, dtype=np.int8), np.zeros(table.num_rows, bool), none
    column = table.column("blocked").combine_chunks()
    if pa.types.is_boolean(column.type):
        flag = pc.fill_null(column.cast(pa.int8()), -1).to_numpy(zero_copy_only=False)
        return flag.astype(np.int8), np.zeros(len(flag), bool), column.cast(pa.string())
    words = text(table, "blocked")
    values, bad = parse_blocked(words)
    return values, bad, words


def piece_events(piece: Piece, ctx: ReadContext) -> PieceEvents:
    """Read one row group; its rows get their number in the file as `line`."""
    table, problems = read_piece(piece)
    file = piece.file
    if table is None:
        return PieceEvents(_empty(), problems)
    n = table.num_rows
    lines = np.arange(piece.first_row + 1, piece.first_row + n + 1, dtype=np.int64)
    item_id = text(table, "item_id")
    state = text(table, "state")
    actor = null_if_blank(text(table, "actor"))
    parsed, found = instants(table, "timestamp", ctx, file, lines, required=True)
    problems += found
    blocked, bad_blocked, blocked_text = _blocked(table)
    blocked_texts = blocked_text.to_pylist() if bad_blocked.any() else []
    problems += row_problems(
        "W205",
        file,
        bad_blocked,
        lines,
        lambda i: f"blocked value '{blocked_texts[i]}' is not true/false; treated as unchanged",
        "write true or false (1/0 and yes/no also work), or leave it empty",
    )
    no_item = is_blank(item_id)
    problems += row_problems(
        "W203",
        file,
        no_item,
        lines,
        lambda i: "item_id is empty; row skipped",
        "every row needs the item's key",
    )
    no_state = is_blank(state) & (blocked < 0) & ~no_item
    problems += row_problems(
        "W204",
        file,
        no_state,
        lines,
        lambda i: "state is empty and blocked does not change; row skipped",
        "every row needs the state the item is in from this instant on",
    )
    bad_time = parsed.invalid | parsed.empty
    keep = ~(bad_time | no_item | no_state)
    mask = pa.array(keep)
    events = pd.DataFrame(
        {
            "item_id": pd.Series(item_id.filter(mask), dtype="string"),
            "ts": parsed.ns[keep],
            "state": pd.Series(state.filter(mask), dtype="string"),
            "blocked": blocked[keep],
            "actor": pd.Series(actor.filter(mask), dtype="string"),
            "line": lines[keep],
        }
    )
    events["file"] = file
    skipped = dict(
        zip(
            SKIPPED,
            (
                int((bad_time & ~no_item).sum()),
                int(no_item.sum()),
                int(no_state.sum()),
            ),
            strict=True,
        )
    )
    return PieceEvents(events, problems, skipped, "actor" in table.column_names)


def _empty() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "item_id": pd.Series([], dtype="string"),
            "ts": np.zeros(0, dtype=np.int64),
            "state": pd.Series([], dtype="string"),
            "blocked": np.zeros(0, dtype=np.int8),
            "actor": pd.Series([], dtype="string"),
            "line": np.zeros(0, dtype=np.int64),
            "file": pd.Series([], dtype="string"),
        }
    )


def combine(parts: list[PieceEvents]) -> tuple[list[Problem], dict[str, int], bool]:
    """The problems, skipped counts and actor note of a source's pieces, read in order."""
    skipped = {reason: sum(p.skipped.get(reason, 0) for p in parts) for reason in SKIPPED}
    problems = merge_row_problems([p.problems for p in parts])
    return problems, skipped, any(p.has_actor for p in parts)


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    found = plan(path, ctx, COLUMNS)
    data = SourceData(inputs=found.inputs, problems=list(found.problems))
    if any(p.severity == "error" for p in found.problems):
        return data
    parts = [piece_events(piece, ctx) for piece in found.pieces]
    problems, data.skipped, has_actor = combine(parts)
    data.problems += problems
    frames = [p.events for p in parts if len(p.events)]
    data.events = pd.concat(frames, ignore_index=True) if frames else _empty()
    data.notes["has_actor"] = has_actor
    return data
