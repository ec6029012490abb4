"""Helpers every row-based reader shares: per-row warnings and column lookup."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import get_close_matches

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from generator.errors import Location, Problem
from generator.load.csv_table import CsvTable

# Rows listed one by one per (file, code); the rest are folded into one entry with a count.
ROW_PROBLEM_CAP = 20


def row_problems(
    code: str,
    file: str,
    mask: np.ndarray,
    lines: np.ndarray,
    message: Callable[[int], str],
    hint: str,
    severity: str = "warning",
    cols: np.ndarray | None = None,
) -> list[Problem]:
    """One warning per flagged row (first ROW_PROBLEM_CAP), then one folded entry for the rest;
    `cols` gives the column of each row's problem when it is known."""
    idx = np.flatnonzero(mask)
    out = [
        Problem(
            code,
            "warning" if severity == "warning" else "error",
            Location(file, int(lines[i]), None if cols is None else int(cols[i])),
            message(int(i)),
            hint,
        )
        for i in idx[:ROW_PROBLEM_CAP]
    ]
    rest = idx[ROW_PROBLEM_CAP:]
    if len(rest):
        out.append(fold_problem(code, file, int(lines[rest[0]]), len(rest), hint))
    return out


def fold_problem(code: str, file: str, line: int, count: int, hint: str) -> Problem:
    """The one entry for `count` more flagged rows of one kind, from `line` on."""
    return Problem(
        code,
        "warning",
        Location(file, line),
        f"{count} more rows like the ones above, from this line on",
        hint,
        count=count,
    )


def require_columns(
    table: CsvTable, file: str, required: Sequence[str], optional: Sequence[str] = ()
) -> tuple[dict[str, int], list[Problem]]:
    """Find named columns; a missing required one is an E201 error with a did-you-mean."""
    found: dict[str, int] = {}
    problems: list[Problem] = []
    for name in (*required, *optional):
        pos = table.find(name)
        if pos is not None:
            found[name] = pos
        elif name in required:
            close = get_close_matches(name, table.header, n=1, cutoff=0.6)
            hint = (
                f"did you mean '{close[0]}'? Rename that column to '{name}'"
                if close
                else f"add a '{name}' column to the header"
            )
            problems.append(
                Problem(
                    "E201",
                    "error",
                    Location(file, 1),
                    f"required column '{name}' is missing (found: {_listed(table.header)})",
                    hint,
                )
            )
    return found, problems


def _listed(names: Sequence[str], shown: int = 20) -> str:
    """The first `shown` names and how many more (a header can have 100,000 columns)."""
    more = f", and {len(names) - shown:,} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def text_column(table: CsvTable, pos: int | None) -> pa.Array:
    """A trimmed string column, or all-null when the column is absent."""
    if pos is None:
        return pa.nulls(table.num_rows, type=pa.string())
    return pc.utf8_trim_whitespace(table.columns[pos])


def is_blank(column: pa.Array) -> np.ndarray:
    return np.asarray(
        pc.fill_null(pc.equal(pc.utf8_length(column), 0), True).to_numpy(zero_copy_only=False),
        dtype=bool,
    )


def bad_row_problems(table: CsvTable, file: str) -> list[Problem]:
    """W206 for rows whose number of fields does not match the header; W211 for rows holding
    bytes that are not text (invalid UTF-8, NUL)."""
    lines = np.array([b.line for b in table.bad_rows], dtype=np.int64)
    mask = np.ones(len(lines), dtype=bool)
    text_lines = np.array([b.line for b in table.bad_text], dtype=np.int64)
    return row_problems(
        "W206",
        file,
        mask,
        lines,
        lambda i: (
            f"row has {table.bad_rows[i].actual} fields, the header has {table.bad_rows[i].expected}; row skipped"
        ),
        "quote values that contain the delimiter, or fix the row",
    ) + row_problems(
        "W211",
        file,
        np.ones(len(text_lines), dtype=bool),
        text_lines,
        lambda i: (
            f"not valid UTF-8 text ({table.bad_text[i].detail} at column {table.bad_text[i].column}); row skipped"
        ),
        "save or export the file as UTF-8; a stray byte like this often comes from a copy in another encoding",
        cols=np.array([b.column for b in table.bad_text], dtype=np.int64),
    )


def skipped_rows(table: CsvTable, what: str = "rows") -> dict[str, int]:
    """Counts for the data-quality page: rows with the wrong number of fields, rows not text."""
    counts = {f"{what} with the wrong number of fields": len(table.bad_rows)}
    if table.bad_text:  # only said when there are some (a clean file's figures do not change)
        counts[f"{what} that are not valid UTF-8 text"] = len(table.bad_text)
    return counts
