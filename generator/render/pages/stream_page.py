"""A stream's overview page: its definition, counts and data problems."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.metrics.stream import StreamMetrics
from generator.render.markdown_text import render_inline, render_markdown

if TYPE_CHECKING:
    from generator.render.site import SiteContext


def notes_html(metrics: StreamMetrics, root: Path) -> str:
    if not metrics.config.notes_path:
        return ""
    return render_markdown((root / metrics.config.notes_path).read_text(encoding="utf-8"))


def render(ctx: SiteContext, metrics: StreamMetrics, root: Path, nav: dict[str, Any]) -> None:
    d = metrics.config.definition
    ctx.page(
        f"streams/{metrics.config.id}/index.html",
        "stream.html",
        title=d.name,
        stream=metrics.config,
        definition=d,
        description=render_inline(d.description) if d.description else "",
        notes=notes_html(metrics, root),
        quality=metrics.quality,
        problems=metrics.problems,
        periods=metrics.periods,
        as_of=metrics.as_of,
        nav=nav,
        active="overview",
    )
