"""Markdown from notes and reports -> sanitised HTML (nh3), so untrusted text stays text."""

from __future__ import annotations

import functools
import threading

import markdown
import nh3

TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "colspan", "rowspan"},
    "td": {"align", "colspan", "rowspan"},
    "abbr": {"title"},
    "*": {"id"},
}
SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["tables", "fenced_code", "sane_lists", "attr_list", "footnotes", "toc"]


_local = threading.local()


def _converter() -> markdown.Markdown:
    """One converter per thread, reset before each text: building one (loading its
    extensions) costs about 10 ms, which a site with many texts paid every time."""
    md: markdown.Markdown | None = getattr(_local, "md", None)
    if md is None:
        md = _local.md = markdown.Markdown(extensions=EXTENSIONS, output_format="html")
    return md


@functools.cache  # once per process
def preload() -> None:
    """Load Markdown's extensions on a background thread while the build reads its data: the
    first converter of a process costs about 0.07 s (entry points, imports, regular
    expressions), which the first page with Markdown paid. Those stay loaded for every thread."""
    threading.Thread(
        target=markdown.Markdown,
        kwargs={"extensions": EXTENSIONS, "output_format": "html"},
        name="vsm-preload-markdown",
        daemon=True,
    ).start()


def render_markdown(text: str, *, shift_headings: bool = True) -> str:
    """Markdown -> safe HTML. `# Title` becomes <h2> so the page keeps one <h1>."""
    html = _converter().reset().convert(text)
    if shift_headings:
        for level in range(5, 0, -1):
            html = html.replace(f"<h{level}", f"<h{level + 1}").replace(
                f"</h{level}>", f"</h{level + 1}>"
            )
    clean = nh3.clean(
        html, tags=TAGS, attributes=ATTRIBUTES, url_schemes=SCHEMES, link_rel="noopener noreferrer"
    )
    # a code block scrolls sideways: keyboard users must be able to focus it to scroll it
    return clean.replace("<pre>", '<pre tabindex="0">')


def render_inline(text: str) -> str:
    """One-paragraph Markdown (a stream's description) without the surrounding <p>."""
    html = render_markdown(text, shift_headings=False).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return html
