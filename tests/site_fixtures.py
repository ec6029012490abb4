"""Helpers shared by the built-site suites: build a project, parse its pages, serve it, drive Chromium.

Imported by tests/conftest.py (the session-scoped example build) and by the
site suites directly; nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from generator.build import BuildOptions, BuildReport, build

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT  # the product's own streams/ is the example project
FOUNDATION = ROOT / "tests" / "data" / "foundation" / "project"
SCREENSHOTS = ROOT / "test-output" / "screenshots"

# never download a browser: the system's Chromium, with everything that phones home switched off
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


# ---------------------------------------------------------------- building

def build_site(project: Path, out: Path, **options: Any) -> BuildReport:
    """Build `project` into `out` in-process; fail the test unless the site was written.

    The build cache is off unless asked for: a test must not read or leave `<project>/.vsm-cache`.
    """
    options.setdefault("cache", False)
    report = build(BuildOptions(project=project, out=out, **options))
    assert report.written, "build wrote nothing:\n" + "\n".join(p.format() for p in report.errors)
    return report


def copy_examples(dst: Path) -> Path:
    """A copy of the example project (streams/ only) at `dst`, for builds that need to change its inputs."""
    shutil.copytree(EXAMPLES / "streams", dst / "streams")
    return dst


def output_files(out: Path) -> dict[str, bytes]:
    """Every file of a built site by its path relative to the site root (posix), hidden ones included."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def page_files(out: Path) -> list[str]:
    """Every HTML page of the site, relative to its root, sorted."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html"))


def index_pages(out: Path) -> list[str]:
    """Every `index.html` of the site, relative to its root: the site's URLs (folders)."""
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("index.html"))


def url_of(page: str) -> str:
    """'streams/x/index.html' -> 'streams/x/' (the address a reader uses)."""
    return page[: -len("index.html")] if page.endswith("index.html") else page


# ---------------------------------------------------------------- parsing HTML (stdlib only)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # character data directly inside this element
    line: int = 0

    def ancestors(self) -> Iterator[Node]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (cls is None or cls in (n.attrs.get("class") or "").split())]

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)


class _TreeBuilder(HTMLParser):
    """A forgiving tree: void elements never nest, an end tag closes up to its nearest open match."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.all_attrs: list[tuple[str, str, str | None, int]] = []  # (tag, name, value, line), duplicates kept
        self.scripts: list[tuple[dict[str, str | None], str, int]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        self.all_attrs += [(tag, k, v, line) for k, v in attrs]
        node = Node(tag, dict(attrs), self.stack[-1], line=line)
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        self.all_attrs += [(tag, k, v, line) for k, v in attrs]
        self.stack[-1].children.append(Node(tag, dict(attrs), self.stack[-1], line=line))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                if tag == "script":
                    node = self.stack[i]
                    self.scripts.append((node.attrs, "".join(node.text), node.line))
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].text.append(data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


@dataclass
class Page:
    """A parsed page: its tree, every attribute as written, every script and its ids."""

    path: str
    root: Node
    attrs: list[tuple[str, str, str | None, int]]
    scripts: list[tuple[dict[str, str | None], str, int]]

    @property
    def ids(self) -> set[str]:
        return {v for _, k, v, _ in self.attrs if k == "id" and v is not None}

    def refs(self) -> list[tuple[str, str, str]]:
        """(tag, attribute, value) of every href and src on the page."""
        return [(tag, k, v) for tag, k, v, _ in self.attrs if k in ("href", "src") and v is not None]


def parse_page(html: str, path: str = "") -> Page:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return Page(path, builder.root, builder.all_attrs, builder.scripts)


@functools.lru_cache(maxsize=256)
def _parse_cached(path: str) -> Page:
    return parse_page(Path(path).read_text(encoding="utf-8"), path)


def load_page(out: Path, page: str) -> Page:
    """The parsed page `page` (relative to `out`); parsed once per session."""
    return _parse_cached(str(out / page))


def is_external(ref: str) -> bool:
    """True for links that leave the site: a scheme (http:, mailto:, ...) or protocol-relative //host."""
    parts = urlsplit(ref)
    return bool(parts.scheme) or ref.startswith("//")


def resolve(page: str, ref: str) -> tuple[str, str]:
    """A relative href/src of `page` -> (target path relative to the site root, fragment).

    A folder target ('streams/x/') becomes its 'streams/x/index.html'.
    """
    base = "http://site.invalid/" + page
    absolute = urljoin(base, ref)
    parts = urlsplit(absolute)
    path = unquote(parts.path).lstrip("/")
    if path == "" or path.endswith("/"):
        path += "index.html"
    return path, unquote(parts.fragment)


# ---------------------------------------------------------------- serving over HTTP

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    """A static server like GitHub Pages: a missing file gets the site's 404.html with status 404."""

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = Path(self.directory) / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextlib.contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve `folder` on http://127.0.0.1:<free port>/ in a thread; yields the base URL (ending in /)."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# ---------------------------------------------------------------- Chromium through Playwright

@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """The system's Chromium (never a downloaded one), closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
