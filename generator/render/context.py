"""What every page renders with: the site's options, the shared context, a stream's navigation.

Pages import this module, never render/site.py: site.py assembles the pages,
so the dependency runs one way (site -> pages -> context).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jinja2

from generator import __version__
from generator.metrics.stream import StreamMetrics
from generator.model import Project

if TYPE_CHECKING:
    from generator.render.memo import RenderMemo


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
    memo: RenderMemo | None = None  # vsm serve: units kept from the last render (render/memo.py)

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
    parts = [
        re.sub(r"[^a-z0-9]+", "-", part.casefold()).strip("-") or "group"
        for part in group.split("/")
    ]
    return "/".join(parts)
