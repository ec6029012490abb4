"""`dates-csv`: one row per item with a date column per state or milestone.

`columns` maps each date column to the state the item enters on that date, in
milestone order. Every filled cell becomes an event; empty cells are skipped.
A milestone dated before an earlier one (finished before created) is a W223
data problem: by default the row is skipped (counted), or with
`out_of_order: clamp` the late milestone is moved back to the earlier date.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from generator.errors import Problem
from generator.load.csv_table import CsvTable
from generator.load.timestamps import NAT, strict_iso
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import null_if_blank, open_csv, parse_time_column
from generator.sources.items_csv import safe_url_mask
from generator.sources.rows import (
    bad_row_problems,
    is_blank,
    require_columns,
    row_problems,
    skipped_rows,
    text_column,
)

_DATE_ONLY = r"^\d{4}-\d{2}-\d{2}$"


class Options(SourceOptions):
    kind: Literal["dates-csv"]
    columns: dict[str, str] = Field(
        min_length=1
    )  # date column -> state entered on that date, in milestone order
    id_column: str = "id"
    type_column: str | None = None
    title_column: str | None = None
    created_column: str | None = None  # default: the first milestone
    url_column: str | None = None
    date_format: str | None = None  # strptime format; default ISO 8601 (dates or instants)
    timezone: str | None = None  # zone for dates without an offset; default the stream's
    out_of_order: Literal["skip-row", "clamp"] = "skip-row"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value)

    @field_validator("columns")
    @classmethod
    def _states(cls, value: dict[str, str]) -> dict[str, str]:
        if any(not str(k).strip() or not str(v).strip() for k, v in value.items()):
            raise ValueError("every column needs a name and the state it enters")
        return value


def check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. Europe/Berlin)") from None
    return value


def to_iso(column: pa.Array, date_format: str | None) -> tuple[pa.Array, np.ndarray]:
    """Text ready for parse_instants, and the cells that do not match `date_format`.

    A strptime format is applied here (cells that do not match become empty
    and are reported by the caller); bare ISO dates become midnight wall times
    (parse_instants would read the '-DD' of a bare date as an offset).
    """
    if date_format:
        text = pd.Series(column.to_numpy(zero_copy_only=False), dtype="object")
        parsed = pd.to_datetime(text.str.strip(), format=date_format, errors="coerce")
        aware = getattr(parsed.dt, "tz", None) is not None
        out = parsed.dt.strftime("%Y-%m-%dT%H:%M:%S.%f%z" if aware else "%Y-%m-%dT%H:%M:%S.%f")
        blank = (text.isna() | (text.astype("string").str.strip() == "")).to_numpy(dtype=bool)
        bad = parsed.isna().to_numpy(dtype=bool) & ~blank
        return pa.array([v if isinstance(v, str) else None for v in out], type=pa.string()), bad
    safe, bad = strict_iso(column)
    bare = pc.fill_null(pc.match_substring_regex(safe, _DATE_ONLY), False)
    return pc.if_else(bare, pc.binary_join_element_wise(safe, "T00:00:00", ""), safe), bad


def parse_dates(
    column: pa.Array,
    date_format: str | None,
    ctx: ReadContext,
    file: str,
    lines: np.ndarray,
    name: str,
) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """UTC ns (NAT where empty or invalid), the invalid cells, and W202/W208/W209 for one date column."""
    iso, bad = to_iso(column, date_format)
    parsed, problems = parse_time_column(iso, ctx, file, lines, name, required=False)
    texts = column.to_pylist() if bad.any() else []
    expected = (
        f"does not match date_format '{date_format}'"
        if date_format
        else "is not an ISO 8601 date or instant"
    )
    hint = (
        f"dates must look like date_format '{date_format}' (strptime codes)"
        if date_format
        else "write it like 2026-03-05, 2026-03-05T14:30:00 or 2026-03-05T14:30:00+01:00"
    )
    problems += row_problems(
        "W202", file, bad, lines, lambda i: f"{name} '{texts[i]}' {expected}; value ignored", hint
    )
    return parsed.ns, parsed.invalid | bad, problems


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file])
    table, problems = open_csv(path, ctx)
    data.problems += problems
    if table is None:
        return data
    optional = [
        c
        for c in (
            options.type_column,
            options.title_column,
            options.created_column,
            options.url_column,
        )
        if c
    ]
    cols, problems = require_columns(table, file, (options.id_column, *options.columns, *optional))
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    zone_ctx = ReadContext(
        ctx.project, ctx.stream_dir, options.timezone or ctx.timezone, ctx.source_index
    )
    lines = table.lines
    n = table.num_rows
    item_id = text_column(table, cols[options.id_column])
    no_item = is_blank(item_id)
    data.problems += row_problems(
        "W203",
        file,
        no_item,
        lines,
        lambda i: f"{options.id_column} is empty; row skipped",
        "every row needs the item's key",
    )

    # one ns column per milestone, in mapping order (NAT where empty or invalid)
    names = list(options.columns)
    stamps = np.full((n, len(names)), NAT, dtype=np.int64)
    invalid = np.zeros(n, dtype=bool)
    for j, name in enumerate(names):
        stamps[:, j], bad, problems = parse_dates(
            text_column(table, cols[name]), options.date_format, zone_ctx, file, lines, name
        )
        data.problems += problems
        invalid |= bad
    created = np.full(n, NAT, dtype=np.int64)
    if options.created_column:
        if options.created_column in options.columns:
            created = stamps[:, names.index(options.created_column)]
        else:
            created, _, problems = parse_dates(
                text_column(table, cols[options.created_column]),
                options.date_format,
                zone_ctx,
                file,
                lines,
                options.created_column,
            )
            data.problems += problems

    # out of order: a milestone earlier than the latest milestone (or created) before it
    check = (
        np.column_stack((created, stamps))
        if options.created_column and options.created_column not in options.columns
        else stamps
    )
    valid = check != NAT
    running = np.maximum.accumulate(np.where(valid, check, np.iinfo(np.int64).min), axis=1)
    before = np.zeros_like(valid)
    before[:, 1:] = valid[:, 1:] & (check[:, 1:] < running[:, :-1])
    late = before.any(axis=1) & ~no_item
    headers = (["created"] if check.shape[1] > len(names) else []) + names
    ids = item_id.to_pylist() if late.any() else []

    def late_message(i: int) -> str:
        j = int(np.flatnonzero(before[i])[0])
        k = int(np.flatnonzero(valid[i, :j] & (check[i, :j] == running[i, j - 1]))[-1])
        return f"item '{ids[i]}': {headers[j]} is before {headers[k]} (negative duration); " + (
            "row skipped"
            if options.out_of_order == "skip-row"
            else f"{headers[j]} moved back to {headers[k]}"
        )

    hint = (
        "check the dates; `out_of_order: clamp` keeps such rows with zero duration"
        if options.out_of_order == "skip-row"
        else "check the dates; such items get a zero duration"
    )
    data.problems += row_problems("W223", file, late, lines, late_message, hint)
    if options.out_of_order == "clamp":
        stamps = np.where(stamps != NAT, np.maximum(stamps, running[:, -len(names) :]), NAT)
        skip_row = no_item
    else:
        skip_row = no_item | late
    no_dates = ~(stamps != NAT).any(axis=1) & ~skip_row
    data.problems += row_problems(
        "W202",
        file,
        no_dates,
        lines,
        lambda i: "no milestone date in this row; row skipped",
        f"fill at least one of {', '.join(names)}",
    )
    keep = ~(skip_row | no_dates)
    data.skipped = {
        **skipped_rows(table),
        "rows without an item id": int(no_item.sum()),
        "rows with milestones out of order (W223)"
        + (", clamped" if options.out_of_order == "clamp" else ""): int(late.sum()),
        "rows without any milestone date": int(no_dates.sum()),
        "date cells that are not dates": int(invalid.sum()),
    }
    data.events = _events(item_id, stamps, keep, names, options, lines, file)
    data.items = _items(table, cols, options, item_id, keep, created, lines, file, data)
    data.notes["has_actor"] = False
    return data


def _events(
    item_id: pa.Array,
    stamps: np.ndarray,
    keep: np.ndarray,
    names: list[str],
    options: Options,
    lines: np.ndarray,
    file: str,
) -> pd.DataFrame:
    """One event per filled milestone cell of the kept rows, in milestone order within a row."""
    rows, cols = np.nonzero(
        (stamps != NAT) & keep[:, None]
    )  # row-major: a row's milestones in mapping order
    ids = np.asarray(item_id.to_numpy(zero_copy_only=False), dtype=object)
    states = np.array([options.columns[c] for c in names], dtype=object)
    frame = pd.DataFrame(
        {
            "item_id": pd.array(ids[rows], dtype="string"),
            "ts": stamps[rows, cols],
            "state": pd.array(states[cols], dtype="string"),
            "blocked": np.full(len(rows), -1, dtype=np.int8),
            "actor": pd.array([None] * len(rows), dtype="string"),
            "line": lines[rows],
        }
    )
    frame["file"] = file
    return frame


def _items(
    table: CsvTable,
    cols: dict[str, int],
    options: Options,
    item_id: pa.Array,
    keep: np.ndarray,
    created: np.ndarray,
    lines: np.ndarray,
    file: str,
    data: SourceData,
) -> pd.DataFrame:
    def column(name: str | None) -> pa.Array:
        return null_if_blank(text_column(table, cols[name] if name else None))

    url = column(options.url_column)
    safe = safe_url_mask(url)
    present = ~is_blank(url)
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
    ids = pd.Series(item_id, dtype="string")
    dup = ids.duplicated(keep="first").to_numpy() & keep
    dup_ids = ids.to_numpy(dtype=object)
    data.problems += row_problems(
        "W212",
        file,
        dup,
        lines,
        lambda i: (
            f"item '{dup_ids[i]}' is listed again; its dates are added to the first row's item"
        ),
        "keep one row per item",
    )
    data.skipped["repeated item rows (dates merged)"] = int(dup.sum())
    mask = keep & ~dup
    pick = pa.array(mask)
    created_col = pd.array(created[mask], dtype="Int64")
    created_col[created[mask] == NAT] = pd.NA
    frame = pd.DataFrame(
        {
            "item_id": pd.Series(item_id.filter(pick), dtype="string"),
            "type": pd.Series(column(options.type_column).filter(pick), dtype="string"),
            "title": pd.Series(column(options.title_column).filter(pick), dtype="string"),
            "created": created_col,
            "url": pd.Series(url.filter(pick), dtype="string"),
            "line": lines[mask],
        }
    )
    frame["file"] = file
    return frame
