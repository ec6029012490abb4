"""The example site in a real browser (Chromium through Playwright), served over http://127.0.0.1.

One crawl from the home page visits every page once, with listeners for console
errors, page errors, failed requests and error responses, and draws every chart
on the way; the tests below assert on what it saw. Screenshots go to
test-output/screenshots/ (not committed).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from site_fixtures import SCREENSHOTS, index_pages, is_external, load_page, page_files, resolve

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHART_TIMEOUT_MS = 20_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Visit:
    """What one page did while it loaded and drew its charts."""

    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # absolute URLs of every a[href] on the page
    charts: int = 0
    charts_drawn: int = 0
    undrawn: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)  # axe-core's serious and critical findings

    def problems(self) -> list[str]:
        return self.console_errors + self.page_errors + self.failed_requests + self.bad_responses


def listen(page: Any, visit: Visit) -> None:
    page.on("console", lambda m: visit.console_errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.page_errors.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: visit.failed_requests.append(f"request failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: visit.bad_responses.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)


def draw_every_chart(page: Any, visit: Visit) -> None:
    """Scroll each chart into view (they draw lazily) and wait until charts.js marks it ready."""
    charts = page.locator(".chart[data-spec]")
    visit.charts = charts.count()
    for i in range(visit.charts):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        try:
            page.wait_for_function("el => el.dataset.ready === '1'", arg=chart.element_handle(), timeout=CHART_TIMEOUT_MS)
            visit.charts_drawn += 1
        except Exception:
            visit.undrawn.append(chart.get_attribute("data-spec") or f"chart #{i}")


AXE_IMPACTS = ("serious", "critical")


def axe_findings(page: Any) -> list[str]:
    """axe-core (the copy bundled with axe-playwright-python) over the page as drawn: one line per
    serious or critical violation and element, e.g. "color-contrast: .kind-wait (contrast 2.9)"."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1].strip()}"
        for v in results["violations"]
        if v["impact"] in AXE_IMPACTS
        for node in v["nodes"]
    ]


def open_page(context: Any, url: str) -> tuple[Any, Visit]:
    page = context.new_page()
    visit = Visit(url)
    listen(page, visit)
    response = page.goto(url, wait_until="load")
    visit.status = response.status if response else None
    return page, visit


def is_page_url(url: str, base: str) -> bool:
    """Same site, and an HTML page (a folder or .html), not a download."""
    path = urlsplit(url).path
    return url.startswith(base) and (path.endswith("/") or path.endswith(".html"))


# SVG links (the map's) have no string .href: resolve the attribute against the page's URL
LINKS_JS = "els => els.map(e => new URL(e.getAttribute('href'), document.baseURI).href)"


@dataclass
class Crawl:
    base: str
    visits: dict[str, Visit]  # site-relative page path (e.g. "streams/x/") -> what it did


@pytest.fixture(scope="module")
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=DESKTOP)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def crawl(context: Any, example_url: str) -> Crawl:
    """Breadth-first from the home page over every internal page link; each page loaded once, charts drawn."""
    queue = [example_url]
    seen = {example_url}
    visits: dict[str, Visit] = {}
    while queue:
        url = queue.pop(0)
        page, visit = open_page(context, url)
        draw_every_chart(page, visit)
        visit.links = page.eval_on_selector_all("a[href]", LINKS_JS)
        visit.accessibility = axe_findings(page)
        page.close()
        visits[url[len(example_url):]] = visit
        for link in visit.links:
            target = urldefrag(link)[0]
            if is_page_url(target, example_url) and target not in seen:
                seen.add(target)
                queue.append(target)
    return Crawl(example_url, visits)


def test_the_crawl_reaches_every_page(crawl: Crawl, example_site: Path) -> None:
    on_disk = {page[: -len("index.html")] for page in index_pages(example_site)}
    crawled = set(crawl.visits)
    assert on_disk - crawled == set(), "pages no link leads to"
    assert crawled - on_disk == set(), "links to pages that do not exist"


def test_every_page_loads_without_errors(crawl: Crawl) -> None:
    bad = {path: v.problems() for path, v in crawl.visits.items() if v.problems() or v.status != 200}
    assert not bad, bad


def test_every_chart_draws(crawl: Crawl) -> None:
    undrawn = {path: v.undrawn for path, v in crawl.visits.items() if v.undrawn}
    assert not undrawn, undrawn
    assert crawl.visits["streams/development/trends/"].charts >= 10
    # the forecast page: when, how many, two back-tests, the SLE per month and aging by risk
    for stream in ("development", "support"):
        visit = crawl.visits[f"streams/{stream}/forecast/"]
        assert visit.charts >= 6 and visit.charts_drawn == visit.charts, (stream, visit)
        # and its what-if section: one lead-time chart per scenario (two per example stream)
        assert visit.charts >= 6 + 2, (stream, visit)
    assert sum(v.charts_drawn for v in crawl.visits.values()) >= 20


def test_no_serious_accessibility_violations(crawl: Crawl) -> None:
    """axe-core on every page of the example site, charts drawn: no serious or critical violation."""
    found = {path: v.accessibility for path, v in crawl.visits.items() if v.accessibility}
    assert not found, "\n".join(f"{path}: {line}" for path, lines in found.items() for line in lines[:5])


def test_axe_finds_what_it_should(context: Any) -> None:
    """The check itself works: a page with a known contrast failure and an unlabelled image is flagged."""
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><p style="color:#ccc;background:#fff">faint</p><img src="x.png"></main></html>')
    found = axe_findings(page)
    page.close()
    assert any(line.startswith("color-contrast") for line in found), found
    assert any(line.startswith("image-alt") for line in found), found


def test_missing_pages_get_the_404_page(context: Any, example_url: str) -> None:
    """The deliberate 404: the server answers like GitHub Pages, and the 404 page's own assets load."""
    page, visit = open_page(context, example_url + "streams/no-such-stream/trends/")
    assert visit.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    home = page.locator("main a", has_text="home page")
    assert home.get_attribute("href") == "/"
    page.close()
    expected = f"HTTP 404: {example_url}streams/no-such-stream/trends/"
    assert visit.bad_responses == [expected]
    assert visit.page_errors == [] and visit.failed_requests == []
    # Chromium reports the document's own 404 on the console; nothing else may fail
    assert all("404" in line for line in visit.console_errors), visit.console_errors


def test_every_internal_link_resolves_on_disk_and_over_http(example_site: Path, example_url: str) -> None:
    targets: dict[str, str] = {}  # target path -> a page that links to it
    for page in page_files(example_site):
        if page == "404.html":  # root-relative by design; its links are checked by the 404 test
            continue
        for tag, attr, value in load_page(example_site, page).refs():
            if is_external(value) or value.startswith("#"):
                continue
            target, _ = resolve(page, value)
            where = f"{page}: <{tag} {attr}={value!r}>"
            assert not target.startswith("../"), f"{where} leaves the site"
            assert (example_site / target).is_file(), f"{where}: {target} does not exist"
            targets.setdefault(target, where)
    assert len(targets) > 50, "suspiciously few internal links"
    for target, where in sorted(targets.items()):
        try:
            with urllib.request.urlopen(example_url + target, timeout=10) as response:
                assert response.status == 200, f"{where}: HTTP {response.status}"
        except urllib.error.HTTPError as e:
            pytest.fail(f"{where}: HTTP {e.code} for {target}")


def broken_anchors(out: Path) -> list[str]:
    """Every in-site href whose #fragment names no id on its target page."""
    broken = []
    for page in page_files(out):
        if page == "404.html":
            continue
        for tag, attr, value in load_page(out, page).refs():
            if attr != "href" or is_external(value) or "#" not in value:
                continue
            target, fragment = resolve(page, value)
            if fragment and fragment not in load_page(out, target).ids:
                broken.append(f"{page}: <{tag} href={value!r}>: no id {fragment!r} in {target}")
    return broken


def is_map_stage_link(line: str) -> bool:
    return "/items/#stage-" in line


def test_every_anchor_points_at_an_element(example_site: Path) -> None:
    broken = [line for line in broken_anchors(example_site) if not is_map_stage_link(line)]
    assert not broken, "\n".join(broken)


def test_map_stage_links_land_on_the_items_page(example_site: Path) -> None:
    broken = [line for line in broken_anchors(example_site) if is_map_stage_link(line)]
    assert not broken, "\n".join(broken[:10]) + f"\n... {len(broken)} in all"


# ---------------------------------------------------------------- the sortable items table

def column_values(table: Any, index: int) -> list[float]:
    return [float(v) for v in table.locator(f"tbody tr td:nth-child({index + 1})").evaluate_all("tds => tds.map(td => td.dataset.value)")]


@pytest.fixture
def items_page(context: Any, example_url: str) -> Iterator[tuple[Any, Visit]]:
    page, visit = open_page(context, example_url + "streams/development/items/")
    yield page, visit
    page.close()
    assert visit.problems() == []


def header_index(table: Any, text: str) -> int:
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    return headers.index(text)


def test_items_table_sorts_by_clicking_a_header(items_page: tuple[Any, Visit]) -> None:
    page, _ = items_page
    table = page.locator("#slowest table.sortable")
    lead = header_index(table, "Lead time")
    before = column_values(table, lead)
    assert len(before) > 10 and before == sorted(before, reverse=True)  # built longest first
    header = table.locator("thead th").nth(lead)
    header.click()
    after = column_values(table, lead)
    assert header.get_attribute("aria-sort") == "ascending"
    assert after == sorted(before) and after != before
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert column_values(table, lead) == sorted(before, reverse=True)


def test_items_table_sorts_by_keyboard(items_page: tuple[Any, Visit]) -> None:
    page, _ = items_page
    table = page.locator("#slowest table.sortable")
    blocked = header_index(table, "Blocked")
    before = column_values(table, blocked)
    header = table.locator("thead th").nth(blocked)
    header.focus()
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Blocked"
    page.keyboard.press("Enter")
    assert header.get_attribute("aria-sort") == "ascending"
    after = column_values(table, blocked)
    assert after == sorted(before) and after != before
    page.keyboard.press("Enter")
    assert column_values(table, blocked) == sorted(before, reverse=True)


# ---------------------------------------------------------------- the map, screenshots, phone width

@pytest.mark.parametrize(("stream", "scenarios"), [("development", ("review-rota-everywhere", "wip-limit-6")), ("support", ("complete-at-intake", "weekend-dispatch"))])
def test_forecast_page_shows_the_scenarios(context: Any, example_url: str, stream: str, scenarios: tuple[str, ...]) -> None:
    """The what-if section of the Forecast page: the measured map, then per scenario its lead-time
    chart drawn by plotly and its future-state map, marked as a projection, both with a real size."""
    page, visit = open_page(context, example_url + f"streams/{stream}/forecast/")
    draw_every_chart(page, visit)
    section = page.locator("#scenarios")
    assert section.is_visible()
    assert section.locator("#scenario-current-state svg.vsm-map:not(.vsm-projection)").count() == 1
    for sid in scenarios:
        article = page.locator(f"#scenario-{sid}")
        chart = article.locator(f'.chart[data-spec="scenario-{sid}-lead-time-spec"]')
        assert chart.get_attribute("data-ready") == "1", sid
        assert chart.locator(".main-svg").count() >= 1, f"{sid}: plotly drew nothing"
        svg = article.locator("svg.vsm-map.vsm-projection")
        assert svg.count() == 1 and svg.is_visible(), sid
        box = svg.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 150, (sid, box)
        assert "PROJECTION · not measured" in (svg.text_content() or ""), sid
    assert visit.undrawn == [] and visit.problems() == []
    page.close()


def test_stream_page_shows_the_value_stream_map(context: Any, example_url: str) -> None:
    page, visit = open_page(context, example_url + "streams/development/")
    svg = page.locator("#map .vsm svg").first
    assert svg.is_visible()
    box = svg.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    text = svg.text_content() or ""
    for stage in ("Development", "Code review", "QA", "Awaiting review"):
        assert stage in text, f"stage {stage!r} is not on the map"
    page.close()
    assert visit.problems() == []


@pytest.mark.parametrize(("path", "name"), [("", "home"), ("streams/development/", "development-map"), ("streams/development/trends/", "development-trends"), ("streams/development/forecast/", "development-forecast")])
def test_screenshots(context: Any, example_url: str, path: str, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page, visit = open_page(context, example_url + path)
    draw_every_chart(page, visit)
    page.evaluate("() => window.scrollTo(0, 0)")
    target = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    page.close()
    assert target.stat().st_size > 10_000
    assert visit.undrawn == [] and visit.problems() == []


def test_home_fits_a_phone(browser: Any, example_url: str) -> None:
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page, visit = open_page(ctx, example_url)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "home-phone.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
        )
        assert width <= PHONE["width"] + 1, f"home is {width}px wide at {PHONE['width']}px: {wide}"
        assert visit.problems() == []
    finally:
        ctx.close()


def test_forecast_page_fits_a_phone(browser: Any, example_url: str) -> None:
    """At 390px the forecast page scrolls vertically only: the assumptions fall under each chart."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    try:
        page, visit = open_page(ctx, example_url + "streams/development/forecast/")
        draw_every_chart(page, visit)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "development-forecast-phone.png"), full_page=True)
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"] + 1, f"the forecast page is {width}px wide at {PHONE['width']}px"
        assert visit.undrawn == [] and visit.problems() == []
    finally:
        ctx.close()
