"""The map's data as an HTML table: its text alternative, with every figure and baseline."""

from __future__ import annotations

from generator.render.format import integer, percent
from generator.render.vsm_map.draw import notes
from generator.render.vsm_map.layout import layout_cells
from generator.render.vsm_map.model import Figure, MapModel
from generator.render.vsm_map.rows import label_of, rework_routes
from generator.render.vsm_map.svg import esc
from generator.render.vsm_map.text import change_parts, dur, fmt

# ---------------------------------------------------------------- table


def cell_html(f: Figure | None, value: str | None = None) -> str:
    if f is None:
        return '<td class="num">–</td>'
    was = ""
    if f.has_baseline:  # keep 'was 4.1 d ▼' on one line in narrow columns; the verdict may wrap
        before, sign, verdict = change_parts(f)
        was = f"<br><small>{esc(' '.join(t for t in (f'was {before}', sign) if t)).replace(' ', '&nbsp;')}"
        was += f" {esc(verdict)}</small>" if verdict else "</small>"
    return f'<td class="num">{esc(fmt(f.value, f.unit) if value is None else value)}{was}</td>'


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
        f"<caption>{esc(f'{what}: stages in stream order{base}.')}</caption>",
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
        + "".join(f'<th scope="col">{esc(h)}</th>' for h in heads)
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
            f'<tr><th scope="row">Unmapped</th><td>time in states no stage lists</td>{"<td></td>" * 7}<td>{esc(ladder_text("start"))}</td></tr>'
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
            f'<tr{cls}><th scope="row">{esc(s.label)}</th><td>{esc("; ".join(notes_))}</td>'
            + "".join(cell_html(s.figure(k)) for k in ("mean", "p50", "p85", "items_through"))
            + f'<td class="num">{esc(now)}</td>'
            + (
                "".join(cell_html(s.figure(k)) for k in ("hand_offs", "pct_complete_accurate"))
                if s.kind == "active"
                else "<td></td><td></td>"
            )
            + f"<td>{esc(ladder_text(s.id))}</td></tr>"
        )
    if any(g.anchor == "end" for g in rungs):
        names = ", ".join(label for label, _ in model.end_stage_days)
        commit = ' class="commit"' if model.commitment is None else ""
        out.append(
            f'<tr{commit}><th scope="row">{esc(names)}</th><td>time in done or cancelled stages before the final done</td>{"<td></td>" * 7}<td>{esc(ladder_text("end"))}</td></tr>'
        )
    out.append("</tbody></table>")

    cols = ["Measure", "Projected" if model.projection else "This period"] + (
        ["Measured" if model.projection else "Baseline", "Change"] if model.baseline_label else []
    )
    out.append(
        f"<table><caption>{esc(f'Totals for {period}')}</caption><thead><tr>"
        + "".join(f'<th scope="col">{esc(c)}</th>' for c in cols)
        + "</tr></thead><tbody>"
    )
    wait, work = model.ladder_sums()

    def row(label: str, f: Figure | None, value: str | None = None) -> str:
        if f is None:
            cells = f'<td class="num">{esc(value or "–")}</td>' + (
                "<td></td><td></td>" if model.baseline_label else ""
            )
        else:
            cells = f'<td class="num">{esc(fmt(f.value, f.unit))}</td>'
            if model.baseline_label:
                was, sign, verdict = change_parts(f)
                cells += f'<td class="num">{esc(was)}</td><td>{esc(" ".join(t for t in (sign, verdict) if t))}</td>'
        return f'<tr><th scope="row">{esc(label)}</th>{cells}</tr>'

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
    drawn, hidden = rework_routes(model, cells)
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
                f'<tr><th scope="row">{esc(label_of(model, a))}</th><td>{esc(label_of(model, b))}</td><td class="num">{esc(percent(share))}</td><td>{"drawn" if on else "not drawn"}</td></tr>'
            )
        out.append("</tbody></table>")
    if model.process_events:
        out.append(
            '<table><caption>Process changes</caption><thead><tr><th scope="col">Date</th><th scope="col">Change</th><th scope="col">Stage</th></tr></thead><tbody>'
        )
        for e in model.process_events:
            out.append(
                f'<tr><th scope="row">{esc(e.date)}</th><td>{esc(e.label)}</td><td>{esc(label_of(model, e.stage) if e.stage else "whole stream")}</td></tr>'
            )
        out.append("</tbody></table>")
    out += [
        f"<p>{esc(text)}</p>"
        for cls, text in notes(model, hidden, bool(drawn))
        if cls == "vsm-warn"
    ]
    out.append("</div>")
    return "\n".join(out) + "\n"
