"""Drawing one row of the map: boxes, the timeline ladder under them, rework arrows and the header above."""

from __future__ import annotations

import itertools

from generator.render.format import percent
from generator.render.vsm_map.layout import (
    FIG,
    H1,
    NAME,
    NAME_LH,
    PAD,
    SMALL,
    SMALL_LH,
    TRI_MAX,
    Cell,
    Line,
    M,
    W,
    bounds,
    safe_link,
)
from generator.render.vsm_map.model import MapModel, Rung
from generator.render.vsm_map.svg import Tip, draw_lines, esc, factory_icon, num, safe_id, svg_text
from generator.render.vsm_map.text import dur, text_width, wrap


def shape_edges(c: Cell) -> tuple[float, float]:
    """Left and right x where the flow line meets the cell's shape."""
    cx = c.x + c.width / 2
    if c.kind == "active":
        return c.x, c.x + c.width
    if c.kind == "wait":
        return cx - c.tri * 1.15 / 4, cx + c.tri * 1.15 / 4
    return cx - 28, cx + 28


def rework_routes(
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


def draw_header(model: MapModel, body: list[str], y: float) -> float:
    if model.projection:
        label = "PROJECTION · not measured"
        width = text_width(label, FIG, True) + 2 * PAD + 4
        body.append(
            f'<rect class="vsm-proj-badge" x="{M}" y="{num(y)}" width="{num(width)}" height="24" rx="12"/>'
        )
        body.append(svg_text(M + PAD + 2, y + 16.5, label, "vsm-proj-label vsm-b"))
        y += 32
    for t in wrap(model.stream_name, W - 2 * M, H1, True, max_lines=3):
        body.append(svg_text(M, y + 22, t, "vsm-h1"))
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
    parts_, y = draw_lines(lines, M, W - M, y + 4)
    body += parts_
    body.append(
        f'<line class="vsm-rule" x1="{M}" y1="{num(y + 8)}" x2="{W - M}" y2="{num(y + 8)}"/>'
    )
    return y + 16


def arrow_levels(spans: list[tuple[float, float]]) -> list[int]:
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


def draw_row(
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
    plans = [rework_plan(model, src, dst, share, r) for src, dst, share in mine]
    levels = arrow_levels([(lo, hi) for *_, lo, hi in plans])
    depth = [26 + 22 * lv for lv in levels]
    band = (max(depth) + 14) if mine else 0
    hi_y = data_bottom + band + 44
    lo_y = hi_y + 30
    bottom = lo_y + 26

    commit = next((i for i, c in enumerate(row) if (model.commitment or "end") == c.key), None)
    if commit is not None:
        cx = bounds(row, commit)[0]
        body.append(
            f'<line class="vsm-commit" x1="{num(cx)}" y1="{num(y)}" x2="{num(cx)}" y2="{num(bottom)}"><title>Commitment point: cycle time is measured from here, lead time from creation</title></line>'
        )

    # flow arrows between neighbours, and in/out of the row when the stream wraps
    for a, b in itertools.pairwise(row):
        x1, x2 = shape_edges(a)[1] + 3, shape_edges(b)[0] - 4
        body.append(
            f'<line class="vsm-flow" x1="{num(x1)}" y1="{num(flow_y)}" x2="{num(x2)}" y2="{num(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )
    if r < n_rows - 1:
        x1 = shape_edges(row[-1])[1] + 3
        body.append(
            f'<line class="vsm-flow" x1="{num(x1)}" y1="{num(flow_y)}" x2="{W - 8}" y2="{num(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )
    if r > 0:
        body.append(
            f'<line class="vsm-flow" x1="8" y1="{num(flow_y)}" x2="{num(shape_edges(row[0])[0] - 4)}" y2="{num(flow_y)}" marker-end="url(#{p}-flow)"/>'
        )

    for c in row:
        body += draw_cell(model, p, c, y, proc_top, name_h, flow_y, data_top, data_bottom)
        tips.append(Tip(cell_ident(p, c), c.x, proc_top, data_bottom, c.title))

    for (src, dst, share), d, plan in zip(mine, depth, plans, strict=True):
        sx, tx, label, lx, below = plan[:5]
        db = data_bottom + 2
        if tx is not None:
            path = f"M{num(sx)},{num(db)} C{num(sx)},{num(db + d * 4 / 3)} {num(tx)},{num(db + d * 4 / 3)} {num(tx)},{num(db + 1)}"
            text = svg_text(lx, db + d + 4.5, label, "vsm-bad vsm-sm vsm-halo", "middle")
        else:
            path = f"M{num(sx)},{num(db)} L{num(sx)},{num(db + d - 8)} Q{num(sx)},{num(db + d)} {num(sx - 8)},{num(db + d)} L{M / 2},{num(db + d)}"
            text = svg_text(lx, db + d + (4.5 if below else -5), label, "vsm-bad vsm-sm vsm-halo")
        body.append(
            f'<g class="vsm-rework" data-from="{esc(src.key)}" data-to="{esc(dst.key)}" data-share="{share:.6f}"><path d="{path}" marker-end="url(#{p}-back)"/>{text}</g>'
        )

    body.append(draw_ladder(row, r, rungs, hi_y, lo_y))
    if r < n_rows - 1:
        body.append(
            f'<line class="vsm-rule" x1="{M}" y1="{num(bottom + 8)}" x2="{W - M}" y2="{num(bottom + 8)}"/>'
        )
    return bottom + 18


def rework_plan(
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
    label = f"{percent(share)} sent back to {label_of(model, dst.key)}"
    if text_width(label, SMALL, True) <= sx - M - 24:  # above the line, left of the corner
        return sx, None, label, M + 4, False, M, sx
    label = wrap(label, W - M - sx - 16, SMALL, True, max_lines=1)[
        0
    ]  # on the line, right of the corner
    return sx, None, label, sx + 8, True, M, sx + 8 + text_width(label, SMALL, True)


def label_of(model: MapModel, key: str) -> str:
    return next((s.label for s in model.stages if s.id == key), "Customer" if key == "end" else key)


def cell_ident(p: str, c: Cell) -> str:
    if c.kind in ("active", "wait"):
        return f"{p}-stage-{safe_id(c.key)}"
    return f"{p}-{'trigger' if c.kind == 'start' else 'customer'}"


def draw_cell(
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
    ident = cell_ident(p, c)
    out = [
        f'<g class="vsm-cell {kind}" id="{ident}" data-stage="{esc(c.key)}" tabindex="0"><title>{esc_multiline(c.title)}</title>'
    ]
    out.append(
        f'<rect class="vsm-focus" x="{num(c.x - 5)}" y="{num(proc_top - 5)}" width="{num(c.width + 10)}" height="{num(data_bottom - proc_top + 10)}" rx="6"/>'
    )
    out += draw_lines(c.top, c.x, c.x + c.width, y)[0]
    cx = c.x + c.width / 2
    if c.kind == "active":
        out.append(
            f'<rect class="vsm-proc" x="{num(c.x)}" y="{num(proc_top)}" width="{num(c.width)}" height="{num(name_h)}" rx="3"/>'
        )
        out.append(
            f'<rect class="vsm-data" x="{num(c.x)}" y="{num(data_top)}" width="{num(c.width)}" height="{num(data_bottom - data_top)}"/>'
        )
        link = safe_link(model.items_link)
        ty = flow_y - len(c.name) * NAME_LH / 2
        for t in c.name:
            text = svg_text(
                cx, ty + (NAME_LH + NAME * 0.72) / 2, t, "vsm-nm vsm-b vsm-name", "middle"
            )
            out.append(f'<a href="{esc(link)}#stage-{esc(c.key)}">{text}</a>' if link else text)
            ty += NAME_LH
    elif c.kind == "wait":
        h, w = c.tri, c.tri * 1.15
        pts = f"{num(cx)},{num(flow_y - h / 2)} {num(cx + w / 2)},{num(flow_y + h / 2)} {num(cx - w / 2)},{num(flow_y + h / 2)}"
        out.append(f'<polygon class="vsm-tri" points="{pts}"/>')
        out.append(
            svg_text(
                cx,
                flow_y + h / 2 - 4,
                "I",
                "vsm-tri-i" + (" vsm-sm" if h < 36 else ""),
                "middle",
                ' aria-hidden="true"',
            )
        )
        out.append(
            f'<rect class="vsm-qbox" x="{num(c.x)}" y="{num(data_top)}" width="{num(c.width)}" height="{num(data_bottom - data_top)}" rx="3"/>'
        )
    else:
        out.append(factory_icon(cx, flow_y + 17))
    out += draw_lines(c.lines, c.x + PAD, c.x + c.width - PAD, data_top + PAD)[0]
    out.append("</g>")
    return out


def esc_multiline(text: str) -> str:
    return "\n".join(esc(t) for t in text.split("\n"))


def draw_ladder(row: list[Cell], r: int, rungs: tuple[Rung, ...], hi_y: float, lo_y: float) -> str:
    out = [f'<g class="vsm-ladder" data-row="{r}">']
    segs: list[tuple[float, float, Rung]] = []
    for i, c in enumerate(row):
        mine = [g for g in rungs if g.anchor == c.key]
        x0, x1 = bounds(row, i)
        if c.kind == "start":
            if r == 0:
                out.append(svg_text(c.x + 2, hi_y + 4, "waiting", "vsm-muted vsm-sm"))
                out.append(svg_text(c.x + 2, lo_y + 4, "working", "vsm-muted vsm-sm"))
            x0 = c.x + c.width * 0.62
        step = (x1 - x0) / max(len(mine), 1)
        segs += [(x0 + i * step, x0 + (i + 1) * step, g) for i, g in enumerate(mine)]
    prev: tuple[float, float, Rung] | None = None
    for a, b, g in segs:
        yv = hi_y if g.level == "wait" else lo_y
        if prev is not None and abs(prev[1] - a) < 0.5 and prev[2].level != g.level:
            out.append(
                f'<line class="vsm-riser" x1="{num(a)}" y1="{num(hi_y)}" x2="{num(a)}" y2="{num(lo_y)}"/>'
            )
        out.append(
            f'<line class="vsm-rung vsm-rung-{g.level}" x1="{num(a + 1)}" y1="{num(yv)}" x2="{num(b - 1)}" y2="{num(yv)}" data-stage="{esc(g.anchor)}" data-level="{g.level}" data-days="{g.days:.6f}"/>'
        )
        value = dur(g.days)
        if g.level == "wait":
            if g.tag:
                out.append(svg_text((a + b) / 2, yv - 22, g.tag, "vsm-muted vsm-sm", "middle"))
            out.append(svg_text((a + b) / 2, yv - 7, value, "vsm-rung-label", "middle"))
        else:
            out.append(svg_text((a + b) / 2, yv + 18, value, "vsm-rung-label", "middle"))
        prev = (a, b, g)
    out.append("</g>")
    return "".join(out)
