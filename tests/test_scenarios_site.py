"""Scenarios in the built site: the `{{ scenario <id> }}` report reference (frozen once its period
has closed), the `scenarios` key of metrics.json, scenarios.csv, and the future-state map's marks."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_scenarios import STREAM, events_csv, make

from generator.build import BuildOptions, build
from generator.render.vsm_map import map_model, map_table, render_map
from generator.validate.stream import load_project

REPORT = """\
---
title: February
start: 2026-02-01
end: 2026-02-28
label: February
---
# February

{{ scenario no-send-backs }}

{{ scenario loose-limit }}
"""


def _site(root: Path) -> Path:
    report = build(BuildOptions(project=root, out=root / "_site"))
    assert report.written, [p.format() for p in report.errors]
    return root / "_site" / "streams" / "demo"


def _article(path: Path) -> str:
    match = re.search(r'<article class="report".*?</article>', path.read_text(encoding="utf-8"), re.S)
    assert match
    return match.group(0)


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    root = make(tmp_path / "proj")
    (root / "streams" / "demo" / "reports").mkdir()
    (root / "streams" / "demo" / "reports" / "2026-02.md").write_text(REPORT, encoding="utf-8")
    return root


def test_the_report_shows_the_scenario_of_its_period(project: Path) -> None:
    site = _site(project)
    article = _article(site / "reports" / "2026-02" / "index.html")
    # February's leads 8 9 9 10 7 (p85 9.4); without B-2's 4-day round trip 8 5 10 7 9 (p85 9.4 too,
    # median 9 -> 8): the sentence names both; the table gives the measured and projected values
    assert "No send-backs from review would leave lead time p85 at 9.4 days (95% interval " in article
    assert "and move the median from 9.0 to 8.0 days (" in article
    assert "A limit nobody reaches would leave lead time about where it was in February" in article
    assert article.count('class="scenario-ref"') == 2 and "<p><div" not in article
    assert 'class="tag tag-projection">projection</span>' in article


def test_a_closed_periods_scenario_never_changes(project: Path) -> None:
    """Events after February's end (B-1 reopened and sent back through review again, a new item)
    and a current period moved to March: the stream's own scenarios move to March's items, the
    February report's scenarios stay byte for byte (computed from its period as of its end)."""
    site = _site(project)
    page = site / "reports" / "2026-02" / "index.html"
    before = _article(page)
    metrics_before = json.loads((site / "data" / "metrics.json").read_text(encoding="utf-8"))
    later = {
        "B-1": [("In Progress", 2), ("Ready for Review", 4), ("In Review", 6), ("Done", 8)],
        "C-1": [("Open", 1), ("In Progress", 2), ("Ready for Review", 3), ("In Review", 5), ("Done", 9)],
    }
    events = project / "streams" / "demo" / "data" / "events.csv"
    extra = events_csv(later).replace("2026-02-", "2026-03-").split("\n", 1)[1]
    events.write_text(events.read_text(encoding="utf-8") + extra, encoding="utf-8")
    # a stream whose current period is March now: the report keeps February
    stream = project / "streams" / "demo" / "stream.yaml"
    stream.write_text(STREAM.replace("current: {start: 2026-02-01, end: 2026-02-28}",
                                     "current: {start: 2026-03-01, end: 2026-03-14}"))
    site = _site(project)
    after = _article(page)
    assert after == before
    metrics_after = json.loads((site / "data" / "metrics.json").read_text(encoding="utf-8"))
    # the stream's own scenarios moved to March's items (so the test could fail)
    assert metrics_after["scenarios"]["no-send-backs"]["items"] == 2
    assert metrics_before["scenarios"]["no-send-backs"]["items"] == 5


def test_an_unknown_scenario_is_a_located_error(project: Path) -> None:
    path = project / "streams" / "demo" / "reports" / "2026-02.md"
    path.write_text(REPORT.replace("{{ scenario loose-limit }}", "{{ scenario lose-limit }}"), encoding="utf-8")
    _, problems = load_project(project)
    (p,) = [p for p in problems if p.severity == "error"]
    # front matter on lines 1-6, '# February' on 7, the first reference on 9, this one on 11
    assert (p.code, p.location.path, p.location.line, p.location.col) == (
        "E141", "streams/demo/reports/2026-02.md", 11, 1)
    assert "did you mean 'loose-limit'?" in p.hint and "no-send-backs" in p.hint


def test_metrics_json_and_scenarios_csv(project: Path) -> None:
    site = _site(project)
    document = json.loads((site / "data" / "metrics.json").read_text(encoding="utf-8"))
    scenarios = document["scenarios"]
    assert list(scenarios) == ["halve-queue", "no-send-backs", "loose-limit", "no-queue"]
    halve = scenarios["halve-queue"]
    assert halve["lead_time"]["projected"]["p85"] == pytest.approx(7.2)
    assert halve["period"] == {"start": "2026-02-01", "end": "2026-02-28", "label": "1 Feb 2026 – 28 Feb 2026"}
    rows = list(csv.DictReader(io.StringIO((site / "data" / "scenarios.csv").read_text(encoding="utf-8"))))
    by = {(r["scenario"], r["measure"]): r for r in rows}
    row = by[("halve-queue", "lead_time_p85")]
    assert float(row["measured"]) == pytest.approx(9.4) and float(row["projected"]) == pytest.approx(7.2)
    low, high = halve["lead_time"]["p85_interval"]
    assert float(row["ci_low"]) == pytest.approx(low, abs=1e-6) and float(row["ci_high"]) == pytest.approx(high, abs=1e-6)
    assert float(by[("no-queue", "stage:queue:items_through")]["projected"]) == 0
    assert {r["scenario"] for r in rows} == set(scenarios)


def test_the_future_state_map_is_marked_as_a_projection() -> None:
    root = Path(__file__).resolve().parent / "data" / "foundation" / "project"
    project, _ = load_project(root)
    d = project.streams[0].definition
    summary = {
        "lead_time": {"count": 4, "mean": 3.0, "p50": 3.0, "p85": 4.0},
        "stages": {"backlog": {"kind": "wait", "mean_days": 1.0}, "dev": {"kind": "active", "mean_days": 2.0}},
        "throughput_per_week": 1.0,
        "wip_now": None,
        "cancelled": {"count": None},
    }
    current = {**summary, "wip_now": 3, "lead_time": {"count": 4, "mean": 4.0, "p50": 4.0, "p85": 5.0}}
    common = dict(stream_name="Demo", period_label="Q1", wip_by_stage={"dev": 3})
    plain = map_model(d, summary, **common)
    future = map_model(d, summary, current, projection="Halve the queue", **common)
    svg, table = render_map(future, id_prefix="f"), map_table(future)
    assert 'class="vsm-map vsm-projection"' in svg and "PROJECTION · not measured" in svg
    assert "Future-state value stream map (projection): Demo, Halve the queue" in svg
    assert "Projection, not measured" in table and "<th scope=\"col\">Projected</th>" in table
    # under a box only what the projection changed: lead time mean 4 -> 3, p50 4 -> 3, p85 5 -> 4
    # ('was' and the measured value, no verdict); the unchanged stage means (1 d, 2 d) only in the
    # hover detail, with '='
    assert re.findall(r">(was [^<]*)<", svg) == ["was 4.0\xa0d ▼", "was 4.0\xa0d ▼", "was 5.0\xa0d ▼"]
    assert "(was 1.0\xa0d =)" in svg and "(was 2.0\xa0d =)" in svg
    # a projection has no WIP now: the map drops it (and the totals without a value)
    assert "WIP now" not in svg and "WIP now" in render_map(plain, id_prefix="p")
    assert "vsm-projection" not in render_map(plain, id_prefix="p") and 'class="vsm-map"' in render_map(plain, id_prefix="p")
