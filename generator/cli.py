"""The command line: the only module that prints or exits."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from typing import TYPE_CHECKING, Any

from generator import __version__
from generator.errors import Problem

if TYPE_CHECKING:  # the build pulls in pandas and plotly: import it only when a command needs it
    from generator.build import BuildReport, Progress

SHOWN = 50


def _problems_text(problems: list[Problem]) -> str:
    lines = [p.format() for p in problems[:SHOWN]]
    if len(problems) > SHOWN:
        lines.append(f"... and {len(problems) - SHOWN} more (all are listed on each stream's data-quality page)")
    return "\n".join(lines)


def _progress(enabled: bool) -> tuple[Progress, Any]:
    if not enabled:
        return (lambda stream, step, fraction: None), None
    if sys.stderr.isatty():
        from rich.progress import BarColumn, Progress as RichProgress, TextColumn

        bar = RichProgress(TextColumn("{task.description:<24}"), BarColumn(), TextColumn("{task.fields[step]}"), transient=True)
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


def _summary(report: BuildReport, verb: str) -> str:
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
        rows.append(f"wrote {report.pages} pages" if report.written else "nothing written; the previous site is unchanged")
    return "\n".join(rows)


def _cmd_build(args: argparse.Namespace) -> int:
    from generator.build import BuildOptions, build

    project = Path(args.project).resolve()
    out = Path(args.out).resolve() if args.out else project / "_site"
    options = BuildOptions(project=project, out=out, strict=args.strict, base_url=args.base_url, privacy=True if args.private else None, noindex=True if args.noindex else None)
    progress, bar = _progress(not args.quiet)
    try:
        report = build(options, progress)
    finally:
        if bar is not None:
            bar.stop()  # type: ignore[attr-defined]
    if report.problems:
        print(_problems_text(report.problems), file=sys.stderr)
    print(_summary(report, "build"), file=sys.stderr)
    if report.written:
        print(f"site: {out / 'index.html'}", file=sys.stderr)
    if report.errors:
        return 1
    if args.strict and report.warnings:
        print("--strict: warnings count as failure", file=sys.stderr)
        return 1
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from generator.build import BuildOptions, check

    report = check(BuildOptions(project=Path(args.project).resolve(), out=Path(".")))
    if report.problems:
        print(_problems_text(report.problems), file=sys.stderr)
    print(_summary(report, "check"), file=sys.stderr)
    if report.errors or (args.strict and report.warnings):
        return 1
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="vsm", description="Value stream reports as code: build a static site from stream definitions and tracker exports.")
    top.add_argument("--version", action="version", version=f"vsm {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    b = sub.add_parser("build", help="build the site", description="Build the static site from streams/ into the output folder.")
    b.add_argument("--project", default=".", metavar="DIR", help="the folder holding streams/ (default: current folder)")
    b.add_argument("--out", default=None, metavar="DIR", help="output folder (default: _site inside the project)")
    b.add_argument("--base-url", default=None, metavar="URL", help="the site's public URL (enables sitemap.xml and canonical links)")
    b.add_argument("--strict", action="store_true", help="treat warnings as failure (exit 1, nothing written)")
    b.add_argument("--private", action="store_true", help="hide item titles, tracker links and actors everywhere")
    b.add_argument("--noindex", action="store_true", help="ask search engines not to index the pages")
    b.add_argument("--quiet", action="store_true", help="no progress output")
    b.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    b.set_defaults(func=_cmd_build)

    c = sub.add_parser("check", help="validate definitions and data without building", description="Validate every stream definition and data file; write nothing.")
    c.add_argument("--project", default=".", metavar="DIR", help="the folder holding streams/ (default: current folder)")
    c.add_argument("--strict", action="store_true", help="treat warnings as failure")
    c.add_argument("--debug", action="store_true", help="show a traceback on internal errors")
    c.set_defaults(func=_cmd_check)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "command", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an internal error, not bad input
        if getattr(args, "debug", False) or os.environ.get("VSM_DEBUG"):
            raise
        print(f"internal error: {type(exc).__name__}: {exc}\n  hint: this is a bug in vsm; rerun with --debug and report the traceback", file=sys.stderr)
        return 3
