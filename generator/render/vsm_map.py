"""The value stream map (MAP.md): a hand-built SVG, and the same figures as an HTML table.

`map_model` gathers what the map shows from a period summary (`aggregates.period_metrics(...).summary`),
an optional baseline summary and the metrics.json comparison; `render_map` lays it out left to right in
stream order, wrapping into rows so 3 to 15 stages stay readable at 1200 px; `map_table` is the
screen-reader and print equivalent. Pure functions: the same model gives the same bytes. Every piece of
text from YAML or exports is escaped; ids come only from stage ids and a sanitised prefix.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from markupsafe import escape

from generator.render.format import day, duration, integer, number, percent

Unit = Literal["days", "share", "count", "rate", "per_item"]

# What each figure measures, from which event to which (shown on hover/focus and in the table).
DEFINITIONS = {
    "mean": "mean time in the stage per completed item of the period: from entering the stage to leaving it, every visit counted, blocked time included (0 for items that skipped it)",
    "p50": "median time in the stage, over the completed items that visited it (entering to leaving, all visits summed)",
    "p85": "85th percentile of the time in the stage, over the completed items that visited it",
    "items_through": "completed items of the period that entered the stage at least once",
    "hand_offs": "mean changes of actor credited to this stage per completed item (a change counts for the stage the item is in after it)",
    "pct_complete_accurate": "among the completed items that visited the stage, the share not sent back to it or an earlier stage from a later one after first entering it",
    "wip": "items in the stage at the period's as_of (blocked items count in the stage they stay in)",
    "lead_time_mean": "created to done, mean over the period's completed items (the sum of the ladder)",
    "lead_time_p50": "created to done, median over the period's completed items",
    "lead_time_p85": "created to done, 85th percentile over the period's completed items",
    "process_days_mean": "time in active stages while not blocked, mean per completed item",
    "flow_efficiency": "sum of process time / sum of lead time over the completed items (a ratio of sums)",
    "rolled_pct_complete_accurate": "the product of the %C&A of the active stages that completed items visited",
    "throughput_per_week": "completed items / weeks of the period (up to its as_of)",
    "wip_now": "items past the commitment point, not done or cancelled, at the period's as_of",
    "wip_mean": "mean of the WIP counted at the end of each day of the period",
    "cycle_time_p85": "commitment to done, 85th percentile over the period's completed items",
    "cancelled": "items cancelled in the period (by the instant they entered a cancelled stage)",
    "created_per_week": "items created in the period per week: the demand (lead time starts at creation)",
    "committed_per_week": "items that passed the commitment point in the period per week",
}


@dataclass(frozen=True)
class Figure:
    """One number on the map. `key` is its metrics.json comparison key; `better` the direction of good."""

    key: str
    label: str
    value: float | None
    unit: Unit
    baseline: float | None = None
    # a baseline period was given: show 'was ...' even when its value is missing
    has_baseline: bool = False
    # the comparison's verdict for `key`, when there is one
    verdict: str | None = None
    better: Literal["lower", "higher"] | None = None
    definition: str = ""
    # a future-state map's figure: the baseline is the measured value, shown under the box when the
    # projection changes it (there is no test, so no verdict)
    projected: bool = False


@dataclass(frozen=True)
class MapStage:
    """An active (process box) or wait (queue) stage. `figures`: mean, p50, p85, items_through, then
    hand_offs and pct_complete_accurate for active stages (keys `stage:<id>:<name>`)."""

    id: str
    label: str
    kind: Literal["active", "wait"]
    mean_days: float | None
    figures: tuple[Figure, ...]
    wip_limit: int | None = None

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.key == f"stage:{self.id}:{name}"), None)


@dataclass(frozen=True)
class ProcessMark:
    """A stream `events:` entry drawn as a burst: on its stage's column, or in the header when stage is None."""

    date: str
    label: str
    stage: str | None = None


@dataclass(frozen=True)
class Rung:
    """One rung of the timeline ladder: `days` is a mean per completed item."""

    anchor: str  # "start" (unmapped), a stage id, or "end" (done/cancelled stages before the final done)
    level: Literal["wait", "process"]
    days: float
    tag: str = ""  # "", "unmapped", "blocked", "before done"


@dataclass(frozen=True)
class MapModel:
    """Everything the map shows, already computed (see docs/map.md for each field's meaning)."""

    stream_name: str
    period_label: str
    period_dates: str = ""
    as_of_text: str = ""
    owner: str | None = None
    baseline_label: str | None = None
    completed: int = 0
    stages: tuple[MapStage, ...] = ()
    entry_label: str = ""
    # the drawn stage the commitment marker precedes; None: before the customer
    commitment: str | None = None
    bottleneck: str | None = None
    arrivals: Figure | None = None
    committed_arrivals: Figure | None = None
    throughput: Figure | None = None
    lead_mean: Figure | None = None
    lead_p50: Figure | None = None
    lead_p85: Figure | None = None
    totals: tuple[Figure, ...] = ()
    unmapped_days: float = 0.0
    unmapped_items: int = 0
    end_stage_days: tuple[tuple[str, float], ...] = ()
    process_events: tuple[ProcessMark, ...] = ()
    items_link: str | None = None
    quality_link: str | None = None
    wip_by_stage: Mapping[str, int] = field(default_factory=dict)
    blocked_by_stage: Mapping[str, float] = field(default_factory=dict)
    rework: tuple[tuple[str, str, float], ...] = ()
    rework_min_share: float = 0.02
    # done stage ids: a move back from one of them starts at the customer
    customer_ids: tuple[str, ...] = ()
    # a future-state map: the scenario's name. Marked as a projection (a label, dashed outlines),
    # the baseline is the measured current state, and WIP now (which a projection has no "now"
    # for) gives way to the scenario's WIP limits
    projection: str | None = None

    def ladder(self) -> tuple[Rung, ...]:
        """Rungs in stream order; they add up to the mean lead time of the period's completed items."""
        out = (
            [Rung("start", "wait", self.unmapped_days, "unmapped")]
            if self.unmapped_days > 0
            else []
        )
        for s in self.stages:
            mean = max(s.mean_days or 0.0, 0.0)
            if s.kind == "wait":
                out.append(Rung(s.id, "wait", mean))
                continue
            blocked = min(max(float(self.blocked_by_stage.get(s.id) or 0.0), 0.0), mean)
            out.append(Rung(s.id, "process", mean - blocked))
            if blocked > 0:
                out.append(Rung(s.id, "wait", blocked, "blocked"))
        out += [Rung("end", "wait", d, "before done") for _, d in self.end_stage_days if d > 0]
        return tuple(out)

    def ladder_sums(self) -> tuple[float, float]:
        """(waiting, working): the high and the low rungs added up."""
        rungs = self.ladder()
        wait = sum(r.days for r in rungs if r.level == "wait")
        return wait, sum(r.days for r in rungs if r.level == "process")


# ---------------------------------------------------------------- model


def _get(data: Mapping[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


# (name in the summary's stage entry, label, unit, direction of good) for each stage figure
STAGE_FIGURES: tuple[tuple[str, str, Unit, Any], ...] = (
    ("mean_days", "mean", "days", "lower"),
    ("p50_days", "median", "days", "lower"),
    ("p85_days", "p85", "days", "lower"),
    ("items_through", "items through", "count", None),
)
STAGE_KEYS = {
    "mean_days": "mean",
    "p50_days": "p50",
    "p85_days": "p85",
    "items_through": "items_through",
}
# (comparison key, label, path in the summary, unit, direction of good) for the summary box
TOTALS: tuple[tuple[str, str, tuple[str, ...], Unit, Any], ...] = (
    ("lead_time_mean", "Lead time, mean", ("lead_time", "mean"), "days", "lower"),
    ("lead_time_p50", "Lead time, median", ("lead_time", "p50"), "days", "lower"),
    ("lead_time_p85", "Lead time, p85", ("lead_time", "p85"), "days", "lower"),
    ("process_days_mean", "Process time, mean", ("process_days_mean",), "days", None),
    ("flow_efficiency", "Flow efficiency", ("flow_efficiency",), "share", "higher"),
    (
        "rolled_pct_complete_accurate",
        "Rolled %C&A",
        ("rolled_pct_complete_accurate",),
        "share",
        "higher",
    ),
    ("throughput_per_week", "Throughput", ("throughput_per_week",), "rate", "higher"),
    ("wip_now", "WIP now", ("wip_now",), "count", "lower"),
    ("wip_mean", "WIP mean", ("wip_mean",), "count", "lower"),
    ("cycle_time_p85", "Cycle time, p85", ("cycle_time", "p85"), "days", "lower"),
)


def map_model(
    definition: Any,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None = None,
    comparison: Mapping[str, Any] | None = None,
    *,
    stream_name: str,
    owner: str | None = None,
    period_label: str,
    period_dates: str | tuple[Any, Any] = "",
    as_of_text: str = "",
    items_link: str | None = None,
    quality_link: str | None = None,
    process_events: Iterable[Mapping[str, Any]] = (),
    wip_by_stage: Mapping[str, int] | None = None,
    blocked_by_stage: Mapping[str, float] | None = None,
    rework: Iterable[tuple[str, str, float]] = (),
    rework_min_share: float = 0.02,
    projection: str | None = None,
) -> MapModel:
    """Pick the map's figures out of a period summary (and baseline, comparison); see docs/map.md.

    With `projection` (a scenario's name) the summary is a projected one and the map a future state.
    """
    base = baseline_summary

    def fig(
        key: str, label: str, path: tuple[str, ...], unit: Unit, better: Any, meaning: str
    ) -> Figure:
        verdict = _get(comparison, key, "verdict")
        value, was = _get(summary, *path), _get(base, *path)
        return Figure(
            key,
            label,
            value,
            unit,
            was,
            base is not None,
            verdict if isinstance(verdict, str) else None,
            better,
            meaning,
            projection is not None,
        )

    stages: list[MapStage] = []
    for s in definition.stages:
        if s.kind not in ("active", "wait"):
            continue
        at, name = ("stages", s.id), s.label
        figs = [
            fig(
                f"stage:{s.id}:{STAGE_KEYS[k]}",
                label,
                (*at, k),
                unit,
                good,
                DEFINITIONS[STAGE_KEYS[k]],
            )
            for k, label, unit, good in STAGE_FIGURES
        ]
        if s.kind == "active":
            if isinstance(summary.get("hand_offs"), Mapping):
                meaning = DEFINITIONS["hand_offs"]
                figs.append(
                    fig(
                        f"stage:{s.id}:hand_offs",
                        "hand-offs",
                        ("hand_offs", "by_stage", s.id),
                        "per_item",
                        None,
                        meaning,
                    )
                )
            meaning = DEFINITIONS["pct_complete_accurate"]
            figs.append(
                fig(
                    f"stage:{s.id}:pct_complete_accurate",
                    "%C&A",
                    (*at, "pct_complete_accurate"),
                    "share",
                    "higher",
                    meaning,
                )
            )
        stages.append(
            MapStage(s.id, name, s.kind, _get(summary, *at, "mean_days"), tuple(figs), s.wip_limit)
        )

    totals = [
        fig(key, label, path, unit, good, DEFINITIONS[key])
        for key, label, path, unit, good in TOTALS
    ]
    if projection:  # only what the projection computes (no WIP now, no cancelled items)
        totals = [f for f in totals if f.value is not None]
    if _get(summary, "cancelled", "count") is not None:
        totals.append(
            fig(
                "cancelled",
                "Cancelled",
                ("cancelled", "count"),
                "count",
                "lower",
                DEFINITIONS["cancelled"],
            )
        )
    baseline_label = None
    if base is not None:
        dates = (
            f" ({day(base['start'])} – {day(base['end'])})"
            if base.get("start") and base.get("end")
            else ""
        )
        baseline_label = f"{base.get('label') or 'baseline'}{dates}"
    if isinstance(period_dates, tuple):
        period_dates = f"{day(period_dates[0])} – {day(period_dates[1])}"
    kinds = {s.id: s.kind for s in definition.stages}
    end_means = [
        (s.label, _get(summary, "stages", s.id, "mean_days") or 0.0)
        for s in definition.stages
        if s.kind in ("done", "cancelled")
    ]
    return MapModel(
        stream_name=stream_name,
        period_label=period_label,
        period_dates=str(period_dates),
        as_of_text=as_of_text,
        owner=owner,
        baseline_label=baseline_label,
        completed=int(_get(summary, "lead_time", "count") or 0),
        stages=tuple(stages),
        entry_label=definition.stages[0].label,
        commitment=definition.commitment
        if kinds.get(definition.commitment) in ("active", "wait")
        else None,
        bottleneck=summary.get("bottleneck"),
        arrivals=fig(
            "created_per_week",
            "created",
            ("arrivals", "created_per_week"),
            "rate",
            None,
            DEFINITIONS["created_per_week"],
        ),
        committed_arrivals=fig(
            "committed_per_week",
            "committed",
            ("arrivals", "committed_per_week"),
            "rate",
            None,
            DEFINITIONS["committed_per_week"],
        ),
        throughput=fig(
            "throughput_per_week",
            "done",
            ("throughput_per_week",),
            "rate",
            "higher",
            DEFINITIONS["throughput_per_week"],
        ),
        lead_mean=totals[0],
        lead_p50=totals[1],
        lead_p85=totals[2],
        totals=tuple(totals),
        unmapped_days=float(_get(summary, "stages", "unmapped", "mean_days") or 0.0),
        unmapped_items=int(_get(summary, "stages", "unmapped", "items_through") or 0),
        end_stage_days=tuple((label, float(d)) for label, d in end_means if d > 0),
        process_events=tuple(_mark(e) for e in process_events),
        items_link=items_link,
        quality_link=quality_link,
        wip_by_stage=dict(wip_by_stage or {}),
        blocked_by_stage=dict(blocked_by_stage or {}),
        rework=tuple((str(a), str(b), float(share)) for a, b, share in rework),
        rework_min_share=rework_min_share,
        customer_ids=tuple(s.id for s in definition.stages if s.kind == "done"),
        projection=projection,
    )


def _mark(event: Mapping[str, Any]) -> ProcessMark:
    when = event.get("date")
    return ProcessMark(
        day(when) if when is not None else "",
        str(event.get("label") or ""),
        str(event["stage"]) if event.get("stage") else None,
    )


# ---------------------------------------------------------------- text


# Advance widths (em) of DejaVu Sans, the widest common sans and Chromium's default on Linux; Arial,
# Helvetica and Segoe UI are narrower, so a line that fits by these fits in them too.
_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'\"()[]{}/\\|-_+=<>*#&%@~^$`"
_WIDTHS = (
    "613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 592 592 525 "
    "684 686 698 770 632 575 775 752 295 295 656 557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 "
    + "636 "
    * 10
    + "318 318 318 337 337 401 531 275 460 390 390 390 390 636 636 337 337 337 361 500 838 838 838 838 500 838 "
    "780 950 1000 838 838 636 500"
)
_EM = {ch: int(w) / 1000 for ch, w in zip(_CHARS, _WIDTHS.split(), strict=True)} | {"\u00a0": 0.318}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: Any) -> str:
    """Text safe to put in XML once escaped: control characters and lone surrogates become spaces."""
    return _CONTROL.sub(" ", str(text)).replace("\n", " ").replace("\t", " ")


def _units(ch: str) -> float:
    """One character's advance in em (0 for a combining mark); remembered in _UNITS."""
    if unicodedata.combining(ch):
        em = 0.0
    else:
        found = _EM.get(ch)
        if found is None:
            found = _EM.get(unicodedata.normalize("NFD", ch)[0])
        em = (
            found
            if found is not None
            else (1.05 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0)
        )
    _UNITS[ch] = em
    return em


_UNITS: dict[str, float] = {}


@functools.lru_cache(maxsize=1 << 16)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in px of one line at `size` px: DejaVu Sans metrics (bold 10% wider) plus a 4% margin;
    characters outside the table count as wide (1 em), east Asian wide ones as 1.05 em."""
    units = 0.0
    known = _UNITS
    for ch in text:
        em = known.get(ch)
        units += em if em is not None else _units(ch)
    return units * size * (1.1 if bold else 1.0) * 1.04


def wrap(
    text: str, width: float, size: float, bold: bool = False, max_lines: int = 10
) -> list[str]:
    """Greedy word wrap by measured width; words longer than a line are split; at most max_lines (…)."""
    lines: list[str] = []
    current = ""
    for word in (w for w in clean(text).split(" ") if w):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if text_width(current + ch, size, bold) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return lines or [""]


def dur(days: Any) -> str:
    """Days with 1 decimal ('3.2 d'), hours under a day ('5.0 h'); a no-break space keeps the unit on the line."""
    return duration(days).replace(" ", "\u00a0")


def fmt(value: Any, unit: Unit) -> str:
    """A figure as shown: durations as `dur`, shares in %, rates per week."""
    if unit == "days":
        return dur(value)
    if unit == "share":
        return percent(value)
    if unit == "count":
        return (
            number(value) if isinstance(value, float) and not value.is_integer() else integer(value)
        )
    if unit == "rate":
        return "–" if value is None else f"{number(value)}/wk"
    return "–" if value is None else f"{number(value)}/item"


def change_parts(f: Figure) -> tuple[str, str, str]:
    """(baseline as shown, sign, verdict): the sign is ▲ higher, ▼ lower or = (same as shown), '' if unknown."""
    shown, was = fmt(f.value, f.unit), fmt(f.baseline, f.unit)
    sign = ""
    if f.value is not None and f.baseline is not None:
        sign = "=" if shown == was else ("▲" if f.value > f.baseline else "▼")
    return was, sign, f.verdict or ""


def change_text(f: Figure) -> tuple[str, str]:
    """('was 4.1 d ▼ improved', css class): the baseline, the direction as a sign, and the verdict in words.
    Colour only comes with a verdict of improved or worse, which is always written out beside it."""
    if not f.has_baseline:
        return "", ""
    was, sign, verdict = change_parts(f)
    text = " ".join(t for t in (f"was {was}", sign, verdict) if t)
    return text, {"improved": "vsm-good", "worse": "vsm-bad"}.get(verdict, "vsm-muted")


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


def _figure_lines(f: Figure, inner: float, value: str | None = None) -> list[Line]:
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


def _wip_lines(model: MapModel, s: MapStage, inner: float) -> tuple[list[Line], str]:
    if model.projection:
        if not s.wip_limit:
            return [], "WIP: not projected"
        limit = Figure(f"stage:{s.id}:wip_limit", "WIP limit", s.wip_limit, "count")
        return _figure_lines(limit, inner), f"WIP limit {s.wip_limit}: the scenario's limit"
    wip = model.wip_by_stage.get(s.id)
    label = "WIP now" if s.kind == "active" else "waiting now"
    value = integer(wip) + (f" / limit {s.wip_limit}" if s.wip_limit else "")
    lines = _figure_lines(Figure(f"stage:{s.id}:wip_now", label, wip, "count"), inner, value)
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


def _title(heading: str, figs: Sequence[Figure], extra: Sequence[str] = ()) -> str:
    parts = (
        [heading]
        + [f"{f.label} {fmt(f.value, f.unit)}{_was(f)}: {f.definition}" for f in figs]
        + list(extra)
    )
    return "\n".join(clean(p) for p in parts)


def _was(f: Figure) -> str:
    """' (was 4.1 d ▼, no significant change)': the baseline in the hover detail, '' without one."""
    if not f.has_baseline:
        return ""
    was, sign, verdict = change_parts(f)
    shown = " ".join(t for t in (f"was {was}", sign) if t)
    return f" ({shown}{', ' + verdict if verdict else ''})"


def _top_lines(model: MapModel, key: str, inner: float) -> list[Line]:
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
        lines += _figure_lines(f, w - 2 * PAD)
    cells.append(
        Cell(
            "start",
            "start",
            w,
            [],
            lines,
            _top_lines(model, "start", w - 2 * PAD),
            _title("Demand: where work enters the stream", start_figs),
        )
    )

    for s in model.stages:
        w = COL[s.kind]
        inner = w - 2 * PAD
        wip_lines, wip_meaning = _wip_lines(model, s, inner)
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
            lines += _figure_lines(f, inner)
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
            _top_lines(model, s.id, inner),
            _title(f"{s.label}: {kind}", s.figures, extra),
            tri if s.kind == "wait" else 0.0,
        )
        cells.append(cell)

    w = COL["end"]
    lines = [Line("Customer", lcls="vsm-strong", bold=True)]
    if model.throughput is not None:
        lines += _figure_lines(model.throughput, w - 2 * PAD)
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
            _top_lines(model, "end", w - 2 * PAD),
            _title(
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


def _bounds(row: list[Cell], i: int) -> tuple[float, float]:
    """The x range a column owns: halfway to its neighbours (GAP/2 at the row's ends)."""
    c = row[i]
    left = (row[i - 1].x + row[i - 1].width + c.x) / 2 if i else c.x - GAP / 2
    right = (c.x + c.width + row[i + 1].x) / 2 if i + 1 < len(row) else c.x + c.width + GAP / 2
    return left, right


# ---------------------------------------------------------------- svg

STYLE = """
.vsm-map{font-family:var(--font,system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif);font-variant-numeric:tabular-nums}
.vsm-map text{fill:var(--ink,#1d2329);font-size:13px}
.vsm-map .vsm-sm{font-size:12.5px}.vsm-map .vsm-nm{font-size:14px}.vsm-map .vsm-h1{font-size:22px;font-weight:700}
.vsm-map .vsm-b,.vsm-map .vsm-value{font-weight:650}
.vsm-map .vsm-bg{fill:var(--surface,#fff)}
.vsm-map .vsm-muted,.vsm-map .vsm-sub{fill:var(--muted,#5b6670)}
.vsm-map .vsm-good{fill:var(--good,#2e7d4f);font-weight:650}
.vsm-map .vsm-bad{fill:var(--bad,#b3412f);font-weight:650}
.vsm-map .vsm-warn{fill:var(--bad,#b3412f)}
.vsm-map .vsm-rule{stroke:var(--line,#dfe3e6);stroke-width:1}
.vsm-map .vsm-proc{fill:var(--accent-soft,#e5eef5);stroke:var(--accent,#1f5f8b);stroke-width:1.5}
.vsm-map .vsm-data{fill:var(--surface,#fff);stroke:var(--accent,#1f5f8b);stroke-width:1.5}
.vsm-map .vsm-qbox{fill:none;stroke:var(--line,#dfe3e6);stroke-width:1;stroke-dasharray:3 3}
.vsm-map .vsm-tri{fill:var(--wait,#c98a1b);fill-opacity:.2;stroke:var(--wait,#c98a1b);stroke-width:2;stroke-linejoin:round}
.vsm-map .vsm-tri-i{fill:var(--wait,#c98a1b);font-weight:700}
.vsm-map .vsm-icon{fill:var(--surface,#fff);stroke:var(--muted,#5b6670);stroke-width:1.5;stroke-linejoin:round}
.vsm-map .vsm-bottleneck .vsm-proc,.vsm-map .vsm-bottleneck .vsm-data,.vsm-map .vsm-bottleneck .vsm-tri{stroke:var(--bad,#b3412f);stroke-width:4}
.vsm-map .vsm-burst{fill:var(--bad,#b3412f)}
.vsm-map .vsm-event{fill:var(--wait,#c98a1b);stroke:var(--ink,#1d2329);stroke-width:.6}
.vsm-map .vsm-flow{stroke:var(--muted,#5b6670);stroke-width:1.5;fill:none}
.vsm-map .vsm-head-flow{fill:var(--muted,#5b6670)}
.vsm-map .vsm-commit{stroke:var(--accent,#1f5f8b);stroke-width:2;stroke-dasharray:7 5}
.vsm-map .vsm-commit-label{fill:var(--accent,#1f5f8b);font-weight:650}
.vsm-map .vsm-rework path{stroke:var(--bad,#b3412f);stroke-width:1.5;fill:none;stroke-dasharray:5 3}
.vsm-map .vsm-head-rework{fill:var(--bad,#b3412f)}
.vsm-map .vsm-halo{paint-order:stroke;stroke:var(--surface,#fff);stroke-width:5px;stroke-linejoin:round}
.vsm-map .vsm-ladder .vsm-rung-wait{stroke:var(--wait,#c98a1b);stroke-width:3}
.vsm-map .vsm-ladder .vsm-rung-process{stroke:var(--accent,#1f5f8b);stroke-width:3}
.vsm-map .vsm-ladder .vsm-riser{stroke:var(--muted,#5b6670);stroke-width:1.5}
.vsm-map .vsm-sumbox{fill:var(--surface,#fff);stroke:var(--ink,#1d2329);stroke-width:1.5}
.vsm-map .vsm-sumhead{fill:var(--ink,#1d2329)}
.vsm-map .vsm-sumhead-text{fill:var(--surface,#fff);font-weight:700}
.vsm-map .vsm-focus{fill:none;stroke:var(--accent,#1f5f8b);stroke-width:3;opacity:0}
.vsm-map .vsm-cell{outline:none}
.vsm-map .vsm-cell:hover .vsm-focus{opacity:.35}
.vsm-map .vsm-cell:focus-visible .vsm-focus,.vsm-map .vsm-cell:focus .vsm-focus{opacity:1}
.vsm-map a text{fill:var(--accent,#1f5f8b);text-decoration:underline}
.vsm-map .vsm-tip{display:none;pointer-events:none}
.vsm-map .vsm-tipbox{fill:var(--surface,#fff);stroke:var(--accent,#1f5f8b);stroke-width:2}
@media print{.vsm-map{max-height:18cm}.vsm-map .vsm-focus,.vsm-map .vsm-tip{display:none!important}}
"""

# added to a future-state map's style only (MapModel.projection), so measured maps keep their bytes
PROJECTION_STYLE = """
.vsm-map .vsm-proj-badge{fill:var(--ink,#1d2329)}
.vsm-map .vsm-proj-label{fill:var(--surface,#fff);letter-spacing:.06em}
.vsm-map .vsm-proj-note{fill:var(--ink,#1d2329);font-style:italic}
.vsm-projection .vsm-proc,.vsm-projection .vsm-data,.vsm-projection .vsm-tri,.vsm-projection .vsm-sumbox{stroke-dasharray:7 4}
.vsm-projection .vsm-bg{fill:var(--projection-bg,#f3f6f9)}
"""


def _n(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _e(text: Any) -> str:
    return str(escape(clean(text)))


def safe_id(prefix: str) -> str:
    """An id prefix of letters, digits, '-' and '_' only, starting with a letter."""
    out = re.sub(r"[^A-Za-z0-9_-]", "-", prefix or "vsm")
    return out if out[:1].isalpha() else "m" + out


def _size_cls(size: float, bold: bool) -> str:
    cls = {SMALL: "vsm-sm", NAME: "vsm-nm", H1: "vsm-h1"}.get(size, "")
    return (cls + " vsm-b").strip() if bold else cls


def _text(x: float, y: float, text: str, cls: str = "", anchor: str = "", extra: str = "") -> str:
    attrs = f' class="{cls.strip()}"' if cls.strip() else ""
    attrs += f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{_n(x)}" y="{_n(y)}"{attrs}{extra}>{_e(text)}</text>'


def _burst(cx: float, cy: float, r: float, cls: str, points: int = 8) -> str:
    pts = []
    for i in range(points * 2):
        rad = r if i % 2 == 0 else r * 0.48
        a = math.pi * i / points - math.pi / 2
        pts.append(f"{_n(cx + rad * math.cos(a))},{_n(cy + rad * math.sin(a))}")
    return f'<polygon class="{cls}" points="{" ".join(pts)}" aria-hidden="true"/>'


def _lines(lines: Sequence[Line], left: float, right: float, top: float) -> tuple[list[str], float]:
    """SVG text for a stack of lines; returns the parts and the y after the last line."""
    out: list[str] = []
    y = top
    for ln in lines:
        base = y + (ln.lh + ln.size * 0.72) / 2
        x = left
        if ln.icon in ("burst", "event"):
            out.append(
                _burst(
                    x + 6.5,
                    base - ln.size * 0.36,
                    7.5 if ln.icon == "burst" else 6,
                    "vsm-burst" if ln.icon == "burst" else "vsm-event",
                )
            )
        if ln.icon:
            x += 16
        if ln.left:
            t = _text(x, base, ln.left, f"{ln.lcls} {_size_cls(ln.size, ln.bold)}")
            out.append(f'<a href="{_e(ln.href)}">{t}</a>' if ln.href else t)
        if ln.right:
            out.append(
                _text(right, base, ln.right, f"{ln.rcls} {_size_cls(ln.size, ln.bold)}", "end")
            )
        y += ln.lh
    return out, y


def _factory(cx: float, base_y: float) -> str:
    x0, y0 = cx - 28, base_y - 34
    pts = [
        (0, 34),
        (0, 14),
        (14, 4),
        (14, 14),
        (28, 4),
        (28, 14),
        (42, 4),
        (42, 14),
        (56, 4),
        (56, 34),
    ]
    return f'<polygon class="vsm-icon" aria-hidden="true" points="{" ".join(f"{_n(x0 + a)},{_n(y0 + b)}" for a, b in pts)}"/>'


def _shape_edges(c: Cell) -> tuple[float, float]:
    """Left and right x where the flow line meets the cell's shape."""
    cx = c.x + c.width / 2
    if c.kind == "active":
        return c.x, c.x + c.width
    if c.kind == "wait":
        return cx - c.tri * 1.15 / 4, cx + c.tri * 1.15 / 4
    return cx - 28, cx + 28


def _rework_routes(
    model: MapModel, cells: list[Cell]
) -> tuple[list[tuple[Cell, Cell, float]], list[tuple[str, str, float]]]:
    """Arrows to draw (from a later column back to an earlier one, share >= the minimum) and the rest."""
    index = {c.key: i for i, c in enumerate(cells)}
    drawn, rest = [], []
    for a, b, share in model.rework:
        ia = index.get("end" if a in model.customer_ids else a)
        ib = index.get(b)
        if ia is not None and ib is not None and ib < ia and share >= model.rework_min_share:
            drawn.append((cells[ia], cells[ib], share))
        else:
            rest.append((a, b, share))
    return drawn, rest


def _header(model: MapModel, body: list[str], y: float) -> float:
    if model.projection:
        label = "PROJECTION · not measured"
        width = text_width(label, FIG, True) + 2 * PAD + 4
        body.append(
            f'<rect class="vsm-proj-badge" x="{M}" y="{_n(y)}" width="{_n(width)}" height="24" rx="12"/>'
        )
        body.append(_text(M + PAD + 2, y + 16.5, label, "vsm-proj-label vsm-b"))
        y += 32
    for t in wrap(model.stream_name, W - 2 * M, H1, True, max_lines=3):
        body.append(_text(M, y + 22, t, "vsm-h1"))
        y += 28
    period = (
        f"{model.period_label} ({model.period_dates})" if model.period_dates else model.period_label
    )
    parts = ([f"Owner: {model.owner}"] if model.owner else []) + [f"Period: {period}"]
    parts += ([f"as of {model.as_of_text}"] if model.as_of_text else []) + [
        f"{model.completed:,} completed items"
    ]
    lines = [Line(t, lcls="vsm-sub") for t in wrap(" · ".join(parts), W - 2 * M, FIG)]
    if model.projection:
        note = f"Future state if “{model.projection}” had applied to the same items: a projection from the measured items, not a measurement. Under a figure the projection changes: 'was' and the measured value of {model.baseline_label}, ▲ higher or ▼ lower; every measured value is in the hover/focus detail and the table."
        lines += [
            Line(t, lcls="vsm-proj-note", size=SMALL, lh=SMALL_LH)
            for t in wrap(note, W - 2 * M, SMALL)
        ]
    elif model.baseline_label:
        note = f"Baseline: {model.baseline_label}. Under a figure that changed significantly: 'was', the baseline value, ▲ higher or ▼ lower, and the verdict; every baseline value is in the hover/focus detail and the table."
        lines += [
            Line(t, lcls="vsm-sub", size=SMALL, lh=SMALL_LH) for t in wrap(note, W - 2 * M, SMALL)
        ]
    if model.completed < 5:
        lines += [
            Line(t, lcls="vsm-warn", size=SMALL, lh=SMALL_LH)
            for t in wrap(
                f"⚠ Only {model.completed} completed items: the figures are indicative.",
                W - 2 * M,
                SMALL,
            )
        ]
    quality = safe_link(model.quality_link)
    if quality or model.unmapped_items:
        text = (
            f"Data quality: {model.unmapped_items:,} completed items spent time in states no stage lists (the ladder's 'unmapped' rung)."
            if model.unmapped_items
            else "Data quality: some rows were skipped."
        )
        text += " See the data-quality page." if quality else ""
        lines += [
            Line(t, lcls="vsm-sub", size=SMALL, lh=SMALL_LH, href=quality)
            for t in wrap(text, W - 2 * M, SMALL)
        ]
    drawn = {s.id for s in model.stages}
    for e in model.process_events:
        if e.stage not in drawn:
            for i, t in enumerate(
                wrap(f"Process change {e.date}: {e.label}", W - 2 * M - 16, SMALL)
            ):
                lines.append(
                    Line(
                        t,
                        lcls="vsm-sub",
                        size=SMALL,
                        lh=SMALL_LH,
                        icon="event" if i == 0 else "indent",
                    )
                )
    parts_, y = _lines(lines, M, W - M, y + 4)
    body += parts_
    body.append(f'<line class="vsm-rule" x1="{M}" y1="{_n(y + 8)}" x2="{W - M}" y2="{_n(y + 8)}"/>')
    return y + 16


def _levels(spans: list[tuple[float, float]]) -> list[int]:
    """Stack arrows so that overlapping spans sit at different depths (short spans nearest the boxes)."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i][1] - spans[i][0], spans[i][0]))
    placed: list[tuple[float, float, int]] = []
    out = [0] * len(spans)
    for i in order:
        lo, hi = spans[i]
        level = 0
        while any(lv == level and lo < b + 6 and a < hi + 6 for a, b, lv in placed):
            level += 1
        placed.append((lo, hi, level))
        out[i] = level
    return out


def _row(
    model: MapModel,
    p: str,
    body: list[str],
    row: list[Cell],
    r: int,
    n_rows: int,
    arrows: list[tuple[Cell, Cell, float]],
    rungs: tuple[Rung, ...],
    y: float,
    tips: list[Tip],
) -> float:
    top_h = max(sum(ln.lh for ln in c.top) for c in row)
    proc_top = y + (top_h + 8 if top_h else 0)
    name_h = max([len(c.name) * NAME_LH + 22 for c in row if c.kind == "active"] + [TRI_MAX + 14])
    flow_y = proc_top + name_h / 2
    data_top = proc_top + name_h
    data_bottom = data_top + max(sum(ln.lh for ln in c.lines) for c in row) + 2 * PAD

    mine = [a for a in arrows if a[0].row == r]
    plans = [_rework_plan(model, src, dst, share, r) for src, dst, share in mine]
    levels = _levels([(lo, hi) for *_, lo, hi in plans])
    depth = [26 + 22 * lv for lv in levels]
    band = (max(depth) + 14) if mine else 0
    hi_y = data_bottom + band + 44
    lo_y = hi_y + 30
    bottom = lo_y + 26

    commit = next((i for i, c in enumerate(row) if (model.commitment or "end") == c.key), None)
    if commit is not None:
        cx = _bounds(row, commit)[0]
        body.append(
            f'<line class="vsm-commit" x1="{_n(cx)}" y1="{_n(y)}" x2="{_n(cx)}" y2="{_n(bottom)}"><title>Commitment point: cycle time is measured from here, lead time from creation</title></line>'
        )

    # flow arrows between neighbours, and in/out of the row when the stream wraps
    for a, b in itertools.pairwise(row):
        x1, x2 = _shape_edges(a)[1] + 3, _shape_edges(b)[0] - 4
        body.append(
            f'<line class="vsm-flow" x1="{_n(x1)}" y1="{_n(flow_y)}" x2="{_n(x2)}" y2="{_n(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )
    if r < n_rows - 1:
        x1 = _shape_edges(row[-1])[1] + 3
        body.append(
            f'<line class="vsm-flow" x1="{_n(x1)}" y1="{_n(flow_y)}" x2="{W - 8}" y2="{_n(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )
    if r > 0:
        body.append(
            f'<line class="vsm-flow" x1="8" y1="{_n(flow_y)}" x2="{_n(_shape_edges(row[0])[0] - 4)}" y2="{_n(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )

    for c in row:
        body += _cell(model, p, c, y, proc_top, name_h, flow_y, data_top, data_bottom)
        tips.append(Tip(_ident(p, c), c.x, proc_top, data_bottom, c.title))

    for (src, dst, share), d, plan in zip(mine, depth, plans, strict=True):
        sx, tx, label, lx, below = plan[:5]
        db = data_bottom + 2
        if tx is not None:
            path = f"M{_n(sx)},{_n(db)} C{_n(sx)},{_n(db + d * 4 / 3)} {_n(tx)},{_n(db + d * 4 / 3)} {_n(tx)},{_n(db + 1)}"
            text = _text(lx, db + d + 4.5, label, "vsm-bad vsm-sm vsm-halo", "middle")
        else:
            path = f"M{_n(sx)},{_n(db)} L{_n(sx)},{_n(db + d - 8)} Q{_n(sx)},{_n(db + d)} {_n(sx - 8)},{_n(db + d)} L{M / 2},{_n(db + d)}"
            text = _text(lx, db + d + (4.5 if below else -5), label, "vsm-bad vsm-sm vsm-halo")
        body.append(
            f'<g class="vsm-rework" data-from="{_e(src.key)}" data-to="{_e(dst.key)}" data-share="{share:.6f}"><path d="{path}" marker-end="url(#{p}-back)"/>{text}</g>'
        )

    body.append(_ladder(row, r, rungs, hi_y, lo_y))
    if r < n_rows - 1:
        body.append(
            f'<line class="vsm-rule" x1="{M}" y1="{_n(bottom + 8)}" x2="{W - M}" y2="{_n(bottom + 8)}"/>'
        )
    return bottom + 18


def _rework_plan(
    model: MapModel, src: Cell, dst: Cell, share: float, r: int
) -> tuple[float, float | None, str, float, bool, float, float]:
    """Where a move-back arrow runs and its label sits: (start x, end x or None when the target is in
    an earlier row, label, label x, label on the line rather than above it, span start, span end)."""
    sx = src.x + src.width / 2 - 12
    if dst.row == r:
        tx = dst.x + dst.width / 2 + 12
        label = f"{percent(share)} sent back"
        half, mid = text_width(label, SMALL, True) / 2, (sx + tx) / 2
        return sx, tx, label, mid, True, min(tx, mid - half), max(sx, mid + half)
    label = f"{percent(share)} sent back to {_label_of(model, dst.key)}"
    if text_width(label, SMALL, True) <= sx - M - 24:  # above the line, left of the corner
        return sx, None, label, M + 4, False, M, sx
    label = wrap(label, W - M - sx - 16, SMALL, True, max_lines=1)[
        0
    ]  # on the line, right of the corner
    return sx, None, label, sx + 8, True, M, sx + 8 + text_width(label, SMALL, True)


def _label_of(model: MapModel, key: str) -> str:
    return next((s.label for s in model.stages if s.id == key), "Customer" if key == "end" else key)


def _ident(p: str, c: Cell) -> str:
    if c.kind in ("active", "wait"):
        return f"{p}-stage-{safe_id(c.key)}"
    return f"{p}-{'trigger' if c.kind == 'start' else 'customer'}"


def _cell(
    model: MapModel,
    p: str,
    c: Cell,
    y: float,
    proc_top: float,
    name_h: float,
    flow_y: float,
    data_top: float,
    data_bottom: float,
) -> list[str]:
    kind = {
        "active": "vsm-stage vsm-box",
        "wait": "vsm-stage vsm-queue",
        "start": "vsm-trigger",
        "end": "vsm-customer",
    }[c.kind]
    kind += " vsm-bottleneck" if model.bottleneck == c.key and c.kind in ("active", "wait") else ""
    ident = _ident(p, c)
    out = [
        f'<g class="vsm-cell {kind}" id="{ident}" data-stage="{_e(c.key)}" tabindex="0"><title>{_e_multiline(c.title)}</title>'
    ]
    out.append(
        f'<rect class="vsm-focus" x="{_n(c.x - 5)}" y="{_n(proc_top - 5)}" width="{_n(c.width + 10)}" height="{_n(data_bottom - proc_top + 10)}" rx="6"/>'
    )
    out += _lines(c.top, c.x, c.x + c.width, y)[0]
    cx = c.x + c.width / 2
    if c.kind == "active":
        out.append(
            f'<rect class="vsm-proc" x="{_n(c.x)}" y="{_n(proc_top)}" width="{_n(c.width)}" height="{_n(name_h)}" rx="3"/>'
        )
        out.append(
            f'<rect class="vsm-data" x="{_n(c.x)}" y="{_n(data_top)}" width="{_n(c.width)}" height="{_n(data_bottom - data_top)}"/>'
        )
        link = safe_link(model.items_link)
        ty = flow_y - len(c.name) * NAME_LH / 2
        for t in c.name:
            text = _text(cx, ty + (NAME_LH + NAME * 0.72) / 2, t, "vsm-nm vsm-b vsm-name", "middle")
            out.append(f'<a href="{_e(link)}#stage-{_e(c.key)}">{text}</a>' if link else text)
            ty += NAME_LH
    elif c.kind == "wait":
        h, w = c.tri, c.tri * 1.15
        pts = f"{_n(cx)},{_n(flow_y - h / 2)} {_n(cx + w / 2)},{_n(flow_y + h / 2)} {_n(cx - w / 2)},{_n(flow_y + h / 2)}"
        out.append(f'<polygon class="vsm-tri" points="{pts}"/>')
        out.append(
            _text(
                cx,
                flow_y + h / 2 - 4,
                "I",
                "vsm-tri-i" + (" vsm-sm" if h < 36 else ""),
                "middle",
                ' aria-hidden="true"',
            )
        )
        out.append(
            f'<rect class="vsm-qbox" x="{_n(c.x)}" y="{_n(data_top)}" width="{_n(c.width)}" height="{_n(data_bottom - data_top)}" rx="3"/>'
        )
    else:
        out.append(_factory(cx, flow_y + 17))
    out += _lines(c.lines, c.x + PAD, c.x + c.width - PAD, data_top + PAD)[0]
    out.append("</g>")
    return out


def _e_multiline(text: str) -> str:
    return "\n".join(_e(t) for t in text.split("\n"))


def _ladder(row: list[Cell], r: int, rungs: tuple[Rung, ...], hi_y: float, lo_y: float) -> str:
    out = [f'<g class="vsm-ladder" data-row="{r}">']
    segs: list[tuple[float, float, Rung]] = []
    for i, c in enumerate(row):
        mine = [g for g in rungs if g.anchor == c.key]
        x0, x1 = _bounds(row, i)
        if c.kind == "start":
            if r == 0:
                out.append(_text(c.x + 2, hi_y + 4, "waiting", "vsm-muted vsm-sm"))
                out.append(_text(c.x + 2, lo_y + 4, "working", "vsm-muted vsm-sm"))
            x0 = c.x + c.width * 0.62
        step = (x1 - x0) / max(len(mine), 1)
        segs += [(x0 + i * step, x0 + (i + 1) * step, g) for i, g in enumerate(mine)]
    prev: tuple[float, float, Rung] | None = None
    for a, b, g in segs:
        yv = hi_y if g.level == "wait" else lo_y
        if prev is not None and abs(prev[1] - a) < 0.5 and prev[2].level != g.level:
            out.append(
                f'<line class="vsm-riser" x1="{_n(a)}" y1="{_n(hi_y)}" x2="{_n(a)}" y2="{_n(lo_y)}"/>'
            )
        out.append(
            f'<line class="vsm-rung vsm-rung-{g.level}" x1="{_n(a + 1)}" y1="{_n(yv)}" x2="{_n(b - 1)}" y2="{_n(yv)}" data-stage="{_e(g.anchor)}" data-level="{g.level}" data-days="{g.days:.6f}"/>'
        )
        value = dur(g.days)
        if g.level == "wait":
            if g.tag:
                out.append(_text((a + b) / 2, yv - 22, g.tag, "vsm-muted vsm-sm", "middle"))
            out.append(_text((a + b) / 2, yv - 7, value, "vsm-rung-label", "middle"))
        else:
            out.append(_text((a + b) / 2, yv + 18, value, "vsm-rung-label", "middle"))
        prev = (a, b, g)
    out.append("</g>")
    return "".join(out)


def notes(
    model: MapModel, hidden: Sequence[tuple[str, str, float]], drawn_rework: bool
) -> list[tuple[str, str]]:
    """The sentences under the map, as (css class, text): the ladder's sum, the balance, the legend."""
    wait, work = model.ladder_sums()
    n = model.completed
    out = [("vsm-b", "Timeline ladder (means per completed item)")]
    out.append(
        (
            "",
            f"Waiting {dur(wait)} + working {dur(work)} = {dur(wait + work)}, the {'projected ' if model.projection else ''}mean lead time of the {n:,} completed items.",
        )
    )
    p50 = fmt(model.lead_p50.value, "days") if model.lead_p50 else "–"
    p85 = fmt(model.lead_p85.value, "days") if model.lead_p85 else "–"
    out.append(
        (
            "",
            f"{'Projected' if model.projection else 'Measured'} lead time: median {p50}, p85 {p85}. Medians and percentiles do not add up, so they are shown as {'projected' if model.projection else 'measured'}.",
        )
    )
    gap = balance(model)
    if gap is not None and abs(gap) > 0.10 and model.arrivals and model.throughput:
        rel = "more" if gap > 0 else "fewer"
        size = "" if math.isinf(gap) else f" ({abs(gap):.0%} {rel})"
        trend = "WIP is growing" if gap > 0 else "WIP is shrinking"
        out.append(
            (
                "vsm-warn",
                f"⚠ Arrivals {fmt(model.arrivals.value, 'rate')} against departures {fmt(model.throughput.value, 'rate')}{size}: {trend}, so the averages are still moving.",
            )
        )
    if hidden:
        out.append(
            (
                "",
                f"Moves back not drawn (each under {percent(model.rework_min_share)} of items, or not between two columns of the map): {len(hidden)} route{'s' if len(hidden) != 1 else ''}, listed in the table.",
            )
        )
    out.append(("vsm-b", "How to read it"))
    out.append(
        (
            "vsm-muted",
            "Boxes are active stages (work); triangles are wait stages (queues), larger for a longer mean wait.",
        )
    )
    out.append(
        (
            "vsm-muted",
            "The dashed vertical line is the commitment point: cycle time counts from it, lead time from creation.",
        )
    )
    out.append(
        (
            "vsm-muted",
            "Ladder: high rungs are waiting (queues, blocked and unmapped time), low rungs are working; each shows its mean.",
        )
    )
    if drawn_rework:
        out.append(
            (
                "vsm-muted",
                "Dashed curved arrows: work sent back to an earlier stage, with the share of completed items that took them.",
            )
        )
    out.append(
        (
            "vsm-muted",
            "Focus or hover a box for the definition of each figure (where it starts and ends).",
        )
    )
    return out


def _footer(
    model: MapModel,
    p: str,
    body: list[str],
    hidden: Sequence[tuple[str, str, float]],
    drawn: bool,
    y: float,
    box_top: float,
    tips: list[Tip],
) -> float:
    """The notes under the last row (left) and the summary box at the right, from box_top down;
    the notes take the full width when the box ends above them."""
    sx, inner = W - M - SUM_W, SUM_W - 2 * PAD
    title = f"Summary: {model.period_label}"
    head = [
        Line(t, lcls="vsm-sumhead-text", bold=True)
        for t in wrap(title, inner, FIG, True, max_lines=2)
    ]
    figs = [ln for f in model.totals for ln in _figure_lines(f, inner)]
    head_h = sum(ln.lh for ln in head) + 10
    box_h = head_h + sum(ln.lh for ln in figs) + 2 * PAD
    top = box_top + 6
    title = _title(f"Summary of {model.period_label}", model.totals)
    tips.append(Tip(f"{p}-summary", sx, top, top + box_h, title))
    tip = _e_multiline(title)
    body.append(
        f'<g class="vsm-cell vsm-summary" id="{p}-summary" tabindex="0"><title>{tip}</title>'
    )
    body.append(
        f'<rect class="vsm-focus" x="{_n(sx - 5)}" y="{_n(top - 5)}" width="{SUM_W + 10}" height="{_n(box_h + 10)}" rx="6"/>'
    )
    body.append(
        f'<rect class="vsm-sumbox" x="{_n(sx)}" y="{_n(top)}" width="{SUM_W}" height="{_n(box_h)}" rx="4"/>'
    )
    body.append(
        f'<rect class="vsm-sumhead" x="{_n(sx)}" y="{_n(top)}" width="{SUM_W}" height="{_n(head_h)}" rx="4"/>'
    )
    body += _lines(head, sx + PAD, sx + SUM_W - PAD, top + 5)[0]
    body += _lines(figs, sx + PAD, sx + SUM_W - PAD, top + head_h + PAD)[0]
    body.append("</g>")

    right = W - M if top + box_h + 8 <= y else sx - 32
    lines: list[Line] = []
    for cls, text in notes(model, hidden, drawn):
        small = cls == "vsm-muted"
        size, lh = (SMALL, SMALL_LH) if small else (FIG, FIG_LH + (4 if cls == "vsm-b" else 0))
        lines += [
            Line(t, lcls=cls, size=size, lh=lh) for t in wrap(text, right - M, size, "vsm-b" in cls)
        ]
    parts, y_notes = _lines(lines, M, right, y + 6)
    body += parts
    return max(y_notes, top + box_h)


@dataclass(frozen=True)
class Tip:
    """The definitions panel of a focusable element, shown while it has focus."""

    ident: str
    x: float
    top: float
    bottom: float
    text: str  # heading, then one line per figure (the same text as the element's <title>)


TIP_W = 400


def _tips(tips: Sequence[Tip], height: float) -> tuple[str, list[str]]:
    """Panels drawn last (on top of everything), each shown by a CSS rule while its element has
    focus: keyboard users get what a pointer gets from the <title> tooltip."""
    parts, rules = [], []
    inner = TIP_W - 2 * PAD
    for t in tips:
        heading, *rest = t.text.split("\n")
        lines = [
            Line(x, lcls="vsm-b", bold=True) for x in wrap(heading, inner, FIG, True, max_lines=3)
        ]
        for item in rest:
            lines += [Line(x, size=SMALL, lh=SMALL_LH) for x in wrap(item, inner, SMALL)] + [
                Line(lh=4)
            ]
        h = sum(ln.lh for ln in lines) + 2 * PAD
        x = min(max(t.x, M), W - M - TIP_W)
        y = t.bottom + 8 if t.bottom + 8 + h <= height - 4 else max(4.0, t.top - 8 - h)
        parts.append(f'<g class="vsm-tip" id="{t.ident}-tip" aria-hidden="true">')
        parts.append(
            f'<rect class="vsm-tipbox" x="{_n(x)}" y="{_n(y)}" width="{TIP_W}" height="{_n(h)}" rx="4"/>'
        )
        parts += _lines(lines, x + PAD, x + TIP_W - PAD, y + PAD)[0] + ["</g>"]
        rules.append(f".vsm-map #{t.ident}:focus~#{t.ident}-tip")
    return (",".join(rules) + "{display:inline}\n") if rules else "", parts


def render_map(model: MapModel, *, id_prefix: str = "vsm") -> str:
    """The map as one responsive <svg> (viewBox, width 100%), titled and described for screen readers."""
    p = safe_id(id_prefix)
    cells = layout_cells(model)
    rows, beside = flow_rows(cells)
    arrows, hidden = _rework_routes(model, cells)
    rungs = model.ladder()
    body: list[str] = []
    tips: list[Tip] = []
    y = last_top = _header(model, body, M)
    for r, row in enumerate(rows):
        last_top = y
        y = _row(model, p, body, row, r, len(rows), arrows, rungs, y, tips)
    y = _footer(model, p, body, hidden, bool(arrows), y, last_top if beside else y, tips)
    height = math.ceil(y + M)
    focus_css, tip_parts = _tips(tips, height)
    body += tip_parts
    wait, work = model.ladder_sums()
    bottleneck = _label_of(model, model.bottleneck) if model.bottleneck else "none"
    desc = (
        (
            f"Projection, not measured: the future state if {model.projection} had applied. "
            if model.projection
            else ""
        )
        + f"{len(model.stages)} stages, left to right in stream order, for {model.period_label}. "
        f"Mean lead time {dur(wait + work)}: waiting {dur(wait)}, working {dur(work)}. "
        f"Bottleneck: {bottleneck}. The table after the map gives every figure."
    )
    title = (
        f"Future-state value stream map (projection): {model.stream_name}, {model.projection}, from {model.period_label}"
        if model.projection
        else f"Value stream map: {model.stream_name}, {model.period_label}"
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="vsm-map{" vsm-projection" if model.projection else ""}" id="{p}" viewBox="0 0 {W} {height}" width="100%" '
        f'role="group" aria-roledescription="{"future-state value stream map" if model.projection else "value stream map"}" aria-labelledby="{p}-title {p}-desc" preserveAspectRatio="xMidYMin meet">'
        f'<title id="{p}-title">{_e(title)}</title>'
        f'<desc id="{p}-desc">{_e(desc)}</desc><style>{STYLE}{PROJECTION_STYLE if model.projection else ""}{focus_css}</style><defs>'
        f'<marker id="{p}-flow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path class="vsm-head-flow" d="M0,0L10,5L0,10z"/></marker>'
        f'<marker id="{p}-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path class="vsm-head-rework" d="M0,0L10,5L0,10z"/></marker>'
        f'</defs><rect class="vsm-bg" width="{W}" height="{height}"/>'
    )
    return head + "\n".join(body) + "</svg>\n"


# ---------------------------------------------------------------- table


def _cell_html(f: Figure | None, value: str | None = None) -> str:
    if f is None:
        return '<td class="num">–</td>'
    was = ""
    if f.has_baseline:  # keep 'was 4.1 d ▼' on one line in narrow columns; the verdict may wrap
        before, sign, verdict = change_parts(f)
        was = f"<br><small>{_e(' '.join(t for t in (f'was {before}', sign) if t)).replace(' ', '&nbsp;')}"
        was += f" {_e(verdict)}</small>" if verdict else "</small>"
    return f'<td class="num">{_e(fmt(f.value, f.unit) if value is None else value)}{was}</td>'


def map_table(model: MapModel) -> str:
    """The map's figures as HTML tables (stages in stream order, then totals, moves back, process changes)."""
    rungs = model.ladder()
    period = (
        f"{model.period_label} ({model.period_dates})" if model.period_dates else model.period_label
    )
    base = (
        f"; beside each figure the baseline ({model.baseline_label}), ▲ higher or ▼ lower, and the verdict where there is one"
        if model.baseline_label
        else ""
    )
    if model.projection:
        base = (
            f"; beside each figure the measured value ({model.baseline_label}), ▲ higher or ▼ lower"
        )
    what = (
        f"Projection, not measured: future-state map of {model.stream_name} if {model.projection} had applied to the items of {period}"
        if model.projection
        else f"Value stream map of {model.stream_name}, {period}"
    )
    out = [
        '<div class="table-wrap vsm-table"><table>',
        f"<caption>{_e(f'{what}: stages in stream order{base}.')}</caption>",
    ]
    heads = [
        "Stage",
        "Kind",
        "Mean time",
        "Median",
        "p85",
        "Items through",
        "WIP limit" if model.projection else "Now in stage",
        "Hand-offs",
        "%C&A",
        "Ladder (means)",
    ]
    out.append(
        "<thead><tr>"
        + "".join(f'<th scope="col">{_e(h)}</th>' for h in heads)
        + "</tr></thead><tbody>"
    )

    def ladder_text(anchor: str) -> str:
        return ", ".join(
            f"{'waiting' if g.level == 'wait' else 'working'} {dur(g.days)}"
            + (f" ({g.tag})" if g.tag else "")
            for g in rungs
            if g.anchor == anchor
        )

    if model.unmapped_days > 0:
        out.append(
            f'<tr><th scope="row">Unmapped</th><td>time in states no stage lists</td>{"<td></td>" * 7}<td>{_e(ladder_text("start"))}</td></tr>'
        )
    for s in model.stages:
        notes_ = ["active (process box)" if s.kind == "active" else "wait (queue)"]
        notes_ += ["commitment point before it"] if model.commitment == s.id else []
        notes_ += ["bottleneck"] if model.bottleneck == s.id else []
        wip = model.wip_by_stage.get(s.id)
        now = integer(wip) + (f" / limit {s.wip_limit}" if s.wip_limit else "")
        if model.projection:
            now = integer(s.wip_limit) if s.wip_limit else "–"
        elif wip is not None and s.wip_limit and wip > s.wip_limit:
            now += f" (over the limit by {wip - s.wip_limit})"
        cls = ' class="commit"' if model.commitment == s.id else ""
        out.append(
            f'<tr{cls}><th scope="row">{_e(s.label)}</th><td>{_e("; ".join(notes_))}</td>'
            + "".join(_cell_html(s.figure(k)) for k in ("mean", "p50", "p85", "items_through"))
            + f'<td class="num">{_e(now)}</td>'
            + (
                "".join(_cell_html(s.figure(k)) for k in ("hand_offs", "pct_complete_accurate"))
                if s.kind == "active"
                else "<td></td><td></td>"
            )
            + f"<td>{_e(ladder_text(s.id))}</td></tr>"
        )
    if any(g.anchor == "end" for g in rungs):
        names = ", ".join(label for label, _ in model.end_stage_days)
        commit = ' class="commit"' if model.commitment is None else ""
        out.append(
            f'<tr{commit}><th scope="row">{_e(names)}</th><td>time in done or cancelled stages before the final done</td>{"<td></td>" * 7}<td>{_e(ladder_text("end"))}</td></tr>'
        )
    out.append("</tbody></table>")

    cols = ["Measure", "Projected" if model.projection else "This period"] + (
        ["Measured" if model.projection else "Baseline", "Change"] if model.baseline_label else []
    )
    out.append(
        f"<table><caption>{_e(f'Totals for {period}')}</caption><thead><tr>"
        + "".join(f'<th scope="col">{_e(c)}</th>' for c in cols)
        + "</tr></thead><tbody>"
    )
    wait, work = model.ladder_sums()

    def row(label: str, f: Figure | None, value: str | None = None) -> str:
        if f is None:
            cells = f'<td class="num">{_e(value or "–")}</td>' + (
                "<td></td><td></td>" if model.baseline_label else ""
            )
        else:
            cells = f'<td class="num">{_e(fmt(f.value, f.unit))}</td>'
            if model.baseline_label:
                was, sign, verdict = change_parts(f)
                cells += f'<td class="num">{_e(was)}</td><td>{_e(" ".join(t for t in (sign, verdict) if t))}</td>'
        return f'<tr><th scope="row">{_e(label)}</th>{cells}</tr>'

    out += [
        row(f"Demand: items {f.label} per week", f)
        for f in (model.arrivals, model.committed_arrivals)
        if f is not None
    ]
    out.append(row("Ladder: waiting (queues, blocked, unmapped)", None, dur(wait)))
    out.append(row("Ladder: working (active, not blocked)", None, dur(work)))
    out.append(row("Ladder sum = mean lead time", None, dur(wait + work)))
    out += [row(f.label, f) for f in model.totals]
    out.append("</tbody></table>")

    cells = layout_cells(model)
    drawn, hidden = _rework_routes(model, cells)
    if model.rework:
        out.append(
            f'<table><caption>Work sent back to an earlier stage (share of completed items; the map draws the routes of {percent(model.rework_min_share)} or more)</caption><thead><tr><th scope="col">From</th><th scope="col">Back to</th><th scope="col">Share of items</th><th scope="col">On the map</th></tr></thead><tbody>'
        )
        shown = {(a.key, b.key, s) for a, b, s in drawn}
        for a, b, share in model.rework:
            on = any(
                sb == b and ss == share and (sa == a or (sa == "end" and a in model.customer_ids))
                for sa, sb, ss in shown
            )
            out.append(
                f'<tr><th scope="row">{_e(_label_of(model, a))}</th><td>{_e(_label_of(model, b))}</td><td class="num">{_e(percent(share))}</td><td>{"drawn" if on else "not drawn"}</td></tr>'
            )
        out.append("</tbody></table>")
    if model.process_events:
        out.append(
            '<table><caption>Process changes</caption><thead><tr><th scope="col">Date</th><th scope="col">Change</th><th scope="col">Stage</th></tr></thead><tbody>'
        )
        for e in model.process_events:
            out.append(
                f'<tr><th scope="row">{_e(e.date)}</th><td>{_e(e.label)}</td><td>{_e(_label_of(model, e.stage) if e.stage else "whole stream")}</td></tr>'
            )
        out.append("</tbody></table>")
    out += [
        f"<p>{_e(text)}</p>" for cls, text in notes(model, hidden, bool(drawn)) if cls == "vsm-warn"
    ]
    out.append("</div>")
    return "\n".join(out) + "\n"
