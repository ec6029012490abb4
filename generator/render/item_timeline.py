"""A small inline SVG per item: its timeline as coloured bars, one per visit, so a reader sees where time went."""

from __future__ import annotations

from html import escape

WIDTH = 320
HEIGHT = 18
COLOURS = {
    "active": "var(--active, #1f5f8b)",
    "wait": "var(--wait, #c98a1b)",
    "unmapped": "var(--muted, #9aa5af)",
    "done": "var(--good, #2e7d4f)",
    "cancelled": "var(--muted, #9aa5af)",
}


def timeline_svg(
    visits: list[tuple[str, str, float, float, bool]], total_days: float, describe: str
) -> str:
    """visits: (stage name, kind, start offset days, length days, blocked). Returns a labelled SVG."""
    if total_days <= 0 or not visits:
        return ""
    parts = [
        f'<svg class="tl" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(describe)}">'
    ]
    for name, kind, start, length, blocked in visits:
        x = start / total_days * WIDTH
        w = max(length / total_days * WIDTH, 0.8)
        label = f"{name}: {_fmt(length)}{' (blocked)' if blocked else ''}"
        fill = COLOURS.get(kind, COLOURS["unmapped"])
        stroke = ' stroke="var(--bad, #b3412f)" stroke-width="1.5"' if blocked else ""
        height = HEIGHT - 4 if kind == "active" else HEIGHT - 10
        y = (HEIGHT - height) / 2
        parts.append(
            f'<rect x="{x:.2f}" y="{y:.1f}" width="{w:.2f}" height="{height:.1f}" fill="{fill}"{stroke}><title>{escape(label)}</title></rect>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _fmt(days: float) -> str:
    return f"{days:.1f} d" if days >= 1 else f"{days * 24:.1f} h"
