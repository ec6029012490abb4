"""The whole map as one SVG: rows, notes, the footer with the totals, and the focusable tooltips."""

from __future__ import annotations

import math
from collections.abc import Sequence

from generator.render.format import percent
from generator.render.vsm_map.layout import (
    FIG,
    FIG_LH,
    PAD,
    SMALL,
    SMALL_LH,
    SUM_W,
    Line,
    M,
    W,
    balance,
    box_title,
    figure_lines,
    flow_rows,
    layout_cells,
)
from generator.render.vsm_map.model import MapModel
from generator.render.vsm_map.rows import (
    draw_header,
    draw_row,
    esc_multiline,
    label_of,
    rework_routes,
)
from generator.render.vsm_map.svg import (
    PROJECTION_STYLE,
    STYLE,
    TIP_W,
    Tip,
    draw_lines,
    esc,
    num,
    safe_id,
)
from generator.render.vsm_map.text import dur, fmt, wrap


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


def draw_footer(
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
    figs = [ln for f in model.totals for ln in figure_lines(f, inner)]
    head_h = sum(ln.lh for ln in head) + 10
    box_h = head_h + sum(ln.lh for ln in figs) + 2 * PAD
    top = box_top + 6
    title = box_title(f"Summary of {model.period_label}", model.totals)
    tips.append(Tip(f"{p}-summary", sx, top, top + box_h, title))
    tip = esc_multiline(title)
    body.append(
        f'<g class="vsm-cell vsm-summary" id="{p}-summary" tabindex="0"><title>{tip}</title>'
    )
    body.append(
        f'<rect class="vsm-focus" x="{num(sx - 5)}" y="{num(top - 5)}" width="{SUM_W + 10}" height="{num(box_h + 10)}" rx="6"/>'
    )
    body.append(
        f'<rect class="vsm-sumbox" x="{num(sx)}" y="{num(top)}" width="{SUM_W}" height="{num(box_h)}" rx="4"/>'
    )
    body.append(
        f'<rect class="vsm-sumhead" x="{num(sx)}" y="{num(top)}" width="{SUM_W}" height="{num(head_h)}" rx="4"/>'
    )
    body += draw_lines(head, sx + PAD, sx + SUM_W - PAD, top + 5)[0]
    body += draw_lines(figs, sx + PAD, sx + SUM_W - PAD, top + head_h + PAD)[0]
    body.append("</g>")

    right = W - M if top + box_h + 8 <= y else sx - 32
    lines: list[Line] = []
    for cls, text in notes(model, hidden, drawn):
        small = cls == "vsm-muted"
        size, lh = (SMALL, SMALL_LH) if small else (FIG, FIG_LH + (4 if cls == "vsm-b" else 0))
        lines += [
            Line(t, lcls=cls, size=size, lh=lh) for t in wrap(text, right - M, size, "vsm-b" in cls)
        ]
    parts, y_notes = draw_lines(lines, M, right, y + 6)
    body += parts
    return max(y_notes, top + box_h)


def draw_tips(tips: Sequence[Tip], height: float) -> tuple[str, list[str]]:
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
            f'<rect class="vsm-tipbox" x="{num(x)}" y="{num(y)}" width="{TIP_W}" height="{num(h)}" rx="4"/>'
        )
        parts += draw_lines(lines, x + PAD, x + TIP_W - PAD, y + PAD)[0] + ["</g>"]
        rules.append(f".vsm-map #{t.ident}:focus~#{t.ident}-tip")
    return (",".join(rules) + "{display:inline}\n") if rules else "", parts


def render_map(model: MapModel, *, id_prefix: str = "vsm") -> str:
    """The map as one responsive <svg> (viewBox, width 100%), titled and described for screen readers."""
    p = safe_id(id_prefix)
    cells = layout_cells(model)
    rows, beside = flow_rows(cells)
    arrows, hidden = rework_routes(model, cells)
    rungs = model.ladder()
    body: list[str] = []
    tips: list[Tip] = []
    y = last_top = draw_header(model, body, M)
    for r, row in enumerate(rows):
        last_top = y
        y = draw_row(model, p, body, row, r, len(rows), arrows, rungs, y, tips)
    y = draw_footer(model, p, body, hidden, bool(arrows), y, last_top if beside else y, tips)
    height = math.ceil(y + M)
    focus_css, tip_parts = draw_tips(tips, height)
    body += tip_parts
    wait, work = model.ladder_sums()
    bottleneck = label_of(model, model.bottleneck) if model.bottleneck else "none"
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
        f'<title id="{p}-title">{esc(title)}</title>'
        f'<desc id="{p}-desc">{esc(desc)}</desc><style>{STYLE}{PROJECTION_STYLE if model.projection else ""}{focus_css}</style><defs>'
        f'<marker id="{p}-flow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path class="vsm-head-flow" d="M0,0L10,5L0,10z"/></marker>'
        f'<marker id="{p}-back" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path class="vsm-head-rework" d="M0,0L10,5L0,10z"/></marker>'
        f'</defs><rect class="vsm-bg" width="{W}" height="{height}"/>'
    )
    return head + "\n".join(body) + "</svg>\n"
