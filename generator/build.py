"""The one module that calls more than one stage: load -> validate -> compute -> render -> write."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from generator.cache import BuildCache, CachedStream  # build cache (generator/cache.py)
from generator.errors import Location, Problem, sort_problems
from generator.metrics.compare import preload_statistics
from generator.metrics.stream import StreamMetrics, compute_stream
from generator.model import Project, StreamConfig, StreamData
from generator.render.context import SiteOptions
from generator.render.markdown_text import preload as preload_markdown
from generator.render.memo import RenderMemo
from generator.render.site import render_site
from generator.sources.collect import read_stream
from generator.validate.stream import load_project
from generator.write import write_site

if TYPE_CHECKING:
    from generator.engines.dask_engine import DaskEngine

Progress = Callable[[str, str, float], None]
# Streams above this many events are not cached: their pickle (about 230 bytes per event) would
# cost more to write and read back than computing them again.
CACHE_MAX_EVENTS = 2_000_000


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
    computed: list[str] = field(
        default_factory=list
    )  # build cache: streams read and computed this build
    reused: list[str] = field(
        default_factory=list
    )  # build cache: streams whose cached metrics were reused
    inputs: dict[str, list[str]] = field(
        default_factory=dict
    )  # build cache / serve: stream id -> files its sources read
    # vsm serve: every file written, by path (only when the previous site's were given)
    files: dict[str, bytes] = field(default_factory=dict)

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
    cache: bool = False  # build cache: reuse unchanged streams' metrics from <project>/.vsm-cache (`vsm build` turns it on; --no-cache)
    engine: str | None = None  # "pandas" or "dask" (docs/scale.md); None: vsm.yaml's `engine:`
    scheduler: str | None = (
        None  # dask: a running scheduler's address; None: vsm.yaml's, else a LocalCluster
    )
    workers: int | None = (
        None  # dask LocalCluster: worker processes (None: vsm.yaml's, else the cores)
    )


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


def build(
    options: BuildOptions,
    progress: Progress = _noop,
    cache: BuildCache | None = None,
    memo: RenderMemo | None = None,
    previous: Mapping[str, bytes] | None = None,
) -> BuildReport:
    """Build the whole site; write it only when no input is invalid (and, with strict, nothing warned).

    Streams whose inputs are unchanged reuse their metrics from the build cache: `cache` when
    given (vsm serve), else the project's `.vsm-cache/` when `options.cache`. With a render memo
    (vsm serve) only the pages whose inputs changed are rendered again (render/memo.py);
    with `previous`, the files `options.out` holds, unchanged files are hard-linked
    instead of written again and the files written come back in the report.
    """
    started = time.perf_counter()
    report = BuildReport()
    project, problems = load_project(options.project, set(options.only) if options.only else None)
    report.problems += problems
    preload_markdown()  # once per process
    computed: list[StreamMetrics] = []
    # ---- build cache (generator/cache.py): an unchanged stream reuses its metrics instead of reading and computing
    store = cache if cache is not None else BuildCache(options.project, enabled=options.cache)
    engine = _Engine(options, project)
    try:
        _compute_all(project, options, progress, report, computed, store, engine)
    finally:
        engine.close()
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
    files = render_site(project, computed, site_options, Path(project.root), memo)
    for metrics in computed:
        progress(metrics.config.id, "written", 1.0)
    write_site(files, options.out, previous)
    if previous is not None:
        report.files = files
    report.pages = sum(1 for name in files if name.endswith(".html"))
    report.written = True
    report.seconds = time.perf_counter() - started
    return report


class _Engine:
    """The engine computing the streams: the pandas engine, or a dask cluster started (or
    reached) when the first stream needs computing and closed after the last."""

    def __init__(self, options: BuildOptions, project: Project) -> None:
        settings = project.settings.engine
        changes: dict[str, object] = {}
        if options.engine is not None:
            changes["kind"] = options.engine
        if options.scheduler is not None:
            changes.update(scheduler=options.scheduler, workers=None, memory_limit=None)
        if options.workers is not None:
            changes["workers"] = options.workers
        self.settings = settings.model_copy(update=changes)
        self.where = Location(
            "vsm.yaml" if (options.engine, options.scheduler) == (None, None) else "(command line)"
        )
        self.dask: DaskEngine | None = None  # dask and distributed are imported only for it

    @property
    def is_dask(self) -> bool:
        return self.settings.kind == "dask"

    def start(self) -> list[Problem]:
        if self.dask is not None or not self.is_dask:
            return []
        from generator.engines.cluster import start
        from generator.engines.dask_engine import DaskEngine

        s = self.settings
        cluster, problems = start(s.scheduler, s.workers, s.memory_limit, self.where)
        if cluster is not None:
            self.dask = DaskEngine(cluster, s)
        return problems

    def close(self) -> None:
        if self.dask is not None:
            self.dask.cluster.close()
            self.dask = None


def _compute_all(
    project: Project,
    options: BuildOptions,
    progress: Progress,
    report: BuildReport,
    computed: list[StreamMetrics],
    store: BuildCache,
    engine: _Engine,
) -> None:
    preloaded = False
    for config in project.streams:
        hit = store.lookup(config)
        if hit is not None:
            computed.append(hit.metrics)
            report.reused.append(config.id)
            report.problems += [p for p in hit.metrics.problems if p not in report.problems]
            report.streams.append(_counted(config.id, hit.items, hit.events, hit.metrics.problems))
            report.inputs[config.id] = list(hit.metrics.quality.get("inputs", []))
            progress(config.id, "reused", 0.8)
            continue
        progress(config.id, "reading", 0.1)
        if not preloaded:
            preload_statistics()  # every computed stream compares baseline with current
            preloaded = True
        started = engine.start()
        if started:
            report.problems += started
            return
        if engine.dask is None:
            # vsm serve keeps what was read while the sources and their files are unchanged
            data = store.read(
                config, functools.partial(read_stream, Path(project.root), config), CACHE_MAX_EVENTS
            )
        else:
            lazy = engine.dask.read(Path(project.root), config)  # events stay for the workers
            data = lazy.data
        pa.default_memory_pool().release_unused()  # the reader's buffers: give them back before computing
        report.inputs[config.id] = sorted(data.inputs)
        # ---- end build cache
        stream_problems = list(data.problems)
        if not any(p.severity == "error" for p in data.problems):
            progress(config.id, "computing", 0.4)
            if engine.dask is None:
                metrics = compute_stream(config, data)
            else:
                metrics = engine.dask.compute(config, lazy)
                stream_problems = list(data.problems)  # with what the workers' readers found
        if not any(p.severity == "error" for p in stream_problems):
            metrics.problems = sort_problems(stream_problems + metrics.problems)
            metrics.quality["skipped"] = dict(sorted(data.skipped.items()))
            metrics.quality["inputs"] = sorted(data.inputs)
            metrics.quality["unavailable"] = unavailable_metrics(data.notes)
            computed.append(metrics)
            stream_problems = metrics.problems
        report.problems += [p for p in stream_problems if p not in report.problems]
        report.streams.append(_summary(config.id, data, stream_problems))
        events = data.counts[1] if data.counts is not None else len(data.events)
        # ---- build cache: keep what was computed for the next build
        if computed and computed[-1].config is config:
            small = events <= CACHE_MAX_EVENTS
            if small:
                report.computed.append(config.id)
            kept = CachedStream(computed[-1], report.streams[-1].items, report.streams[-1].events)
            store.store(config, kept, data.inputs, disk=small)
        # ---- end build cache
        del data  # the raw frames are not needed once computed; free them before rendering
        progress(config.id, "computed", 0.8)


def _counted(stream_id: str, items: int, events: int, problems: list[Problem]) -> StreamSummary:
    """A reused stream's summary row (build cache): counts as stored, problems as they were found."""
    return StreamSummary(
        stream_id,
        items,
        events,
        sum(1 for p in problems if p.severity == "warning"),
        sum(1 for p in problems if p.severity == "error"),
    )


def unavailable_metrics(notes: dict[str, object]) -> list[str]:
    """What the sources cannot support, in words for the data-quality page."""
    out = []
    if notes.get("no_history"):
        out.append(
            "The source has no state history (a Jira CSV export gives created and resolved only): lead time and "
            "throughput are measured from those two dates; cycle time, time per stage, flow efficiency, blocked "
            "time, rework and the value stream map's stage figures are not available. Export the issues with their "
            "changelog (jira-json) to get them."
        )
    return out


def _summary(stream_id: str, data: StreamData, problems: list[Problem]) -> StreamSummary:
    if data.counts is not None:  # the dask engine counted the rows its workers read
        return _counted(stream_id, *data.counts, problems)
    return StreamSummary(
        stream_id,
        items=int(data.items["item_id"].nunique())
        if len(data.items)
        else int(data.events["item_id"].nunique())
        if len(data.events)
        else 0,
        events=len(data.events),
        warnings=sum(1 for p in problems if p.severity == "warning"),
        errors=sum(1 for p in problems if p.severity == "error"),
    )
