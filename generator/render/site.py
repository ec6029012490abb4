"""Assemble the whole site in memory: pages, downloads and assets, keyed by output path."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator import __version__
from generator.metrics.stream import StreamMetrics
from generator.model import Project
from generator.presentation import ALL, CARDS, MAPS, shown
from generator.render.context import SiteContext, SiteOptions, group_slug, provenance, stream_nav
from generator.render.downloads import items_csv, metrics_json, scenarios_csv
from generator.render.env import TEMPLATES, make_env
from generator.render.memo import RenderMemo, folder_digest, unit
from generator.render.pages import (
    compare_page,
    dora_page,
    forecast_page,
    groups_page,
    home,
    items_page,
    quality_page,
    report_page,
    stream_page,
    trends_page,
)
from generator.validate.reports import ReportDef


def _assets(files: dict[str, bytes], static: Path) -> dict[str, str]:
    """Copy static files under assets/, with a content hash in each name so caches never go stale.

    plotly.min.js comes from the installed plotly package, its plotly.js version in the name.
    """
    import importlib.util
    import re

    # located without importing plotly (a second at start-up); the version is in its own module
    spec = importlib.util.find_spec("plotly")
    assert spec is not None and spec.origin is not None
    package = Path(spec.origin).parent
    version_text = (package / "offline" / "_plotlyjs_version.py").read_text(encoding="utf-8")
    match = re.search(r"__plotlyjs_version__\s*=\s*[\"']([^\"']+)", version_text)
    version = match.group(1) if match else "unknown"

    out: dict[str, str] = {}
    plotly_js = package / "package_data" / "plotly.min.js"
    name = f"assets/plotly-{version}.min.js"
    files[name] = plotly_js.read_bytes()
    out["plotly.min.js"] = name
    for path in sorted(static.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:10]
        name = f"assets/{path.stem}.{digest}{path.suffix}"
        files[name] = data
        out[path.name] = name
    return out


def render_site(
    project: Project,
    streams: list[StreamMetrics],
    options: SiteOptions,
    root: Path,
    memo: RenderMemo | None = None,
) -> dict[str, bytes]:
    """Every file of the site, keyed by output path; with a memo (vsm serve) unchanged units are put back."""
    files: dict[str, bytes] = {}
    templates = memo.templates if memo is not None else TEMPLATES
    env = memo.env if memo is not None else make_env(templates)
    assets = _assets(files, templates / "static")
    ctx = SiteContext(env, options, project, streams, provenance(), assets, files, memo=memo)
    if memo is not None:
        memo.start()
    site = (
        folder_digest(templates) if memo is not None else "",
        options,
        project.settings,
        ctx.provenance,
        tuple(ctx.assets.items()),
        tuple((m.config.id, m.config.definition.name, m.config.definition.group) for m in streams),
    )
    for metrics in streams:
        _render_stream(ctx, metrics, root, site)
    everything = tuple(streams)
    cards = tuple(
        (m.config.id, shown(m.config.definition, *CARDS), ctx.reports[m.config.id]) for m in streams
    )
    groups_page.render(ctx, group_slug, site)  # one unit per group
    unit(ctx, "home", (site, cards), everything, lambda: home.render(ctx, group_slug))
    _not_found(ctx)
    if options.base_url:
        ctx.add("sitemap.xml", sitemap(files, options.base_url))
        ctx.add("robots.txt", robots(options))
    ctx.add(".nojekyll", b"")
    if memo is not None:
        memo.forget_except(set(memo.rendered) | set(memo.reused) | set(memo.deferred))
    return files


def _render_stream(ctx: SiteContext, metrics: StreamMetrics, root: Path, site: object) -> None:
    """One stream's pages, each data page a unit of its own, then each report, then the overview (which shows the notes)."""
    sid = metrics.config.id
    nav = stream_nav(metrics)
    held = (metrics,)
    base = f"streams/{sid}"
    d = metrics.config.definition
    everything = shown(d, *ALL)  # the overview shows maps, targets and the description

    def page(name: str, render: Callable[[], None], *presentation: str) -> None:
        """One data page (or the downloads) as a unit of its own, keyed by what of stream.yaml it shows."""
        key = (site, nav, shown(d, *presentation))
        unit(ctx, f"{sid}:{name}", key, held, render)

    def downloads() -> None:
        if metrics.result is not None:
            ctx.add(f"{base}/data/items.csv", items_csv(metrics, ctx.options.privacy))
        ctx.add(f"{base}/data/metrics.json", metrics_json(metrics))
        if metrics.scenarios:
            ctx.add(f"{base}/data/scenarios.csv", scenarios_csv(metrics))

    page("data", downloads)
    if metrics.result is not None:
        page("trends", lambda: trends_page.render(ctx, metrics, nav), "events", "targets")
        if metrics.forecast is not None:
            page("forecast", lambda: forecast_page.render(ctx, metrics, nav), *MAPS)
        page("items", lambda: items_page.render(ctx, metrics, nav))
        if metrics.comparison:
            page("compare", lambda: compare_page.render(ctx, metrics, nav), *MAPS)
        if metrics.dora:
            page("dora", lambda: dora_page.render(ctx, metrics, nav), "events")
    page("quality", lambda: quality_page.render(ctx, metrics, nav))
    reports: list[dict[str, Any]] = []
    if metrics.result is not None:
        for report in metrics.config.reports:

            def one(report: ReportDef = report) -> dict[str, Any]:
                return report_page.render_one(ctx, metrics, nav, report)

            name = f"{sid}:report:{report.slug}"
            key = (site, nav, report, shown(d, *MAPS, "targets"))  # maps and target lines
            reports.append(unit(ctx, name, key, held, one))
        reports = report_page.newest_first(reports)
    ctx.reports[sid] = reports
    notes = stream_page.notes_source(metrics, root)
    unit(
        ctx,
        f"{sid}:overview",
        (site, nav, notes, reports, everything),
        held,
        lambda: stream_page.render(ctx, metrics, root, nav, reports),
    )


def _not_found(ctx: SiteContext) -> None:
    """404.html is served at any depth, so its links are absolute: from --base-url, else the domain root."""
    from urllib.parse import urlparse

    base = urlparse(ctx.options.base_url).path if ctx.options.base_url else "/"
    base = base if base.endswith("/") else base + "/"
    html = ctx.env.get_template("404.html").render(
        root=base,
        site=ctx.options,
        assets={k: base + v for k, v in ctx.assets.items()},
        provenance=ctx.provenance,
        version=__version__,
        nav_streams=[(m.config.id, m.config.definition.name) for m in ctx.streams],
        page_path="404.html",
        title="Page not found",
    )
    ctx.files["404.html"] = html.encode("utf-8")


def sitemap(files: dict[str, bytes], base_url: str) -> bytes:
    """Every page's URL (folders, ending in /), sorted; only built with a base URL."""
    from xml.sax.saxutils import escape

    base = base_url.rstrip("/") + "/"
    pages = sorted(name[: -len("index.html")] for name in files if name.endswith("index.html"))
    body = "".join(f"  <url><loc>{escape(base + page)}</loc></url>\n" for page in pages)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{body}</urlset>\n'.encode()


def robots(options: SiteOptions) -> bytes:
    base = (options.base_url or "").rstrip("/")
    if options.noindex:
        return b"User-agent: *\nDisallow: /\n"
    return f"User-agent: *\nAllow: /\nSitemap: {base}/sitemap.xml\n".encode()
