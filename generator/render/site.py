"""Assemble the whole site in memory: pages, downloads and assets, keyed by output path."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from generator import __version__
from generator.metrics.stream import StreamMetrics
from generator.model import Project
from generator.render.downloads import items_csv, metrics_json, scenarios_csv
from generator.render.env import TEMPLATES, make_env
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

STATIC = TEMPLATES / "static"


@dataclass(frozen=True)
class SiteOptions:
    title: str = "Value streams"
    base_url: str | None = None
    privacy: bool = False
    noindex: bool = False


@dataclass
class SiteContext:
    """What every page needs: the environment, options, provenance and the asset names."""

    env: jinja2.Environment
    options: SiteOptions
    project: Project
    streams: list[StreamMetrics]
    provenance: str
    assets: dict[str, str]  # logical name -> path under the site root
    files: dict[str, bytes]
    reports: dict[str, list[dict[str, Any]]] = field(
        default_factory=dict
    )  # stream id -> its reports, newest first

    def page(self, path: str, template: str, **context: Any) -> None:
        """Render `template` to `path` (a folder's index.html); links are made relative to it."""
        depth = path.count("/")
        root = "../" * depth
        html = self.env.get_template(template).render(
            root=root,
            site=self.options,
            assets={k: root + v for k, v in self.assets.items()},
            provenance=self.provenance,
            version=__version__,
            nav_streams=[(m.config.id, m.config.definition.name) for m in self.streams],
            page_path=path,
            **context,
        )
        self.files[path] = html.encode("utf-8")

    def add(self, path: str, data: bytes) -> None:
        self.files[path] = data


def provenance() -> str:
    """The build's provenance from the environment (never the wall clock)."""
    commit = (
        os.environ.get("VSM_BUILD_COMMIT")
        or os.environ.get("GITHUB_SHA")
        or os.environ.get("CI_COMMIT_SHA")
    )
    if commit:
        return f"built by vsm {__version__} from commit {commit[:12]}"
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        import datetime as dt

        when = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"built by vsm {__version__} from sources dated {when}"
    return f"built by vsm {__version__}"


def _assets(files: dict[str, bytes]) -> dict[str, str]:
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
    for path in sorted(STATIC.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:10]
        name = f"assets/{path.stem}.{digest}{path.suffix}"
        files[name] = data
        out[path.name] = name
    return out


def stream_nav(metrics: StreamMetrics) -> dict[str, Any]:
    """The stream's sub-navigation: every page it has, in reading order."""
    sid = metrics.config.id
    base = f"streams/{sid}/"
    pages = [("overview", "Map", base)]
    if metrics.result is not None:
        pages += [("trends", "Trends", base + "trends/")]
        if metrics.forecast is not None:
            pages += [("forecast", "Forecast", base + "forecast/")]
        if metrics.comparison:
            pages += [("compare", "Baseline vs current", base + "compare/")]
        if metrics.dora:
            pages += [("dora", "Delivery (DORA)", base + "dora/")]
        pages += [("items", "Items", base + "items/")]
    pages += [("quality", "Data quality", base + "quality/")]
    if metrics.config.reports and metrics.result is not None:
        pages.insert(1, ("reports", "Reports", base + "#reports"))
    group = metrics.config.definition.group
    return {
        "id": sid,
        "name": metrics.config.definition.name,
        "group": group,
        "group_path": group_slug(group) if group else "",
        "pages": pages,
    }


def group_slug(group: str) -> str:
    """A group path as a URL path: 'Payments/Checkout' -> 'payments/checkout'."""
    import re

    parts = [
        re.sub(r"[^a-z0-9]+", "-", part.casefold()).strip("-") or "group"
        for part in group.split("/")
    ]
    return "/".join(parts)


def render_site(
    project: Project, streams: list[StreamMetrics], options: SiteOptions, root: Path
) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    ctx = SiteContext(make_env(), options, project, streams, provenance(), _assets(files), files)
    for metrics in streams:
        base = f"streams/{metrics.config.id}"
        if metrics.result is not None:
            ctx.add(f"{base}/data/items.csv", items_csv(metrics, options.privacy))
        ctx.add(f"{base}/data/metrics.json", metrics_json(metrics))
        if metrics.scenarios:
            ctx.add(f"{base}/data/scenarios.csv", scenarios_csv(metrics))
        nav = stream_nav(metrics)
        reports = report_page.render_all(ctx, metrics, nav) if metrics.result is not None else []
        ctx.reports[metrics.config.id] = reports
        stream_page.render(ctx, metrics, root, nav, reports)
        if metrics.result is not None:
            trends_page.render(ctx, metrics, nav)
            if metrics.forecast is not None:
                forecast_page.render(ctx, metrics, nav)
            items_page.render(ctx, metrics, nav)
            if metrics.comparison:
                compare_page.render(ctx, metrics, nav)
            if metrics.dora:
                dora_page.render(ctx, metrics, nav)
        quality_page.render(ctx, metrics, nav)
    groups_page.render(ctx, group_slug)
    home.render(ctx, group_slug)
    _not_found(ctx)
    if options.base_url:
        ctx.add("sitemap.xml", sitemap(files, options.base_url))
        ctx.add("robots.txt", robots(options))
    ctx.add(".nojekyll", b"")
    return files


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
