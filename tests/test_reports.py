"""Report pages: figures embedded by reference, computed as of the report's own as_of, with located errors."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from generator.cli import main

FOUNDATION = Path(__file__).parent / "data" / "foundation" / "project"

FEBRUARY = """\
---
title: February so far
start: 2026-02-01
end: 2026-02-28
as_of: 2026-02-15T00:00:00Z
---
# How February started

{{ metric lead_time.count }} items were done by mid-February, lead time p50 {{ metric lead_time.p50 }}.

{{ compare lead_time_p50 }}

{{ verdict throughput_per_week }}

{{ chart throughput }}

{{ map }}
"""

JANUARY = """\
---
title: January
period: baseline
---
January closed with {{ metric lead_time.count }} items done at {{ metric throughput_per_week }}.
"""


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(FOUNDATION, project)
    reports = project / "streams" / "demo" / "reports"
    reports.mkdir()
    (reports / "2026-02.md").write_text(FEBRUARY, encoding="utf-8")
    (reports / "2026-01.md").write_text(JANUARY, encoding="utf-8")
    return project


def _article(path: Path) -> str:
    html = path.read_text(encoding="utf-8")
    match = re.search(r'<article class="report".*?</article>', html, re.S)
    assert match, f"no report article in {path}"
    return match.group(0)


def _fingerprint(article: str) -> str:
    match = re.search(r"Fingerprint <code>([0-9a-f]{12})</code>", article)
    assert match
    return match.group(1)


def test_report_pages_embed_the_period_figures(tmp_path: Path) -> None:
    project = _project(tmp_path)
    report = build(BuildOptions(project=project, out=project / "_site"))
    assert report.written, [p.format() for p in report.errors]
    site = project / "_site" / "streams" / "demo"
    january = _article(site / "reports" / "2026-01" / "index.html")
    # January (the baseline period, as of 1 Feb 00:00): A-1 done 8 Jan and A-2 done in January
    # per the foundation data's README: two completed items; throughput = 2 / (31 days / 7)
    assert '<span class="figure" title="lead_time.count">2</span>' in january
    assert f"{2 / (31 / 7):,.1f} items a week" in january
    february = _article(site / "reports" / "2026-02" / "index.html")
    assert "as of</strong> 15 Feb 2026" in february
    assert 'class="vsm"' in february and "report-throughput" in february
    assert "verdict" in february
    # the stream page lists its reports newest first, the home page links the latest
    overview = (site / "index.html").read_text(encoding="utf-8")
    assert overview.index("reports/2026-02/") < overview.index("reports/2026-01/")
    home = (project / "_site" / "index.html").read_text(encoding="utf-8")
    assert "streams/demo/reports/2026-02/" in home


def test_events_after_a_reports_as_of_change_nothing_in_it(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert build(BuildOptions(project=project, out=project / "_site")).written
    page = project / "_site" / "streams" / "demo" / "reports" / "2026-02" / "index.html"
    before = _article(page)
    # new events after the report's as_of (15 Feb) but before the stream's (1 Mar): a new item and a move back
    events = project / "streams" / "demo" / "data" / "events.csv"
    with events.open("a", encoding="utf-8") as handle:
        handle.write("Z-9,2026-02-16T09:00:00Z,Open\nZ-9,2026-02-17T09:00:00Z,In Progress\nZ-9,2026-02-20T09:00:00Z,Done\n")
        handle.write("A-1,2026-02-21T09:00:00Z,In Progress\n")
    assert build(BuildOptions(project=project, out=project / "_site")).written
    after = _article(page)
    assert after == before
    assert _fingerprint(after) == _fingerprint(before)
    # while the stream's own figures did change (so the test could fail)
    assert "Z-9" in (project / "_site" / "streams" / "demo" / "data" / "items.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "code", "line", "col"),
    [
        ("---\ntitle: x\n---\nText {{ metric lead_time.p99 }}.\n", "E141", 4, 6),
        ("---\ntitle: x\n---\n\nA\n{{ chrt throughput }}\n", "E141", 6, 1),
        ("---\ntitle: x\n---\n{{ map now }}\n", "E141", 4, 1),
        ("---\ntitle: x\n---\nText {{ forecast when soon }}.\n", "E141", 4, 6),
        ("---\ntitle: x\n---\n\n{{ forecast how_many 4w p99 }}\n", "E141", 5, 1),
        ("---\ntitle: x\n---\n{{ forecast how_many next-week }}\n", "E141", 4, 1),
        ("---\ntitle: x\nperiod: q9\n---\nText\n", "E142", 2, None),
        ("---\ntitel: x\n---\nText\n", "E101", 2, 1),
        ("---\ntitle: x\nstart: 2026-01-01\n---\nText\n", "E143", 2, None),
        ("---\ntitle: [unclosed\n---\nText\n", "E100", None, None),
    ],
    ids=["unknown-metric", "unknown-kind", "map-argument", "forecast-what", "forecast-line", "forecast-horizon", "missing-period", "unknown-key", "start-without-end", "bad-yaml"],
)
def test_report_errors_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, code: str, line: int | None, col: int | None) -> None:
    project = tmp_path / "project"
    shutil.copytree(FOUNDATION, project)
    (project / "streams" / "demo" / "reports").mkdir()
    (project / "streams" / "demo" / "reports" / "bad.md").write_text(text, encoding="utf-8")
    assert main(["check", "--project", str(project)]) == 1
    err = capsys.readouterr().err
    location = "streams/demo/reports/bad.md" + (f":{line}" if line else "") + (f":{col}" if col else "")
    assert re.search(rf"^{re.escape(location)}(:\d+)*: error\[{code}\]", err, re.M), err
    assert "hint:" in err and "Traceback" not in err


def test_references_in_code_are_shown_as_written(tmp_path: Path) -> None:
    """A report explaining the syntax: references in inline code and fenced blocks stay literal
    (even unknown ones, which would be E141 outside code), the one outside code is replaced."""
    project = tmp_path / "project"
    shutil.copytree(FOUNDATION, project)
    (project / "streams" / "demo" / "reports").mkdir()
    text = (
        "---\ntitle: How to\nperiod: baseline\n---\n"
        "Write `{{ metric lead_time.p85 }}` for a value.\n\n"
        "```markdown\n{{ chart no_such_chart }}\n```\n\n"
        "~~~\n{{ bogus }}\n~~~\n\n"
        "Done: {{ metric lead_time.count }}.\n"
    )
    (project / "streams" / "demo" / "reports" / "howto.md").write_text(text, encoding="utf-8")
    report = build(BuildOptions(project=project, out=project / "_site"))
    assert report.written, [p.format() for p in report.errors]
    article = _article(project / "_site" / "streams" / "demo" / "reports" / "howto" / "index.html")
    assert "<code>{{ metric lead_time.p85 }}</code>" in article
    assert "{{ chart no_such_chart }}" in article and "{{ bogus }}" in article
    # January, the baseline: two completed items (see test_report_pages_embed_the_period_figures)
    assert '<span class="figure" title="lead_time.count">2</span>' in article


FORECAST = """\
---
title: Mid-February outlook
start: 2026-02-01
end: 2026-02-28
as_of: 2026-02-15T00:00:00Z
---
Open work: {{ forecast when committed }}

Next two weeks: {{ forecast how_many 2w }} Coin toss: {{ forecast how_many 2w p50 }};
safe promise: {{ forecast how_many 2w p85 }}.
"""


def _forecasts(article: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<span class="figure forecast"[^>]*>(.*?)</span>', article)]


def test_forecast_references_are_made_as_of_the_report_and_never_change(tmp_path: Path) -> None:
    """The forecast of a report is made at the start of its as_of's day from what was known then.

    As of 15 Feb the demo stream's history runs from 5 Jan (its first item) to 14 Feb: a window
    of 41 days with 4 completions (8 Jan, 19 Jan, 4 Feb, 13 Feb), none open. Over 14 days the
    items done are Binomial(14, 4/41) (independent daily draws): P(at least 1) = 1 - (37/41)^14
    = 76.2% and P(at least 2) = 40.2%, so the 50% line is 1 item (76% >= 50% > 40%) and the 85%
    line is 0 (76% < 85%); 10,000 trials put the simulated shares within 1.5 points of these.
    """
    project = _project(tmp_path)
    (project / "streams" / "demo" / "reports" / "outlook.md").write_text(FORECAST, encoding="utf-8")
    assert build(BuildOptions(project=project, out=project / "_site")).written
    site = project / "_site" / "streams" / "demo"
    page = site / "reports" / "outlook" / "index.html"
    before = _article(page)
    shown = _forecasts(before)
    assert shown[0] == "Nothing to forecast: no items were in progress at the start of 15 Feb 2026."
    assert shown[1].startswith("In 85% of trials at least 0 items are done in the next 2 weeks (to 28 Feb 2026)")
    assert shown[2:] == ["at least 1 item", "at least 0 items"]
    forecast_page = (site / "forecast" / "index.html").read_text(encoding="utf-8")
    # new events after the report's as_of: a completion on 20 Feb and an item committed on 21 Feb
    events = project / "streams" / "demo" / "data" / "events.csv"
    with events.open("a", encoding="utf-8") as handle:
        handle.write("Z-9,2026-02-16T09:00:00Z,Open\nZ-9,2026-02-17T09:00:00Z,In Progress\nZ-9,2026-02-20T09:00:00Z,Done\n")
        handle.write("Z-8,2026-02-21T09:00:00Z,Open\nZ-8,2026-02-21T10:00:00Z,In Progress\n")
    assert build(BuildOptions(project=project, out=project / "_site")).written
    after = _article(page)
    assert after == before and _fingerprint(after) == _fingerprint(before)
    # the stream's own forecast (as of 1 Mar) did change: the test could fail
    assert (site / "forecast" / "index.html").read_text(encoding="utf-8") != forecast_page


def test_a_report_on_the_current_period_shows_the_forecast_page_s_forecast(tmp_path: Path) -> None:
    """Same as_of, same window, same seed: the report's sentence is the Forecast page's."""
    project = _project(tmp_path)
    text = "---\ntitle: Now\nperiod: current\n---\n{{ forecast how_many 4w }}\n"
    (project / "streams" / "demo" / "reports" / "now.md").write_text(text, encoding="utf-8")
    assert build(BuildOptions(project=project, out=project / "_site")).written
    site = project / "_site" / "streams" / "demo"
    [sentence] = _forecasts(_article(site / "reports" / "now" / "index.html"))
    assert "in the next 4 weeks (to 28 Mar 2026)" in sentence
    page = html.unescape((site / "forecast" / "index.html").read_text(encoding="utf-8"))
    assert f'<p class="forecast-sentence">{sentence}</p>' in page
