"""A stream's overview: the value stream map of the current period (baseline beside it), notes, reports, definition."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.metrics.stream import StreamMetrics
from generator.render.map_context import period_map
from generator.render.markdown_text import render_inline, render_markdown

if TYPE_CHECKING:
    from generator.render.context import SiteContext


def notes_source(metrics: StreamMetrics, root: Path) -> str:
    """The stream's notes.md as written ('' when it has none)."""
    if not metrics.config.notes_path:
        return ""
    return (root / metrics.config.notes_path).read_text(encoding="utf-8")


def notes_html(metrics: StreamMetrics, root: Path) -> str:
    return render_markdown(notes_source(metrics, root)) if metrics.config.notes_path else ""


def render(
    ctx: SiteContext,
    metrics: StreamMetrics,
    root: Path,
    nav: dict[str, Any],
    reports: list[dict[str, Any]] | None = None,
) -> None:
    d = metrics.config.definition
    current = metrics.periods.get("current")
    baseline = metrics.periods.get("baseline")
    vsm = None
    if current is not None and current.summary["lead_time"]["count"]:
        vsm = period_map(
            metrics,
            current,
            baseline=baseline,
            comparison=metrics.comparison,
            id_prefix="vsm-current",
            root="../../",
        )
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
        current=current.summary if current else None,
        current_label=current.span.label if current else "",
        baseline_label=baseline.span.label if baseline else "",
        as_of=metrics.as_of,
        vsm=vsm,
        reports=reports or [],
        warnings=sum(1 for p in metrics.problems if p.severity == "warning"),
        nav=nav,
        active="overview",
    )
