"""`jira-csv`: Jira's "Export -> CSV" file (current status, created, resolved; no history).

Columns are the instance's fields and may repeat (read by position); the key
is `Issue key`, else `Issue id`. Dates carry no offset and use the instance's
display format with localised month abbreviations (`01/Okt/17 10:15`). Each
issue gives two events at most: `created_state` at Created and, when
resolved, `resolved_state` (or the state its Resolution maps to) at Resolved.
Without status history, cycle time, time in stage, flow efficiency and
blocked time cannot be computed: `notes["no_history"]` says so to the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from generator.load.csv_table import CsvTable
from generator.load.timestamps import NAT, strict_iso
from generator.sources.base import ReadContext, SourceData, SourceOptions, check_base_url
from generator.sources.csv_common import null_if_blank, open_csv, parse_time_column
from generator.sources.dates_csv import check_zone
from generator.sources.rows import (
    bad_row_problems,
    is_blank,
    require_columns,
    row_problems,
    skipped_rows,
    text_column,
)

DEFAULT_FORMATS = ("%d/%b/%y %I:%M %p", "%d/%b/%y %H:%M")
_ENGLISH = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# German, French and Spanish month abbreviations as Java (old and CLDR data) renders them; lower case, no dot
BUILT_IN_MONTHS: dict[str, str] = {
    **{m.casefold(): m for m in _ENGLISH},
    # German
    "mär": "Mar",
    "märz": "Mar",
    "mrz": "Mar",
    "mai": "May",
    "juni": "Jun",
    "juli": "Jul",
    "okt": "Oct",
    "dez": "Dec",
    # French
    "janv": "Jan",
    "févr": "Feb",
    "fevr": "Feb",
    "mars": "Mar",
    "avr": "Apr",
    "juin": "Jun",
    "juil": "Jul",
    "août": "Aug",
    "aout": "Aug",
    "sept": "Sep",
    "déc": "Dec",
    # Spanish
    "ene": "Jan",
    "abr": "Apr",
    "ago": "Aug",
    "dic": "Dec",
}
_MONTH_TOKEN = r"^\s*\d{1,2}[/.\- ](?P<month>[^\d/.\- ][^/\- ]*?)\.?[/.\- ]"


class Options(SourceOptions):
    kind: Literal["jira-csv"]
    date_format: str | None = (
        None  # strptime format; default: '%d/%b/%y %I:%M %p', then '%d/%b/%y %H:%M'
    )
    timezone: str | None = None  # the exporting user's zone; default the stream's
    locale_months: dict[str, str] = Field(
        default_factory=dict
    )  # extra month abbreviations -> English (Jan..Dec)
    created_state: str = "Open"
    resolved_state: str = "Done"
    resolution_states: dict[str, str] = Field(
        default_factory=dict
    )  # Resolution value -> state entered at Resolved (e.g. Duplicate: Won't Do)
    base_url: str | None = None  # links: <base_url>/browse/<Issue key>

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return check_zone(value)

    @field_validator("base_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        return check_base_url(value)

    @field_validator("locale_months")
    @classmethod
    def _months(cls, value: dict[str, str]) -> dict[str, str]:
        english = {m.casefold(): m for m in _ENGLISH}
        out = {}
        for local, month in value.items():
            if str(month).strip().casefold()[:3] not in english:
                raise ValueError(
                    f"locale_months: '{local}' must map to an English abbreviation (Jan..Dec), not '{month}'"
                )
            out[str(local).strip().rstrip(".").casefold()] = english[
                str(month).strip().casefold()[:3]
            ]
        return out


def english_months(column: pa.Array, extra: dict[str, str]) -> tuple[pa.Array, set[str]]:
    """Replace localised month abbreviations by English ones; also returns the tokens not recognised."""
    months = {**BUILT_IN_MONTHS, **extra}
    found = pc.extract_regex(column, _MONTH_TOKEN)
    tokens = (
        {t for t in pc.unique(pc.struct_field(found, [0])).to_pylist() if t}
        if len(column)
        else set()
    )
    unknown: set[str] = set()
    for token in sorted(tokens):
        english = months.get(token.casefold().rstrip("."))
        if english is None:
            unknown.add(token)
        elif english != token:
            column = pc.replace_substring_regex(
                column, rf"^(\s*\d{{1,2}}[/.\- ]){_escape(token)}\.?([/.\- ])", rf"\1{english}\2"
            )
    return column, unknown


def _escape(text: str) -> str:
    return "".join("\\" + c if c in r".^$*+?{}[]\|()" else c for c in text)


def parse_jira_dates(column: pa.Array, formats: tuple[str, ...]) -> tuple[pa.Array, np.ndarray]:
    """Jira display dates -> ISO wall times (the first format that fits wins), and the cells that fit none.

    A cell that fits no format but is ISO 8601 is kept as it is.
    """
    text = pd.Series(column.to_numpy(zero_copy_only=False), dtype="object")
    out = pd.Series([None] * len(text), dtype="object")
    todo = text.notna() & (text.astype("string").str.strip() != "").fillna(False)
    for fmt in formats:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo].str.strip(), format=fmt, errors="coerce")
        ok = parsed.notna()
        hit = ok[ok].index
        out[hit] = parsed[ok].dt.strftime("%Y-%m-%dT%H:%M:%S")
        todo[hit] = False
    out[todo] = text[todo]
    iso, bad = strict_iso(pa.array(out.tolist(), type=pa.string()))
    return iso, bad


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    data = SourceData(inputs=[file], notes={"no_history": True, "has_actor": False})
    table, problems = open_csv(path, ctx, repeated_headers=True)  # Sprint, Labels, ... repeat
    data.problems += problems
    if table is None:
        return data
    key_name = "Issue key" if table.find("Issue key") is not None else "Issue id"
    cols, problems = require_columns(
        table,
        file,
        (key_name, "Created"),
        ("Summary", "Issue Type", "Status", "Resolved", "Resolution", "Status Category"),
    )
    data.problems += problems
    if problems:
        return data
    data.problems += bad_row_problems(table, file)
    lines = table.lines
    zone_ctx = ReadContext(
        ctx.project, ctx.stream_dir, options.timezone or ctx.timezone, ctx.source_index
    )
    formats = (options.date_format,) if options.date_format else DEFAULT_FORMATS
    key = text_column(table, cols[key_name])
    no_key = is_blank(key)
    data.problems += row_problems(
        "W203",
        file,
        no_key,
        lines,
        lambda i: f"{key_name} is empty; row skipped",
        "every row needs the issue's key",
    )
    ids = pd.Series(key, dtype="string")
    dup = ids.duplicated(keep="first").to_numpy() & ~no_key
    dup_ids = ids.to_numpy(dtype=object)
    data.problems += row_problems(
        "W212",
        file,
        dup,
        lines,
        lambda i: f"issue '{dup_ids[i]}' is listed again; the first row is used",
        "export each issue once",
    )

    stamps = {}
    for name in ("Created", "Resolved"):
        if name not in cols:
            stamps[name] = np.full(table.num_rows, NAT, dtype=np.int64)
            continue
        column = text_column(table, cols[name])
        raw, unknown = english_months(column, options.locale_months)
        iso, bad = parse_jira_dates(raw, formats)
        parsed, problems = parse_time_column(iso, zone_ctx, file, lines, name, required=False)
        data.problems += problems
        hint = f"dates must look like {' or '.join(repr(f) for f in formats)}; set date_format (strptime) and timezone to match the export"
        if unknown:
            hint += f"; unknown month names {sorted(unknown)} can be added under locale_months"
        texts = column.to_pylist() if bad.any() else []
        outcome = "row skipped" if name == "Created" else "value ignored"
        message = _bad_date_message(name, texts, outcome)
        data.problems += row_problems("W202", file, bad, lines, message, hint)
        if name == "Created":
            empty = parsed.empty & ~bad
            data.problems += row_problems(
                "W202",
                file,
                empty,
                lines,
                lambda i: "Created is empty; row skipped",
                "every issue needs its Created date",
            )
        stamps[name] = parsed.ns
    created, resolved = stamps["Created"], stamps["Resolved"]
    bad_created = (created == NAT) & ~no_key & ~dup
    negative = (resolved != NAT) & (created != NAT) & (resolved < created) & ~no_key & ~dup
    data.problems += row_problems(
        "W223",
        file,
        negative,
        lines,
        lambda i: (
            f"issue '{dup_ids[i]}': Resolved is before Created (negative duration); row skipped"
        ),
        "check the export's date format and time zone",
    )
    keep = ~(no_key | dup | bad_created | negative)
    data.skipped = {
        **skipped_rows(table),
        "rows without an issue key": int(no_key.sum()),
        "repeated issue rows": int(dup.sum()),
        "rows without a valid Created date": int(bad_created.sum()),
        "rows resolved before created (W223)": int(negative.sum()),
    }
    resolution = null_if_blank(text_column(table, cols.get("Resolution"))).to_pylist()
    resolved_states = np.array(
        [options.resolution_states.get(r or "", options.resolved_state) for r in resolution],
        dtype=object,
    )
    data.events = _events(key, created, resolved, resolved_states, keep, options, lines, file)
    url = None
    if options.base_url:
        prefix = (
            f"{options.base_url}/browse/"
            if key_name == "Issue key"
            else f"{options.base_url}/secure/ViewIssue.jspa?id="
        )
        url = pc.binary_join_element_wise(pa.scalar(prefix), key, "")
    mask = pa.array(keep)
    created_col = pd.array(created[keep], dtype="Int64")
    data.items = pd.DataFrame(
        {
            "item_id": pd.Series(key.filter(mask), dtype="string"),
            "type": pd.Series(
                null_if_blank(text_column(table, cols.get("Issue Type"))).filter(mask),
                dtype="string",
            ),
            "title": pd.Series(
                null_if_blank(text_column(table, cols.get("Summary"))).filter(mask), dtype="string"
            ),
            "created": created_col,
            "url": pd.Series(
                url.filter(mask) if url is not None else [None] * int(keep.sum()), dtype="string"
            ),
            "line": lines[keep],
        }
    )
    data.items["file"] = file
    data.notes["status_categories"] = _categories(table, cols, keep)
    return data


def _events(
    key: pa.Array,
    created: np.ndarray,
    resolved: np.ndarray,
    resolved_states: np.ndarray,
    keep: np.ndarray,
    options: Options,
    lines: np.ndarray,
    file: str,
) -> pd.DataFrame:
    ids = np.asarray(key.to_numpy(zero_copy_only=False), dtype=object)
    done = keep & (resolved != NAT)
    # created then resolved per row, so a zero-length resolution still ends in the resolved state
    rows = np.concatenate((np.flatnonzero(keep), np.flatnonzero(done)))
    which = np.concatenate((np.zeros(int(keep.sum()), bool), np.ones(int(done.sum()), bool)))
    order = np.lexsort((which, rows))
    rows, which = rows[order], which[order]
    frame = pd.DataFrame(
        {
            "item_id": pd.array(ids[rows], dtype="string"),
            "ts": np.where(which, resolved[rows], created[rows]),
            "state": pd.array(
                np.where(which, resolved_states[rows], options.created_state), dtype="string"
            ),
            "blocked": np.full(len(rows), -1, dtype=np.int8),
            "actor": pd.array([None] * len(rows), dtype="string"),
            "line": lines[rows],
        }
    )
    frame["file"] = file
    return frame


def _categories(table: CsvTable, cols: dict[str, int], keep: np.ndarray) -> dict[str, list[str]]:
    """Status -> the status categories it was exported with (for the data-quality page)."""
    if "Status" not in cols or "Status Category" not in cols:
        return {}
    status = text_column(table, cols["Status"]).filter(pa.array(keep)).to_pylist()
    category = text_column(table, cols["Status Category"]).filter(pa.array(keep)).to_pylist()
    out: dict[str, set[str]] = {}
    for s, c in zip(status, category, strict=True):
        if s and c:
            out.setdefault(s, set()).add(c)
    return {s: sorted(c) for s, c in sorted(out.items())}


def _bad_date_message(name: str, texts: list[object], outcome: str) -> Callable[[int], str]:
    """The W202 message for row i of a date column (bound here, not in a loop)."""
    return lambda i: f"{name} '{texts[i]}' is not a date in the expected format; {outcome}"
