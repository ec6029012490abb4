"""SVG primitives of the map: its style sheet, escaped text, number formatting, shapes, and the tooltip record."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import escape

from generator.render.vsm_map.layout import H1, NAME, SMALL, Line
from generator.render.vsm_map.text import clean

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


def num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


_MARKUP = re.compile(r"[&<>'\"]")


def esc(text: Any) -> str:
    text = clean(text)
    return str(escape(text)) if _MARKUP.search(text) else text


def safe_id(prefix: str) -> str:
    """An id prefix of letters, digits, '-' and '_' only, starting with a letter."""
    out = re.sub(r"[^A-Za-z0-9_-]", "-", prefix or "vsm")
    return out if out[:1].isalpha() else "m" + out


def size_cls(size: float, bold: bool) -> str:
    cls = {SMALL: "vsm-sm", NAME: "vsm-nm", H1: "vsm-h1"}.get(size, "")
    return (cls + " vsm-b").strip() if bold else cls


def svg_text(
    x: float, y: float, text: str, cls: str = "", anchor: str = "", extra: str = ""
) -> str:
    attrs = f' class="{cls.strip()}"' if cls.strip() else ""
    attrs += f' text-anchor="{anchor}"' if anchor else ""
    return f'<text x="{num(x)}" y="{num(y)}"{attrs}{extra}>{esc(text)}</text>'


def burst(cx: float, cy: float, r: float, cls: str, points: int = 8) -> str:
    pts = []
    for i in range(points * 2):
        rad = r if i % 2 == 0 else r * 0.48
        a = math.pi * i / points - math.pi / 2
        pts.append(f"{num(cx + rad * math.cos(a))},{num(cy + rad * math.sin(a))}")
    return f'<polygon class="{cls}" points="{" ".join(pts)}" aria-hidden="true"/>'


def draw_lines(
    lines: Sequence[Line], left: float, right: float, top: float
) -> tuple[list[str], float]:
    """SVG text for a stack of lines; returns the parts and the y after the last line."""
    out: list[str] = []
    y = top
    for ln in lines:
        base = y + (ln.lh + ln.size * 0.72) / 2
        x = left
        if ln.icon in ("burst", "event"):
            out.append(
                burst(
                    x + 6.5,
                    base - ln.size * 0.36,
                    7.5 if ln.icon == "burst" else 6,
                    "vsm-burst" if ln.icon == "burst" else "vsm-event",
                )
            )
        if ln.icon:
            x += 16
        if ln.left:
            t = svg_text(x, base, ln.left, f"{ln.lcls} {size_cls(ln.size, ln.bold)}")
            out.append(f'<a href="{esc(ln.href)}">{t}</a>' if ln.href else t)
        if ln.right:
            out.append(
                svg_text(right, base, ln.right, f"{ln.rcls} {size_cls(ln.size, ln.bold)}", "end")
            )
        y += ln.lh
    return out, y


def factory_icon(cx: float, base_y: float) -> str:
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
    return f'<polygon class="vsm-icon" aria-hidden="true" points="{" ".join(f"{num(x0 + a)},{num(y0 + b)}" for a, b in pts)}"/>'


@dataclass(frozen=True)
class Tip:
    """The definitions panel of a focusable element, shown while it has focus."""

    ident: str
    x: float
    top: float
    bottom: float
    text: str  # heading, then one line per figure (the same text as the element's <title>)


TIP_W = 400
