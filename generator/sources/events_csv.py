"""`events-csv`: the canonical state log (item_id, timestamp, state, blocked, actor)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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

TRUE_WORDS = ("true", "1", "yes", "y", "t")
FALSE_WORDS = ("false", "0", "no", "n", "f")


class Options(SourceOptions):
    kind: Literal["events-csv"]


def parse_blocked(column: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """blocked text -> int8 (1, 0, -1 unchanged) and a mask of values that are not booleans."""
    lowered = pc.utf8_lower(pc.fill_null(column, ""))
    true = pc.is_in(lowered, value_set=pa.array(TRUE_WORDS)).to_numpy(zero_copy_only=False)
    false = pc.is_in(lowered, value_set=pa.array(FALSE_WORDS)).to_numpy(zero_copy_only=False)
    blank = is_blank(column)
    out = np.full(len(column), -1, dtype=np.int8)
    out[true] = 1
    out[false] = 0
    return out, ~(true | false | blank)


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    table, problems = open_csv(path, ctx)
    data.problems += problems
    if table is None:
        return data
    cols, problems = require_columns(
        table, file, ("item_id", "timestamp", "state"), ("blocked", "actor")
    )
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    lines = table.lines
    item_id = text_column(table, cols["item_id"])
    state = text_column(table, cols["state"])
    blocked_text = text_column(table, cols.get("blocked"))
    actor = null_if_blank(text_column(table, cols.get("actor")))

    parsed, problems = parse_time_column(
        table.columns[cols["timestamp"]], ctx, file, lines, "timestamp", required=True
    )
    data.problems += problems
    blocked, bad_blocked = parse_blocked(blocked_text)
    blocked_texts = blocked_text.to_pylist() if bad_blocked.any() else []
    data.problems += row_problems(
        "W205",
        file,
        bad_blocked,
        lines,
        lambda i: f"blocked value '{blocked_texts[i]}' is not true/false; treated as unchanged",
        "write true or false (1/0 and yes/no also work), or leave it empty",
    )
    no_item = is_blank(item_id)
    data.problems += row_problems(
        "W203",
        file,
        no_item,
        lines,
        lambda i: "item_id is empty; row skipped",
        "every row needs the item's key",
    )
    no_state = is_blank(state) & (blocked < 0) & ~no_item
    data.problems += row_problems(
        "W204",
        file,
        no_state,
        lines,
        lambda i: "state is empty and blocked does not change; row skipped",
        "every row needs the state the item is in from this instant on",
    )
    bad_time = parsed.invalid | parsed.empty
    skip = bad_time | no_item | no_state
    data.skipped = {
        **skipped_rows(table),
        "rows without a valid timestamp": int((bad_time & ~no_item).sum()),
        "rows without an item_id": int(no_item.sum()),
        "rows without a state": int(no_state.sum()),
    }
    keep = ~skip
    data.events = pd.DataFrame(
        {
            "item_id": pd.Series(item_id.filter(pa.array(keep)), dtype="string"),
            "ts": parsed.ns[keep],
            "state": pd.Series(state.filter(pa.array(keep)), dtype="string"),
            "blocked": blocked[keep],
            "actor": pd.Series(actor.filter(pa.array(keep)), dtype="string"),
            "line": lines[keep],
        }
    )
    data.events["file"] = file
    data.notes["has_actor"] = "actor" in cols
    return data
