"""Structure of every page of the example build, without a browser: headings, footers, charts, links, size, assets."""

from __future__ import annotations

import re
from pathlib import Path
from xml.etree import ElementTree

import pytest
from site_fixtures import (
    FOUNDATION,
    build_site,
    index_pages,
    is_external,
    load_page,
    page_files,
    resolve,
    url_of,
)

MAX_PAGE_BYTES = 2 * 1024 * 1024  # a page's HTML with its inline chart data


@pytest.fixture(scope="module")
def pages(example_site: Path) -> list[str]:
    found = page_files(example_site)
    assert "index.html" in found and "404.html" in found
    assert len(found) >= 10, found
    return found


def test_every_page_has_lang_title_and_one_h1(example_site: Path, pages: list[str]) -> None:
    for page in pages:
        doc = load_page(example_site, page)
        html = doc.root.find_all("html")
        assert len(html) == 1 and html[0].attrs.get("lang"), f"{page}: <html lang> missing"
        heads = doc.root.find_all("head")
        assert len(heads) == 1, f"{page}: {len(heads)} <head>"
        titles = [n for n in heads[0].children if n.tag == "title"]  # SVG <title>s in the body are tooltips
        assert len(titles) == 1 and titles[0].all_text().strip(), f"{page}: <title> missing or empty"
        h1 = doc.root.find_all("h1")
        assert len(h1) == 1, f"{page}: {len(h1)} <h1>"
        assert h1[0].all_text().strip(), f"{page}: empty <h1>"


def test_every_footer_says_as_of_and_how_it_was_built(example_site: Path, pages: list[str]) -> None:
    for page in pages:
        footers = load_page(example_site, page).root.find_all("footer")
        assert len(footers) == 1, f"{page}: {len(footers)} <footer>"
        text = " ".join(footers[0].all_text().split())
        assert "built by vsm" in text, f"{page}: no provenance in the footer: {text!r}"
        if page != "404.html":  # the not-found page shows no data, so it has no "as of"
            assert "as of" in text.lower(), f"{page}: no 'as of' in the footer: {text!r}"


def test_every_chart_sits_in_a_figure_with_a_caption_a_label_and_its_data(example_site: Path, pages: list[str]) -> None:
    charts = 0
    for page in pages:
        doc = load_page(example_site, page)
        specs = {attrs.get("id"): body for attrs, body, _ in doc.scripts if attrs.get("type") == "application/json"}
        for div in doc.root.find_all("div", "chart"):
            charts += 1
            where = f"{page}:{div.line}"
            figure = next((a for a in div.ancestors() if a.tag == "figure"), None)
            assert figure is not None, f"{where}: chart outside a <figure>"
            captions = figure.find_all("figcaption")
            assert captions and captions[0].all_text().strip(), f"{where}: figure without a <figcaption>"
            assert (div.attrs.get("aria-label") or "").strip(), f"{where}: chart without an aria-label"
            # a group, not an img: plotly's mode bar inside it is focusable (axe: nested-interactive)
            assert div.attrs.get("role") == "group", f"{where}: chart without role=group"
            assert div.attrs.get("aria-roledescription") == "chart", f"{where}: chart not announced as a chart"
            tables = [d for d in figure.find_all("details", "chart-data") if d.find_all("table")]
            assert tables, f"{where}: chart without its data table (the text alternative beside the summary)"
            assert div.attrs.get("data-spec") in specs, f"{where}: chart's spec {div.attrs.get('data-spec')!r} is not on the page"
    assert charts >= 20, f"only {charts} charts in the whole example site"


def test_every_map_has_a_title_a_description_and_a_table(example_site: Path, pages: list[str]) -> None:
    """The map's text alternative: an SVG <title> and <desc> it is labelled by, and the figures as a table."""
    maps = 0
    for page in pages:
        doc = load_page(example_site, page)
        tables = doc.root.find_all("table")
        for svg in doc.root.find_all("svg", "vsm-map"):
            maps += 1
            where = f"{page}:{svg.line}"
            ids = {n.tag: n.attrs.get("id") for n in svg.children if n.tag in ("title", "desc")}
            assert set(ids) == {"title", "desc"}, f"{where}: map without <title> and <desc>"
            assert svg.attrs.get("aria-labelledby") == f"{ids['title']} {ids['desc']}", where
            desc = next(n for n in svg.children if n.tag == "desc").all_text()
            assert "Mean lead time" in desc and "Bottleneck" in desc, f"{where}: {desc!r}"
            after = [t for t in tables if t.line >= svg.line]
            assert after, f"{where}: no table of the map's figures after it"
    assert maps >= 4, f"only {maps} maps in the whole example site"


def test_no_page_is_heavier_than_2_mb(example_site: Path, pages: list[str]) -> None:
    sizes = {page: (example_site / page).stat().st_size for page in pages}
    heavy = {p: s for p, s in sizes.items() if s > MAX_PAGE_BYTES}
    assert not heavy, heavy


def test_site_files_favicon_404_nojekyll_and_plotly(example_site: Path) -> None:
    assert (example_site / "404.html").is_file()
    assert (example_site / ".nojekyll").is_file()
    assets = sorted(p.name for p in (example_site / "assets").iterdir())
    assert any(re.fullmatch(r"favicon\.[0-9a-f]+\.svg", a) for a in assets), assets
    plotly = [a for a in assets if re.fullmatch(r"plotly-\d+\.\d+\.\d+\.min\.js", a)]
    assert len(plotly) == 1, assets
    home = load_page(example_site, "index.html")
    icons = [n for n in home.root.find_all("link") if "icon" in (n.attrs.get("rel") or "").split()]
    assert icons, "home has no <link rel=icon>"
    assert (example_site / resolve("index.html", icons[0].attrs["href"] or "")[0]).is_file()


def test_no_page_uses_a_cdn(example_site: Path, pages: list[str]) -> None:
    for page in pages:
        html = (example_site / page).read_text(encoding="utf-8")
        assert "https://cdn" not in html and "//cdn." not in html, f"{page} loads something from a CDN"
        for tag, _, value in load_page(example_site, page).refs():
            if tag in ("script", "link", "img") and is_external(value):
                pytest.fail(f"{page}: <{tag}> loads {value} from outside the site")


def test_links_are_relative_except_on_the_404_page(example_site: Path, pages: list[str]) -> None:
    """So the site works under a project path on GitHub Pages; 404.html is served at any depth instead."""
    for page in pages:
        for tag, attr, value in load_page(example_site, page).refs():
            if page == "404.html":
                continue
            assert not value.startswith("/"), f"{page}: <{tag} {attr}={value!r}> is root-relative"


def test_404_page_links_from_the_site_root(example_site: Path) -> None:
    doc = load_page(example_site, "404.html")
    internal = [v for _, _, v in doc.refs() if not is_external(v) and not v.startswith("#")]
    assert internal and all(v.startswith("/") for v in internal), internal
    for value in internal:
        assert (example_site / value.lstrip("/").split("#")[0]).exists() or value.endswith("/"), value


def test_sitemap_only_with_a_base_url(example_site: Path, tmp_path: Path) -> None:
    assert not (example_site / "sitemap.xml").exists()
    out = tmp_path / "site"
    build_site(FOUNDATION, out, base_url="https://example.org/vsm/")
    tree = ElementTree.parse(out / "sitemap.xml")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    listed = sorted(loc.text or "" for loc in tree.getroot().findall("s:url/s:loc", ns))
    expected = sorted("https://example.org/vsm/" + url_of(p) for p in index_pages(out))
    assert listed == expected
    assert "https://example.org/vsm/404.html" not in listed
    canonical = [n for n in load_page(out, "streams/demo/index.html").root.find_all("link") if n.attrs.get("rel") == "canonical"]
    assert [c.attrs.get("href") for c in canonical] == ["https://example.org/vsm/streams/demo/"]


@pytest.mark.parametrize("stream", ["development", "support"])
def test_home_card_and_report_quote_the_forecast_page(example_site: Path, stream: str) -> None:
    """The home card's forecast line is the first sentence of the Forecast page's summary (the
    first `when` forecast), and the Q3 report, made as of the quarter's end = the stream's as_of
    (1 Oct), quotes the page's sentences word for word."""
    import html as html_lib

    forecast = html_lib.unescape((example_site / "streams" / stream / "forecast" / "index.html").read_text(encoding="utf-8"))
    summary = re.search(r'<ul class="claims">(.*?)</ul>', forecast, re.S)
    assert summary
    claims = re.findall(r"<li>(.*?)</li>", summary.group(1), re.S)
    home = html_lib.unescape((example_site / "index.html").read_text(encoding="utf-8"))
    card = re.search(rf'<h3><a href="streams/{stream}/">.*?</article>', home, re.S)
    assert card
    line = re.search(r'<p class="forecast-line">Forecast: (.*?) <a href="([^"]+)">', card.group(0), re.S)
    assert line and line.group(1) == claims[0] and line.group(2) == f"streams/{stream}/forecast/"
    report = html_lib.unescape((example_site / "streams" / stream / "reports" / "2026-q3" / "index.html").read_text(encoding="utf-8"))
    quoted = re.findall(r'<span class="figure forecast"[^>]*>(.*?)</span>', report)
    sentences = [q for q in quoted if q.endswith(".")]
    assert sentences and all(s in claims for s in sentences), (sentences, claims)


@pytest.mark.parametrize("stream", ["development", "support"])
def test_forecast_csvs_carry_the_figures_of_metrics_json(example_site: Path, stream: str) -> None:
    """forecasts.csv and sle-per-period.csv repeat, row for row, what metrics.json says."""
    import csv
    import json

    folder = example_site / "streams" / stream
    doc = json.loads((folder / "data" / "metrics.json").read_text(encoding="utf-8"))["forecast"]
    with (folder / "forecast" / "forecasts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    expected = [("how_many", h["label"], [str(h[f"p{p}"]) for p in (50, 70, 85, 95)]) for h in doc["how_many"]]
    expected += [("when", w["label"], [str(w[f"p{p}"]) for p in (50, 70, 85, 95)]) for w in doc["when"]]
    assert [(r["kind"], r["label"], [r[f"p{p}"] for p in (50, 70, 85, 95)]) for r in rows] == expected
    assert {r["window_days"] for r in rows} == {str(doc["window"]["days"])}
    with (folder / "forecast" / "sle-per-period.csv").open(encoding="utf-8") as handle:
        periods = {r["period"]: r for r in csv.DictReader(handle)}
    assert {k: (int(v["count"]), int(v["within"])) for k, v in periods.items()} == {
        k: (v["count"], v["within"]) for k, v in doc["sle"]["periods"].items()
    }
