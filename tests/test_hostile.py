"""Hostile input: every text a user or a tracker controls carries script, attribute, URL and template payloads.

The project is written into tmp_path by `write_hostile_project`; the build must
show every payload as inert text: (a) no live markup in any output file,
(b) no dialog and no on* attribute in Chromium, (c) no spreadsheet formula in
any CSV download.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from site_fixtures import (
    build_site,
    index_pages,
    is_external,
    load_page,
    output_files,
    page_files,
    resolve,
    serve,
)

from generator.build import BuildOptions, build

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ATTR = '" onmouseover="alert(1)'
JS_URL = "javascript:alert(1)"
BREAKOUT = "</script><script>alert(1)</script>"
TEMPLATE = "tmpl{{ 7*7 }}end"  # rendered by a template engine it would read tmpl49end
EVALUATED = "tmpl49end"
SVG = "<svg onload=alert(1)>"
FORMULA = '=HYPERLINK("http://x")'

STREAM_YAML = f"""\
name: {json.dumps(SCRIPT + " " + TEMPLATE)}
description: {json.dumps(f"Desc {IMG} [click]({JS_URL}) {ATTR} {BREAKOUT} {TEMPLATE}")}
owner: {json.dumps(ATTR)}
group: {json.dumps(IMG + "/" + BREAKOUT)}
timezone: UTC
as_of: 2026-03-01T00:00:00Z
sources:
  - kind: events-csv
    path: data/events.csv
  - kind: items-csv
    path: data/items.csv
stages:
  - id: backlog
    name: {json.dumps(SCRIPT)}
    states: [{json.dumps(IMG)}]
    kind: wait
  - id: dev
    name: {json.dumps(ATTR)}
    states: [{json.dumps(ATTR)}]
    kind: active
    wip_limit: 3
  - id: review
    name: {json.dumps(BREAKOUT)}
    states: [{json.dumps(BREAKOUT)}]
    kind: active
  - id: done
    name: {json.dumps(TEMPLATE + " " + JS_URL)}
    states: [Done]
    kind: done
commitment: dev
blocked:
  states: ["<b onmouseover=alert(1)>Blocked</b>"]
item_types:
  {json.dumps(SCRIPT)}: feature
  {json.dumps(TEMPLATE)}: defect
periods:
  baseline:
    start: 2026-01-01
    end: 2026-01-31
    label: {json.dumps(IMG)}
  current:
    start: 2026-02-01
    end: 2026-02-28
    label: {json.dumps(BREAKOUT)}
targets:
  lead_time_p85_days: 10
  throughput_per_week: 2
events:
  - date: 2026-02-10
    label: {json.dumps(BREAKOUT + IMG + TEMPLATE)}
    stage: review
"""

NOTES = f"""\
# Notes {SCRIPT}

Raw HTML: {SCRIPT} {IMG} <iframe src="{JS_URL}"></iframe> <div onclick="alert(1)">div</div>

Links: [click]({JS_URL}), [mixed case](JaVaScRiPt:alert(1)), <a href="{JS_URL}">raw</a>, ![img]({JS_URL})

A paragraph with attributes.
{{: onmouseover="alert(1)" }}

Breakout {BREAKOUT} and a template {TEMPLATE} and {ATTR}.
"""

REPORT = f"""\
---
title: {json.dumps(SCRIPT + " " + TEMPLATE)}
period: current
label: {json.dumps(ATTR)}
---
# Heading {IMG}

Text [click]({JS_URL}) {BREAKOUT} {ATTR}

Lead time p85: {{{{ metric lead_time.p85 }}}}

{{{{ compare lead_time_p85 }}}}

{{{{ chart throughput }}}}

{{{{ chart scatter }}}}

{{{{ map }}}}
"""

HOSTILE_ID = 'H-4"><img src=x onerror=alert(1)>'

ITEMS = [  # item_id, type, title, created, url
    ("H-1", SCRIPT, SCRIPT, "2026-01-05T09:00:00Z", JS_URL),
    ("H-2", TEMPLATE, IMG, "2026-01-06T09:00:00Z", "https://tracker.example/H-2?q=\"><script>alert(1)</script>"),
    ("H-3", SCRIPT, FORMULA, "2026-02-02T09:00:00Z", " javascript:alert(1)"),
    (HOSTILE_ID, "=1+2", ATTR, "2026-02-03T09:00:00Z", "JAVASCRIPT:alert(1)"),
    ("H-5", SCRIPT, BREAKOUT + TEMPLATE, "2026-02-04T09:00:00Z", "https://tracker.example/H-5"),
    ("H-6", SCRIPT, "+cmd|' /C calc'!A0", "2026-01-12T09:00:00Z", "data:text/html,<script>alert(1)</script>"),
    ("H-7", SCRIPT, "@SUM(1+1)", "2026-02-05T09:00:00Z", ""),
    ("H-8", SCRIPT, "-2+3", "2026-02-06T09:00:00Z", ""),
]

# item_id -> [(timestamp, state, blocked)]: two items done in January, four in February, one in progress
FLOWS: dict[str, list[tuple[str, str]]] = {
    "H-1": [("2026-01-05T09:00:00Z", IMG), ("2026-01-06T09:00:00Z", ATTR), ("2026-01-08T09:00:00Z", BREAKOUT), ("2026-01-09T09:00:00Z", "Done")],
    "H-2": [("2026-01-06T09:00:00Z", IMG), ("2026-01-07T09:00:00Z", ATTR), ("2026-01-09T09:00:00Z", "<b onmouseover=alert(1)>Blocked</b>"), ("2026-01-12T09:00:00Z", ATTR), ("2026-01-14T09:00:00Z", BREAKOUT), ("2026-01-15T09:00:00Z", "Done")],
    "H-6": [("2026-01-12T09:00:00Z", IMG), ("2026-01-13T09:00:00Z", ATTR), ("2026-01-20T09:00:00Z", "Done")],
    "H-3": [("2026-02-02T09:00:00Z", IMG), ("2026-02-03T09:00:00Z", ATTR), ("2026-02-04T09:00:00Z", SVG), ("2026-02-05T09:00:00Z", BREAKOUT), ("2026-02-06T09:00:00Z", "Done")],
    HOSTILE_ID: [("2026-02-03T09:00:00Z", IMG), ("2026-02-05T09:00:00Z", ATTR), ("2026-02-09T09:00:00Z", BREAKOUT), ("2026-02-10T09:00:00Z", "Done")],
    "H-5": [("2026-02-04T09:00:00Z", IMG), ("2026-02-06T09:00:00Z", ATTR), ("2026-02-12T09:00:00Z", "Done")],
    "H-7": [("2026-02-05T09:00:00Z", IMG), ("2026-02-06T09:00:00Z", ATTR), ("2026-02-07T09:00:00Z", BREAKOUT), ("2026-02-16T09:00:00Z", "Done")],
    "H-8": [("2026-02-06T09:00:00Z", IMG), ("2026-02-10T09:00:00Z", ATTR), ("2026-02-20T09:00:00Z", BREAKOUT)],
}


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def write_hostile_project(root: Path, report: str = REPORT) -> Path:
    stream = root / "streams" / "evil"
    (stream / "data").mkdir(parents=True)
    (stream / "reports").mkdir()
    (root / "vsm.yaml").write_text(f"title: {json.dumps(SCRIPT + ' ' + TEMPLATE)}\n", encoding="utf-8")
    (stream / "stream.yaml").write_text(STREAM_YAML, encoding="utf-8")
    (stream / "notes.md").write_text(NOTES, encoding="utf-8")
    (stream / "reports" / "2026-q1.md").write_text(report, encoding="utf-8")
    (stream / "data" / "items.csv").write_text(_csv([["item_id", "type", "title", "created", "url"], *map(list, ITEMS)]), encoding="utf-8")
    events = [["item_id", "timestamp", "state", "blocked", "actor"]]
    for item, flow in FLOWS.items():
        events += [[item, ts, state, "", SCRIPT] for ts, state in flow]
    (stream / "data" / "events.csv").write_text(_csv(events), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_hostile_project(tmp_path_factory.mktemp("hostile") / "project")
    out = project.parent / "_site"
    report = build_site(project, out)
    codes = {p.code for p in report.problems}
    assert "W210" in codes, "the javascript: urls should have been reported and not linked"
    return out


# ---------------------------------------------------------------- (a) static scan of every output file

OUR_SCRIPT_TYPES = {"application/json"}
URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster", "background"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "form", "frame", "frameset", "applet"}


def dangerous_url(value: str) -> bool:
    """javascript:, vbscript: or data: after the whitespace and control characters browsers ignore."""
    cleaned = re.sub(r"[\x00-\x20]", "", value).lower()
    return cleaned.startswith(("javascript:", "vbscript:", "data:"))


def live_markup(out: Path, page: str) -> list[str]:
    """Everything on `page` that a browser would run: foreign scripts, on* attributes, script URLs, frames."""
    doc = load_page(out, page)
    found = []
    for tag, name, value, line in doc.attrs:
        where = f"{page}:{line} <{tag} {name}={value!r}>"
        if name.lower().startswith("on"):
            found.append(f"event handler attribute: {where}")
        if name.lower() in URL_ATTRS and value is not None and dangerous_url(value):
            found.append(f"script URL: {where}")
        if tag == "meta" and name == "http-equiv" and (value or "").lower() == "refresh":
            found.append(f"meta refresh: {where}")
    for node in doc.root.walk():
        if node.tag in FORBIDDEN_TAGS:
            found.append(f"<{node.tag}> on {page}:{node.line}")
    for attrs, body, line in doc.scripts:
        src = attrs.get("src")
        if src is not None:
            target, _ = resolve(page, src)
            if is_external(src) or not target.startswith("assets/") or not (out / target).is_file():
                found.append(f"foreign script {src!r} on {page}:{line}")
        elif attrs.get("type") in OUR_SCRIPT_TYPES:
            try:
                json.loads(body)  # a breakout would cut the JSON short
            except json.JSONDecodeError as e:
                found.append(f"JSON script on {page}:{line} does not parse ({e}): {body[:120]!r}")
        else:
            found.append(f"inline script on {page}:{line}: {body[:120]!r}")
    return found


def test_no_payload_becomes_markup(hostile_site: Path) -> None:
    pages = page_files(hostile_site)
    assert len(pages) >= 8, pages
    problems = [p for page in pages for p in live_markup(hostile_site, page)]
    assert not problems, "\n".join(problems)


def test_payloads_reach_no_file_a_browser_would_run(hostile_site: Path) -> None:
    """Only known kinds of file; data (CSV, JSON) may carry the text, scripts, styles and SVG may not."""
    kinds = {".html", ".csv", ".json", ".js", ".css", ".svg", ".xml", ".txt", ""}
    for name, data in output_files(hostile_site).items():
        suffix = Path(name).suffix
        assert suffix in kinds, f"unexpected kind of file: {name}"
        if suffix in (".js", ".css", ".svg", ".xml"):
            text = data.decode("utf-8", errors="replace")
            assert "alert(1)" not in text and EVALUATED not in text, f"{name} carries a payload"


def test_every_script_tag_is_ours_and_every_spec_parses(hostile_site: Path) -> None:
    """Counts the scripts per page: a </script> breakout would add one or cut a spec short."""
    for page in page_files(hostile_site):
        doc = load_page(hostile_site, page)
        charts = doc.root.find_all("div", "chart")
        specs = [a for a, _, _ in doc.scripts if a.get("type") == "application/json"]
        assert len(specs) == len(charts), f"{page}: {len(specs)} JSON scripts for {len(charts)} charts"
        html = (hostile_site / page).read_text(encoding="utf-8")
        assert html.count("<script") == len(doc.scripts), f"{page}: a <script the parser did not see as a script"


def test_payloads_are_shown_as_text(hostile_site: Path) -> None:
    """Not vacuous: the payloads reached the pages, escaped."""
    home = (hostile_site / "index.html").read_text(encoding="utf-8")
    stream = (hostile_site / "streams/evil/index.html").read_text(encoding="utf-8")
    items = (hostile_site / "streams/evil/items/index.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in home  # the stream name and the site title
    assert TEMPLATE in home and TEMPLATE in stream
    assert "&#34; onmouseover=&#34;alert(1)" in stream or "&quot; onmouseover=&quot;alert(1)" in stream  # owner, stage name
    assert "&lt;img src=x onerror=alert(1)&gt;" in items  # a title
    assert "https://tracker.example/H-5" in items  # an ordinary url stays a link
    assert "tracker.example/H-2?q=&#34;&gt;&lt;script&gt;" in items or "tracker.example/H-2?q=&quot;&gt;&lt;script&gt;" in items


def test_no_template_is_evaluated(hostile_site: Path) -> None:
    for name, data in output_files(hostile_site).items():
        text = data.decode("utf-8", errors="replace")
        assert EVALUATED not in text, f"{name}: a template expression was evaluated"


def test_markdown_links_keep_no_script_urls(hostile_site: Path) -> None:
    doc = load_page(hostile_site, "streams/evil/index.html")
    notes = [n for n in doc.root.walk() if n.attrs.get("id") == "notes"]
    assert notes, "the notes section is missing"
    links = notes[0].find_all("a")
    assert [a.all_text() for a in links][:3] == ["click", "mixed case", "raw"]
    assert all(a.attrs.get("href") is None for a in links[:3])


def test_a_template_expression_in_a_report_body_is_refused(tmp_path: Path) -> None:
    """`{{ ... }}` in a report is a reference, and an unknown one is an error, never evaluated."""
    project = write_hostile_project(tmp_path / "project", report="# Report\n\nSeven times seven: {{ 7*7 }}\n")
    report = build(BuildOptions(project=project, out=tmp_path / "_site", cache=False))
    assert not report.written
    assert [(p.code, p.location.line) for p in report.errors] == [("E141", 3)]


# ---------------------------------------------------------------- (c) CSV downloads

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_csv_downloads_neutralise_formulas(hostile_site: Path) -> None:
    files = {name: data for name, data in output_files(hostile_site).items() if name.endswith(".csv")}
    assert "streams/evil/data/items.csv" in files
    risky = []
    for name, data in files.items():
        for row_no, row in enumerate(csv.reader(io.StringIO(data.decode("utf-8"))), start=1):
            risky += [f"{name}:{row_no}: {cell!r}" for cell in row if cell.startswith(FORMULA_START) and not is_number(cell)]
    assert not risky, "\n".join(risky)
    items = {r["item_id"].lstrip("'"): r for r in csv.DictReader(io.StringIO(files["streams/evil/data/items.csv"].decode("utf-8")))}
    assert items["H-3"]["title"] == "'" + FORMULA
    assert items["H-6"]["title"] == "'+cmd|' /C calc'!A0"
    assert items["H-7"]["title"] == "'@SUM(1+1)"
    assert items["H-8"]["title"] == "'-2+3"
    assert items[HOSTILE_ID]["type"] == "'=1+2"
    assert items["H-1"]["title"] == SCRIPT  # CSV is not HTML: the text comes out as written


# ---------------------------------------------------------------- (b) in Chromium

LIVE_DOM_JS = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      const name = a.name.toLowerCase();
      if (name.startsWith('on')) bad.push(el.tagName + ' ' + a.name + '=' + a.value);
      if (['href', 'src', 'xlink:href', 'action', 'formaction'].includes(name)
          && /^(javascript|vbscript|data):/i.test(a.value.replace(/[\\u0000-\\u0020]/g, ''))) bad.push(el.tagName + ' ' + a.name + '=' + a.value);
    }
  }
  for (const s of document.scripts) {
    if (s.type === 'application/json') continue;
    if (!s.src || !new URL(s.src).pathname.includes('/assets/')) bad.push('script ' + (s.src || s.textContent.slice(0, 80)));
  }
  for (const f of document.querySelectorAll('iframe, object, embed, frame')) bad.push(f.tagName);
  return bad;
}"""


FIRE_EVENTS_JS = """() => {
  for (const el of document.querySelectorAll('body *')) {
    for (const type of ['mouseover', 'mouseenter', 'focus', 'focusin', 'animationstart', 'load', 'error']) {
      el.dispatchEvent(new Event(type, {bubbles: false}));
    }
  }
}"""


@pytest.mark.slow
@pytest.mark.browser
def test_no_dialog_and_no_handlers_in_chromium(hostile_site: Path, browser: Any) -> None:
    # the session's Chromium (conftest): a second sync_playwright in one worker process fails
    dialogs: list[str] = []
    errors: list[str] = []
    bad: dict[str, list[str]] = {}
    with serve(hostile_site) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 900})

        def watch(page: Any) -> None:
            def on_dialog(d: Any) -> None:
                dialogs.append(f"{page.url}: {d.type} {d.message!r}")
                d.dismiss()

            page.on("dialog", on_dialog)
            page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

        context.on("page", watch)
        for path in index_pages(hostile_site):
            url = base + path[: -len("index.html")]
            page = context.new_page()
            page.goto(url, wait_until="load")
            charts = page.locator(".chart[data-spec]")
            for i in range(charts.count()):
                charts.nth(i).scroll_into_view_if_needed()
                page.wait_for_function("el => el.dataset.ready === '1'", arg=charts.nth(i).element_handle(), timeout=20_000)
            page.evaluate(FIRE_EVENTS_JS)  # any handler that slipped through runs now
            for target in page.locator(".chart .point, .vsm svg [tabindex]").all()[:20]:
                # real hovers: plotly draws hover labels from the (escaped) point texts; some points sit outside the plot
                with contextlib.suppress(PlaywrightError):
                    target.hover(force=True, timeout=300)
            page.wait_for_timeout(100)
            found = page.evaluate(LIVE_DOM_JS)
            if found:
                bad[path] = found
            page.close()
        context.close()
    assert dialogs == []
    assert bad == {}, bad
    assert errors == []


def test_the_scan_finds_planted_markup(tmp_path: Path) -> None:
    """The static checks above can fail."""
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "charts.js").write_text("", encoding="utf-8")
    page = (
        '<html><head><script src="assets/charts.js"></script></head><body>'
        '<img src=x onerror=alert(1)><a href=" javascript:alert(1)">x</a><iframe src="x"></iframe>'
        '<script type="application/json" id="c-spec">{"t": "</script><script>alert(1)</script>"}</script>'
        "</body></html>"
    )
    (tmp_path / "index.html").write_text(page, encoding="utf-8")
    found = "\n".join(live_markup(tmp_path, "index.html"))
    assert "event handler attribute" in found and "script URL" in found and "<iframe>" in found
    assert "does not parse" in found and "inline script" in found
