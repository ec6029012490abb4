"""Where everything goes: which lines each box carries, box sizes, and the rows the boxes flow into (pure geometry, no SVG)."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from generator.render.format import integer
from generator.render.vsm_map.model import DEFINITIONS, Figure, MapModel, MapStage
from generator.render.vsm_map.text import (
    change_parts,
    change_text,
    clean,
    dur,
    fmt,
    text_width,
    wrap,
)

# ---------------------------------------------------------------- layout

W, M, GAP, PAD = 1200, 24, 28, 9
COL = {"active": 184, "wait": 140, "start": 140, "end": 140}
SUM_W = 330
NAME, FIG, SMALL, H1 = 14.0, 13.0, 12.5, 22.0
NAME_LH, FIG_LH, SMALL_LH = 17.0, 18.0, 15.5
TRI_MIN, TRI_MAX = 24.0, 58.0


@dataclass
class Line:
    """One text line of a cell: `left` at the left edge, `right` right-aligned (the value)."""

    left: str = ""
    right: str = ""
    lcls: str = ""
    rcls: str = ""
    size: float = FIG
    lh: float = FIG_LH
    bold: bool = False
    icon: str = ""  # "burst" (bottleneck) or "event" (process change): drawn before the text
    href: str | None = None

    def width(self) -> float:
        """Measured width of the line's text, icon and the gap between left and right parts."""
        w = text_width(self.left, self.size, self.bold) + (16 if self.icon else 0)
        return w + (
            text_width(self.right, self.size, True) + (8 if self.left else 0) if self.right else 0
        )


@dataclass
class Cell:
    """One column of the map: the trigger ("start"), an active or wait stage, or the customer ("end")."""

    key: str
    kind: str
    width: float
    name: list[str]  # process-box title lines (active stages only)
    lines: list[Line]  # the data box, top to bottom
    top: list[Line]  # commitment, bottleneck and process-change labels above the column
    title: str
    tri: float = 0.0
    x: float = 0.0
    row: int = 0

    @property
    def inner(self) -> float:
        return self.width - 2 * PAD


def safe_link(href: str | None) -> str | None:
    """A caller's link, kept only when relative or http(s); anything else (javascript:, data:) is dropped."""
    if not href:
        return None
    scheme = re.match(r"^\s*([a-zA-Z][a-zA-Z0-9+.-]*):", href)
    return href if scheme is None or scheme.group(1).lower() in ("http", "https") else None


def figure_lines(f: Figure, inner: float, value: str | None = None) -> list[Line]:
    shown = fmt(f.value, f.unit) if value is None else value
    if text_width(f.label, FIG) + 8 + text_width(shown, FIG, True) <= inner:
        out = [Line(f.label, shown, "vsm-muted", "vsm-value")]
    else:
        out = [Line(t, lcls="vsm-muted") for t in wrap(f.label, inner, FIG)] + [
            Line(right=t, rcls="vsm-value") for t in wrap(shown, inner, FIG, True)
        ]
    text, cls = change_text(f) if is_significant(f) else ("", "")
    out += (
        [Line(right=t, rcls=cls, size=SMALL, lh=SMALL_LH) for t in wrap(text, inner, SMALL)]
        if text
        else []
    )
    return out


def is_significant(f: Figure) -> bool:
    """Whether the box shows the figure's baseline: only a change its own test supports (improved or
    worse), or on a future-state map a projected value that differs from the measured one as shown.
    Every other baseline value is in the hover/focus detail and the table after the map."""
    if f.projected:
        return change_parts(f)[1] in ("▲", "▼")
    return f.verdict in ("improved", "worse")


def stage_wip_lines(model: MapModel, s: MapStage, inner: float) -> tuple[list[Line], str]:
    if model.projection:
        if not s.wip_limit:
            return [], "WIP: not projected"
        limit = Figure(f"stage:{s.id}:wip_limit", "WIP limit", s.wip_limit, "count")
        return figure_lines(limit, inner), f"WIP limit {s.wip_limit}: the scenario's limit"
    wip = model.wip_by_stage.get(s.id)
    label = "WIP now" if s.kind == "active" else "waiting now"
    value = integer(wip) + (f" / limit {s.wip_limit}" if s.wip_limit else "")
    lines = figure_lines(Figure(f"stage:{s.id}:wip_now", label, wip, "count"), inner, value)
    meaning = f"{label} {value}: {DEFINITIONS['wip']}" + (
        f"; WIP limit {s.wip_limit} from stream.yaml" if s.wip_limit else ""
    )
    if wip is not None and s.wip_limit and wip > s.wip_limit:
        lines += [
            Line(right=t, rcls="vsm-bad vsm-over", size=SMALL, lh=SMALL_LH)
            for t in wrap(f"⚠ over limit by {wip - s.wip_limit}", inner, SMALL, True)
        ]
        meaning += f" (over the limit by {wip - s.wip_limit})"
    return lines, meaning


def box_title(heading: str, figs: Sequence[Figure], extra: Sequence[str] = ()) -> str:
    parts = (
        [heading]
        + [f"{f.label} {fmt(f.value, f.unit)}{was_text(f)}: {f.definition}" for f in figs]
        + list(extra)
    )
    return "\n".join(clean(p) for p in parts)


def was_text(f: Figure) -> str:
    """' (was 4.1 d ▼, no significant change)': the baseline in the hover detail, '' without one."""
    if not f.has_baseline:
        return ""
    was, sign, verdict = change_parts(f)
    shown = " ".join(t for t in (f"was {was}", sign) if t)
    return f" ({shown}{', ' + verdict if verdict else ''})"


def top_lines(model: MapModel, key: str, inner: float) -> list[Line]:
    out: list[Line] = []
    commit_here = (model.commitment == key) or (model.commitment is None and key == "end")
    if commit_here:
        out += [
            Line(t, lcls="vsm-commit-label", size=SMALL, lh=SMALL_LH)
            for t in wrap("Commitment point: cycle time starts here", inner, SMALL)
        ]
    if model.bottleneck == key:
        out.append(Line("Bottleneck", lcls="vsm-bad", size=FIG, lh=FIG_LH, bold=True, icon="burst"))
    for e in model.process_events:
        if e.stage == key:
            for i, t in enumerate(wrap(f"{e.date}: {e.label}", inner - 16, SMALL)):
                out.append(
                    Line(
                        t,
                        lcls="vsm-event-label",
                        size=SMALL,
                        lh=SMALL_LH,
                        icon="event" if i == 0 else "indent",
                    )
                )
    return out


def balance(model: MapModel) -> float | None:
    """(arrivals - departures) / departures, items created vs done per week; None when unknown."""
    a = model.arrivals.value if model.arrivals else None
    d = model.throughput.value if model.throughput else None
    if a is None or d is None or (a == 0 and d == 0):
        return None
    return math.inf if d == 0 else (a - d) / d


def layout_cells(model: MapModel) -> list[Cell]:
    """The map's columns with every text line wrapped to its column (tests check the widths)."""
    link = safe_link(model.items_link)
    waits = [s.mean_days or 0.0 for s in model.stages if s.kind == "wait"]
    longest = max(waits, default=0.0)
    cells: list[Cell] = []

    w = COL["start"]
    lines = [Line("Demand", lcls="vsm-strong", bold=True)]
    lines += [
        Line(t, lcls="vsm-muted", size=SMALL, lh=SMALL_LH)
        for t in wrap(f"enters at {model.entry_label}", w - 2 * PAD, SMALL)
    ]
    start_figs = [f for f in (model.arrivals, model.committed_arrivals) if f is not None]
    for f in start_figs:
        lines += figure_lines(f, w - 2 * PAD)
    cells.append(
        Cell(
            "start",
            "start",
            w,
            [],
            lines,
            top_lines(model, "start", w - 2 * PAD),
            box_title("Demand: where work enters the stream", start_figs),
        )
    )

    for s in model.stages:
        w = COL[s.kind]
        inner = w - 2 * PAD
        wip_lines, wip_meaning = stage_wip_lines(model, s, inner)
        shown = [
            f for f in s.figures if s.kind == "active" or f.key.rsplit(":", 1)[1] in ("mean", "p50")
        ]
        href = f"{link}#stage-{s.id}" if link else None
        lines = (
            []
            if s.kind == "active"
            else [
                Line(t, lcls="vsm-strong", bold=True, size=FIG, href=href)
                for t in wrap(s.label, inner, FIG, True)
            ]
        )
        for f in shown:
            lines += figure_lines(f, inner)
            if f.key.endswith(":items_through"):
                lines += wip_lines
        if s.kind == "wait":
            lines += wip_lines
        name = wrap(s.label, inner, NAME, True) if s.kind == "active" else []
        extra = [wip_meaning]
        if s.id in model.blocked_by_stage:
            extra.append(
                f"blocked {dur(model.blocked_by_stage[s.id])}: mean time per completed item in this stage while blocked (drawn as a high rung)"
            )
        if model.bottleneck == s.id:
            extra.append(
                "Bottleneck: the stage with the largest mean time from the commitment point on"
            )
        kind = "active stage (process box)" if s.kind == "active" else "wait stage (queue)"
        tri = (
            TRI_MIN + (TRI_MAX - TRI_MIN) * math.sqrt((s.mean_days or 0.0) / longest)
            if s.kind == "wait" and longest > 0
            else TRI_MIN
        )
        cell = Cell(
            s.id,
            s.kind,
            w,
            name,
            lines,
            top_lines(model, s.id, inner),
            box_title(f"{s.label}: {kind}", s.figures, extra),
            tri if s.kind == "wait" else 0.0,
        )
        cells.append(cell)

    w = COL["end"]
    lines = [Line("Customer", lcls="vsm-strong", bold=True)]
    if model.throughput is not None:
        lines += figure_lines(model.throughput, w - 2 * PAD)
    gap = balance(model)
    if gap is not None and abs(gap) > 0.10:
        note = (
            "⚠ WIP growing: more arrive than finish"
            if gap > 0
            else "⚠ WIP shrinking: more finish than arrive"
        )
        lines += [
            Line(t, lcls="vsm-warn", size=SMALL, lh=SMALL_LH)
            for t in wrap(note, w - 2 * PAD, SMALL)
        ]
    cells.append(
        Cell(
            "end",
            "end",
            w,
            [],
            lines,
            top_lines(model, "end", w - 2 * PAD),
            box_title(
                "Customer: where done work leaves the stream",
                [model.throughput] if model.throughput else [],
            ),
        )
    )
    return cells


def flow_rows(cells: list[Cell]) -> tuple[list[list[Cell]], bool]:
    """Place cells left to right in as few rows as fit the width. Returns the rows and whether the
    summary box fits at the right end of the last row (rows filled greedily); when it does not, the
    rows are balanced to similar lengths and the summary goes under them."""

    def place(limit: float) -> list[list[Cell]]:
        rows: list[list[Cell]] = [[]]
        x: float = M + GAP
        for c in cells:
            if rows[-1] and x + c.width > limit:
                rows.append([])
                x = M + GAP
            c.x, c.row = x, len(rows) - 1
            rows[-1].append(c)
            x += c.width + GAP
        return rows

    widest = W - M
    rows = place(widest)
    beside = rows[-1][-1].x + rows[-1][-1].width + GAP + SUM_W <= widest
    if not beside:
        fewest, total = len(rows), sum(c.width + GAP for c in cells)
        limit = min(widest, M + GAP + total / fewest)
        while len(place(limit)) > fewest and limit < widest:
            limit = min(widest, limit + 8)
        rows = place(limit)
    for row in (
        rows[:-1] if beside else rows
    ):  # spread the columns, the gaps at most 2.2 times the normal
        if len(row) > 1:
            extra = min((W - M - row[-1].x - row[-1].width) / (len(row) - 1), GAP * 1.2)
            for i, c in enumerate(row):
                c.x += i * extra
    return rows, beside


def bounds(row: list[Cell], i: int) -> tuple[float, float]:
    """The x range a column owns: halfway to its neighbours (GAP/2 at the row's ends)."""
    c = row[i]
    left = (row[i - 1].x + row[i - 1].width + c.x) / 2 if i else c.x - GAP / 2
    right = (c.x + c.width + row[i + 1].x) / 2 if i + 1 < len(row) else c.x + c.width + GAP / 2
    return left, right
