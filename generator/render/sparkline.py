"""Tiny inline SVG line charts for the home cards (no script, no library)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

WIDTH = 120
HEIGHT = 28


def sparkline(values: Sequence[float | None], label: str) -> str:
    """A polyline of the values (gaps skipped), the last point marked; '' when fewer than 2 values."""
    points = [
        (i, float(v)) for i, v in enumerate(values) if v is not None and not math.isnan(float(v))
    ]
    if len(points) < 2:
        return ""
    lo = min(v for _, v in points)
    hi = max(v for _, v in points)
    span = hi - lo or 1.0
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return 2 + i / n * (WIDTH - 4), HEIGHT - 3 - (v - lo) / span * (HEIGHT - 6)

    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in points))
    lx, ly = xy(*points[-1])
    return (
        f'<svg class="spark" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(label)}">'
        f'<polyline points="{coords}" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="currentColor"/></svg>'
    )
