"""The one module that calls more than one stage: load -> validate -> compute -> render -> write."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator.errors import Problem, sort_problems
from generator.metrics.stream import StreamMetrics, compute_stream
from generator.model import Project, StreamConfig, StreamData
from generator.render.site import SiteOptions, render_site
from generator.sources.collect import read_stream
from generator.validate.stream import load_project
from generator.write import write_site

Progress = Callable[[str, str, float], None]


@dataclass
class StreamSummary:
    id: str
    items: int
    events: int
    warnings: int
    errors: int


@dataclass
class BuildReport:
    """What a build or check found: problems, per-stream counts, and whether it wrote a site."""

    problems: list[Problem] = field(default_factory=list)
    streams: list[StreamSummary] = field(default_factory=list)
    pages: int = 0
    written: bool = False
    seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


@dataclass(frozen=True)
class BuildOptions:
    project: Path
    out: Path
    strict: bool = False
    base_url: str | None = None
    privacy: bool | None = None
    noindex: bool | None = None
    only: frozenset[str] | None = None


def _noop(stream: str, step: str, fraction: float) -> None:
    return None


def read_all(project: Project, progress: Progress) -> list[tuple[StreamConfig, StreamData]]:
    out = []
    for config in project.streams:
        progress(config.id, "reading", 0.1)
        out.append((config, read_stream(Path(project.root), config)))
    return out


def check(options: BuildOptions, progress: Progress = _noop) -> BuildReport:
    """Validate every definition and read every data file; write nothing."""
    started = time.perf_counter()
    report = BuildReport()
    project, problems = load_project(options.project, set(options.only) if options.only else None)
    report.problems += problems
    for config, data in read_all(project, progress):
        report.problems += data.problems
        report.streams.append(_summary(config.id, data, data.problems))
    report.problems = sort_problems(report.problems)
    report.seconds = time.perf_counter() - started
    return report


def build(options: BuildOptions, progress: Progress = _noop) -> BuildReport:
    """Build the whole site; write it only when no input is invalid (and, with strict, nothing warned)."""
    started = time.perf_counter()
    report = BuildReport()
    project, problems = load_project(options.project, set(options.only) if options.only else None)
    report.problems += problems
    computed: list[StreamMetrics] = []
    for config, data in read_all(project, progress):
        stream_problems = list(data.problems)
        if not any(p.severity == "error" for p in data.problems):
            progress(config.id, "computing", 0.4)
            metrics = compute_stream(config, data)
            metrics.problems = sort_problems(stream_problems + metrics.problems)
            metrics.quality["skipped"] = dict(sorted(data.skipped.items()))
            metrics.quality["inputs"] = sorted(data.inputs)
            computed.append(metrics)
            stream_problems = metrics.problems
        report.problems += [p for p in stream_problems if p not in report.problems]
        report.streams.append(_summary(config.id, data, stream_problems))
        progress(config.id, "computed", 0.8)
    report.problems = sort_problems(report.problems)
    if report.errors or (options.strict and report.warnings):
        report.seconds = time.perf_counter() - started
        return report
    settings = project.settings
    site_options = SiteOptions(
        title=settings.title,
        base_url=options.base_url or settings.base_url,
        privacy=settings.privacy if options.privacy is None else options.privacy,
        noindex=settings.noindex if options.noindex is None else options.noindex,
    )
    files = render_site(project, computed, site_options, Path(project.root))
    for metrics in computed:
        progress(metrics.config.id, "written", 1.0)
    write_site(files, options.out)
    report.pages = sum(1 for name in files if name.endswith(".html"))
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


def _summary(stream_id: str, data: StreamData, problems: list[Problem]) -> StreamSummary:
    return StreamSummary(
        stream_id,
        items=int(data.items["item_id"].nunique()) if len(data.items) else int(data.events["item_id"].nunique()) if len(data.events) else 0,
        events=len(data.events),
        warnings=sum(1 for p in problems if p.severity == "warning"),
        errors=sum(1 for p in problems if p.severity == "error"),
    )
