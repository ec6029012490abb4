"""What the `vsm` commands show on the terminal: located problems, the progress of a
build and its summary table (with cli.py, the only modules that print)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from generator.errors import Problem

if TYPE_CHECKING:  # the build pulls in pandas and plotly: import it only when a command needs it
    from generator.build import BuildReport, Progress

SHOWN = 50


def problems_text(problems: list[Problem]) -> str:
    lines = [p.format() for p in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(
            f"... and {len(problems) - SHOWN} more (all are listed on each stream's data-quality page)"
        )
    return "\n".join(lines)


def progress(enabled: bool) -> tuple[Progress, Any]:
    if not enabled:
        return (lambda stream, step, fraction: None), None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as RichProgress

        bar = RichProgress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            TextColumn("{task.fields[step]}"),
            transient=True,
        )
        tasks: dict[str, object] = {}

        def update(stream: str, step: str, fraction: float) -> None:
            if stream not in tasks:
                tasks[stream] = bar.add_task(stream, total=1.0, step=step)
            bar.update(tasks[stream], completed=fraction, step=step)  # type: ignore[arg-type]

        bar.start()
        return update, bar

    def plain(stream: str, step: str, fraction: float) -> None:
        print(f"{stream}: {step}", file=sys.stderr, flush=True)

    return plain, None


def summary(report: BuildReport, verb: str) -> str:
    rows = [f"{'stream':<24}{'items':>10}{'events':>12}{'warnings':>10}{'errors':>8}"]
    for s in report.streams:
        rows.append(f"{s.id:<24}{s.items:>10,}{s.events:>12,}{s.warnings:>10,}{s.errors:>8,}")
    total_items = sum(s.items for s in report.streams)
    total_events = sum(s.events for s in report.streams)
    rows.append(
        f"{len(report.streams)} stream(s), {total_items:,} items, {total_events:,} events, "
        f"{len(report.warnings)} warning(s), {len(report.errors)} error(s) in {report.seconds:.1f}s"
    )
    if verb == "build":
        if report.reused:  # build cache
            rows.append(
                f"reused {len(report.reused)} unchanged stream(s) from .vsm-cache ({', '.join(report.reused)}); --no-cache recomputes them"
            )
        rows.append(
            f"wrote {report.pages} pages"
            if report.written
            else "nothing written; the previous site is unchanged"
        )
    return "\n".join(rows)
