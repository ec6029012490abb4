"""Reading a canonical CSV file: unreadable files become located errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import Location, Problem
from generator.load.csv_table import CsvTable, CsvUnreadable, read_csv_table
from generator.load.timestamps import (
    FIRST_YEAR,
    LAST_YEAR,
    ParsedInstants,
    out_of_range,
    parse_instants,
)
from generator.sources.base import ReadContext
from generator.sources.rows import row_problems


def open_csv(
    path: Path, ctx: ReadContext, delimiter: str = ",", *, repeated_headers: bool = False
) -> tuple[CsvTable | None, list[Problem]]:
    """The file as a table, or None with E200; W213 for a header name given twice (unless the
    format repeats headers on purpose, as Jira's export does)."""
    file = ctx.rel(path)
    try:
        table = read_csv_table(path, delimiter)
        return table, [] if repeated_headers else repeated_header_problems(table, file)
    except CsvUnreadable as exc:
        code = "E122" if exc.reason == "file not found" else "E200"
        return None, [
            Problem(
                code,
                "error",
                Location(file, exc.line, exc.col),
                f"cannot read this CSV file: {exc.reason}",
                exc.hint,
            )
        ]


def parse_time_column(
    column: pa.Array, ctx: ReadContext, file: str, lines: np.ndarray, name: str, *, required: bool
) -> tuple[ParsedInstants, list[Problem]]:
    """Parse a timestamp column and warn about invalid, missing and DST-adjusted values."""
    parsed = parse_instants(column, ctx.timezone)
    return parsed, time_problems(parsed, column, ctx, file, lines, name, required=required)


def time_problems(
    parsed: ParsedInstants,
    column: pa.Array,
    ctx: ReadContext,
    file: str,
    lines: np.ndarray,
    name: str,
    *,
    required: bool,
) -> list[Problem]:
    """W202 (invalid, or empty where required), W208 and W209 for a parsed timestamp column."""
    problems: list[Problem] = []
    texts = (
        column.to_pylist()
        if (parsed.invalid.any() or parsed.ambiguous.any() or parsed.nonexistent.any())
        else []
    )
    skip = "row skipped" if required else "value ignored"
    problems += row_problems(
        "W202",
        file,
        parsed.invalid,
        lines,
        lambda i: (
            f"{name} '{texts[i]}' is outside the years {FIRST_YEAR} to {LAST_YEAR} this tool reads; {skip}"
            if out_of_range(texts[i])
            else f"{name} '{texts[i]}' is not an ISO 8601 date or instant; {skip}"
        ),
        "write it like 2026-03-05T14:30:00+01:00, 2026-03-05T14:30:00Z or 2026-03-05",
    )
    if required:
        problems += row_problems(
            "W202",
            file,
            parsed.empty,
            lines,
            lambda i: f"{name} is empty; row skipped",
            f"every row needs a {name}",
        )
    problems += row_problems(
        "W208",
        file,
        parsed.ambiguous,
        lines,
        lambda i: (
            f"{name} '{texts[i]}' occurs twice in {ctx.timezone} (clocks went back); the earlier instant was taken"
        ),
        "add the UTC offset to timestamps (e.g. +02:00) to make them exact",
    )
    problems += row_problems(
        "W209",
        file,
        parsed.nonexistent,
        lines,
        lambda i: (
            f"{name} '{texts[i]}' does not exist in {ctx.timezone} (clocks went forward); moved forward by the gap"
        ),
        "add the UTC offset to timestamps (e.g. +02:00) to make them exact",
    )
    return problems


def null_if_blank(column: pa.Array) -> pa.Array:
    return pc.if_else(pc.equal(pc.utf8_length(column), 0), pa.scalar(None, pa.string()), column)


def repeated_header_problems(table: CsvTable, file: str, shown: int = 5) -> list[Problem]:
    """W213 for each header name that appears more than once (the first such column is read)."""
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(table.header):
        seen.setdefault("".join(name.split()).casefold(), []).append(i + 1)
    out = []
    for columns in seen.values():
        if len(columns) > 1:
            name = table.header[columns[0] - 1]
            listed = ", ".join(str(c) for c in columns[:shown]) + (
                ", ..." if len(columns) > shown else ""
            )
            out.append(
                Problem(
                    "W213",
                    "warning",
                    Location(file, 1),
                    f"column '{name}' appears {len(columns)} times in the header (columns {listed}); the first is read",
                    "rename or remove the other columns",
                )
            )
    return out
