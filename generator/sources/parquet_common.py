"""Reading Parquet sources: a file, or a folder of files read in path order, one row group at a time.

A file whose footer or data cannot be read is E200, a required column that is
missing E201, a column of the wrong type E202; each names the file (and, for
data that cannot be decoded, the first row of the row group). The `line` of a
Parquet row is its number in its file, the first row being 1.

Events are read row group by row group (`Piece`), in one process (the pandas
engine) or on a cluster's workers (the dask engine); the row warnings of the
pieces are merged by `merge_row_problems` into exactly what one pass over the
whole file would report, so both engines report the same problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from generator.errors import Location, Problem
from generator.load.timestamps import NAT, ParsedInstants, parse_instants
from generator.sources.base import ReadContext
from generator.sources.csv_common import time_problems
from generator.sources.rows import ROW_PROBLEM_CAP, fold_problem

SUFFIXES = (".parquet", ".parq", ".pq")
Kind = Literal["text", "instant", "flag"]
EXPECTED = {
    "text": "text (string), or integers",
    "instant": "a timestamp (with a time zone, or a wall time in the stream's zone), a date, or ISO 8601 text",
    "flag": "a boolean, or text (true/false, 1/0, yes/no)",
}


@dataclass(frozen=True)
class Column:
    name: str  # the canonical name (item_id, timestamp, ...)
    kind: Kind
    required: bool


@dataclass(frozen=True)
class Piece:
    """One row group of one file of a source."""

    path: str  # absolute
    file: str  # project-relative, for messages
    file_rank: int  # position of the file among the source's files (path order)
    row_group: int
    first_row: int  # rows of the file before this row group
    rows: int
    columns: tuple[tuple[str, str], ...]  # canonical name -> the file's column name


@dataclass
class Plan:
    """A source's pieces, from the files' footers (no data read), and the problems found there."""

    pieces: list[Piece]
    problems: list[Problem]
    inputs: list[str]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.pieces)


def list_files(path: Path) -> list[Path]:
    """The Parquet files of a source: the file itself, or the folder's files in path order
    (hidden files and `_`-prefixed ones, such as `_SUCCESS` and `_metadata`, skipped)."""
    if path.is_file():
        return [path]
    found = [
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix.lower() in SUFFIXES
        and not any(part.startswith((".", "_")) for part in p.relative_to(path).parts)
    ]
    return sorted(found, key=lambda p: p.relative_to(path).as_posix())


def _norm(name: str) -> str:
    return "".join(name.split()).casefold()


def _find(names: Sequence[str], wanted: str) -> str | None:
    """The file's column for a canonical name: exact, then ignoring case and spaces."""
    if wanted in names:
        return wanted
    for name in names:
        if _norm(name) == _norm(wanted):
            return name
    return None


def _accepts(kind: Kind, t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    if pa.types.is_null(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        return True
    if kind == "text":
        return bool(pa.types.is_integer(t))
    if kind == "instant":
        return bool(pa.types.is_timestamp(t) or pa.types.is_date(t))
    return bool(pa.types.is_boolean(t))


def _unreadable(file: str, reason: object, line: int | None = None) -> Problem:
    return Problem(
        "E200",
        "error",
        Location(file, line),
        f"cannot read this Parquet file: {reason}",
        "write the file again (a copy cut short or a file that is not Parquet cannot be read)",
    )


def plan(path: Path, ctx: ReadContext, columns: Sequence[Column]) -> Plan:
    """Open every file's footer: its row groups become pieces; bad files and columns are errors."""
    out = Plan([], [], [])
    files = list_files(path)
    if not files:
        out.problems.append(
            Problem(
                "E200",
                "error",
                Location(ctx.rel(path)),
                "no Parquet files in this folder",
                f"a Parquet source is a file, or a folder of {', '.join(SUFFIXES)} files",
            )
        )
        return out
    for rank, found in enumerate(files):
        file = ctx.rel(found)
        out.inputs.append(file)
        try:
            meta = pq.ParquetFile(found)
            schema = meta.schema_arrow
        except (OSError, pa.ArrowException) as exc:
            out.problems.append(_unreadable(file, exc))
            continue
        mapping, problems = _columns(schema, file, columns)
        out.problems += problems
        if problems:
            continue
        first = 0
        for group in range(meta.num_row_groups):
            rows = meta.metadata.row_group(group).num_rows
            out.pieces.append(
                Piece(str(found), file, rank, group, first, rows, tuple(mapping.items()))
            )
            first += rows
    return out


def _columns(
    schema: pa.Schema, file: str, columns: Sequence[Column]
) -> tuple[dict[str, str], list[Problem]]:
    mapping: dict[str, str] = {}
    problems: list[Problem] = []
    names = list(schema.names)
    for column in columns:
        found = _find(names, column.name)
        if found is None:
            if column.required:
                close = get_close_matches(column.name, names, n=1, cutoff=0.6)
                problems.append(
                    Problem(
                        "E201",
                        "error",
                        Location(file),
                        f"required column '{column.name}' is missing (found: {', '.join(names)})",
                        f"did you mean '{close[0]}'? Rename that column to '{column.name}'"
                        if close
                        else f"add a '{column.name}' column",
                    )
                )
            continue
        kind = schema.field(found).type
        if not _accepts(column.kind, kind):
            problems.append(
                Problem(
                    "E202",
                    "error",
                    Location(file),
                    f"column '{found}' holds {kind}; {column.name} must be {EXPECTED[column.kind]}",
                    "write the column with one of those types (docs/sources.md lists them)",
                )
            )
            continue
        mapping[column.name] = found
    return mapping, problems


def read_piece(piece: Piece) -> tuple[pa.Table | None, list[Problem]]:
    """One row group's columns, renamed to the canonical names; None with E200 when unreadable."""
    try:
        table = pq.ParquetFile(piece.path).read_row_group(
            piece.row_group, columns=[name for _, name in piece.columns]
        )
    except (OSError, pa.ArrowException) as exc:
        return None, [_unreadable(piece.file, exc, piece.first_row + 1)]
    return table.rename_columns([canonical for canonical, _ in piece.columns]), []


def text(table: pa.Table, name: str) -> pa.Array:
    """A trimmed string column (integers written as text), or all-null when absent."""
    if name not in table.column_names:
        return pa.nulls(table.num_rows, pa.string())
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    return pc.utf8_trim_whitespace(column.cast(pa.string()))


def instants(
    table: pa.Table,
    name: str,
    ctx: ReadContext,
    file: str,
    lines: np.ndarray,
    *,
    required: bool,
) -> tuple[ParsedInstants, list[Problem]]:
    """A timestamp column as UTC ns: exact for zoned timestamps; wall times, dates and text are
    read as the CSV readers read them (the stream's zone, DST warnings)."""
    column = table.column(name).combine_chunks()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_timestamp(column.type) and column.type.tz is not None:
        utc = column.cast(pa.timestamp("ns", tz="UTC")).cast(pa.int64())
        empty = np.asarray(utc.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        ns = pc.fill_null(utc, NAT).to_numpy(zero_copy_only=False).astype(np.int64)
        false = np.zeros(len(ns), dtype=bool)
        parsed = ParsedInstants(ns, false, empty, false.copy(), false.copy())
    else:
        column = pc.cast(column, pa.string()) if not pa.types.is_string(column.type) else column
        parsed = parse_instants(column, ctx.timezone)
    return parsed, time_problems(parsed, column, ctx, file, lines, name, required=required)


def merge_row_problems(pieces: Sequence[Sequence[Problem]]) -> list[Problem]:
    """The row warnings of consecutive pieces of the files as one pass over each file reports them.

    Each piece lists up to ROW_PROBLEM_CAP rows of a kind and folds the rest into one entry from
    its first row; a piece's fold always comes after that many of its own rows, so the first
    ROW_PROBLEM_CAP entries of all pieces are single rows, and the entry where the count passes
    the cap starts at the first row to fold.
    """
    groups: dict[tuple[str, str, str, str], list[Problem]] = {}
    for problems in pieces:
        for p in problems:
            groups.setdefault((p.code, p.severity, p.location.path, p.hint), []).append(p)
    out: list[Problem] = []
    for (code, _, file, hint), found in groups.items():
        total = sum(p.count for p in found)
        if total <= ROW_PROBLEM_CAP:
            out += found
            continue
        out += found[:ROW_PROBLEM_CAP]
        seen = 0
        for p in found:
            seen += p.count
            if seen > ROW_PROBLEM_CAP:
                out.append(
                    fold_problem(code, file, p.location.line or 0, total - ROW_PROBLEM_CAP, hint)
                )
                break
    return out
