"""Golden files: the output of tests/data/golden_project/ compared byte for byte with tests/golden/.

After an intended change of the output, refresh them with `make golden`
(VSM_UPDATE_GOLDEN=1 pytest tests/test_golden.py), read the diff, and commit
it with the change. Asset hashes and the vsm version are replaced by
placeholders in the pages, and VSM_BUILD_COMMIT is fixed, so that a CSS edit
or a release does not touch the goldens; numbers, markup and specs do.

Hand computation (all instants UTC, the project's stream.yaml and CSVs):

  G-2 (Bug) created 01-12 09:00; Open -> 01-13 09:00 In Progress (committed)
  -> 01-14 09:00 Blocked -> 01-15 09:00 In Progress -> 01-16 09:00 Ready for
  Review -> 01-18 09:00 In Review -> 01-19 09:00 In Progress (a move back)
  -> 01-20 09:00 In Review -> 01-21 09:00 Done.
    lead  = 01-21 09:00 - 01-12 09:00 = 9 d;  cycle = 01-21 - 01-13 = 8 d
    backlog 1 d; dev 01-13..01-16 (3 d, 1 of them blocked) + 01-19..01-20 (1 d) = 4 d
    review-queue 01-16..01-18 = 2 d; review 01-18..01-19 + 01-20..01-21 = 2 d   (1+4+2+2 = 9 = lead)
    blocked 1 d; process = active and not blocked = (4 - 1) + 2 = 5 d; wait = 9 - 5 = 4 d
    flow efficiency = 5 / 9 = 0.555556; reworked (review -> dev)
  G-5 (Bug) 02-09 08:00 Open -> 12:00 In Progress -> 02-10 12:00 Triage (unmapped,
  W201) -> 02-11 12:00 In Review -> 02-12 08:00 Done:
    lead 3 d; cycle 2 d 20 h = 2.833333 d; backlog 4 h = 0.166667 d; dev 1 d; unmapped 1 d;
    review 20 h = 0.833333 d; process 1.833333 d; wait 1.166667 d; efficiency 0.611111
  G-6 in progress at as_of (03-01 00:00): created 02-16 09:00, committed 02-17 09:00,
    in review-queue since 02-20 09:00: window 12.625 d = backlog 1 + dev 3 + review-queue 8.625;
    aging 03-01 00:00 - 02-17 09:00 = 11.625 d
  G-7's title starts with '=': items.csv writes it as '=Refactor ...

  Baseline, January (as of 02-01 00:00): done G-1 (lead 4, cycle 3), G-2 (lead 9, cycle 8)
    lead mean 6.5, p50 6.5, p85 = 4 + 0.85 * (9 - 4) = 8.25; cycle p85 = 3 + 0.85 * 5 = 7.25
    throughput 2 / (31 / 7) = 0.451613 a week; flow efficiency (2.5 + 5) / (4 + 9) = 0.576923
    WIP at the 31 day ends: G-1 at 01-07..01-09 (3), G-2 at 01-14..01-21 (8), G-3 at 01-27..02-01 (6)
      -> mean 17 / 31 = 0.548387; WIP now 1 (G-3); %C&A dev 1/2 (G-2 came back), review 1 -> rolled 0.5
  Current, February (as of 03-01 00:00): done G-3 (15), G-4 (4), G-5 (3)
    lead [3, 4, 15]: mean 7.333333, p50 4, p85 at position 1.7 = 4 + 0.7 * 11 = 11.7
    throughput 3 / 4 = 0.75; flow efficiency (8 + 2.75 + 1.833333) / 22 = 0.571970
    WIP: G-3 02-02..02-04 (3), G-4 02-04..02-06 (3), G-5 02-10..02-12 (3), G-6 02-18..03-01 (12) -> 21 / 28 = 0.75
  Scenario no-review-queue on February's items: review-queue G-3 02-02 09:00..02-03 09:00 (1 d),
    G-4 02-05 10:00..16:00 (0.25 d), G-5 none -> leads [14, 3.75, 3]: mean 6.916667, p50 3.75,
    p85 at position 1.7 = 3.75 + 0.7 * 10.25 = 10.925; process unchanged, so flow efficiency
    (8 + 2.75 + 1.833333) / (22 - 1.25) = 0.606426
  Throughput chart, per ISO week from 01-05: G-1; none; G-2; none; G-3 and G-4; G-5; none; none
    -> [1, 0, 1, 0, 2, 1, 0] (the week of 02-23 ends on Monday 03-02, after as_of: not whole, left out)
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_fixtures import ROOT, build_site, load_page

PROJECT = ROOT / "tests" / "data" / "golden_project"
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("VSM_UPDATE_GOLDEN") == "1"
COMMIT = "0011223344556677889900112233445566778899"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("golden") / "_site"
    with pytest.MonkeyPatch.context() as env:
        for name in ("GITHUB_SHA", "CI_COMMIT_SHA", "SOURCE_DATE_EPOCH"):
            env.delenv(name, raising=False)
        env.setenv("VSM_BUILD_COMMIT", COMMIT)
        report = build_site(PROJECT, out)
    assert [p.code for p in report.problems] == ["W201"]  # G-5's Triage, on purpose
    yield out


def stable(text: str) -> str:
    """A page without what changes when assets or the version change: asset hashes, plotly's version, vsm's version."""
    text = re.sub(r"(assets/[\w-]+?)\.[0-9a-f]{10}\.(css|js|svg)", r"\1.HASH.\2", text)
    text = re.sub(r"assets/plotly-\d+\.\d+\.\d+\.min\.js", "assets/plotly-VERSION.min.js", text)
    return re.sub(r"\bvsm \d+\.\d+\.\d+\S*?(?=[\s\"<.]|\.\s|$)", "vsm VERSION", text)


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8", newline="")
        return
    assert path.is_file(), f"{path} is missing: run `make golden`"
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True), f"golden/{name}", "built", n=2))
        pytest.fail(f"{name} differs from its golden file (if intended: make golden)\n{diff[:6000]}")


def spec_of(page: Path, chart_id: str) -> dict[str, object]:
    doc = load_page(page.parent.parent.parent.parent, page.relative_to(page.parent.parent.parent.parent).as_posix())
    bodies = [body for attrs, body, _ in doc.scripts if attrs.get("type") == "application/json" and attrs.get("id") == f"{chart_id}-spec"]
    assert len(bodies) == 1, f"{chart_id}-spec not found once on {page}"
    spec: dict[str, object] = json.loads(bodies[0])
    return spec


def test_items_csv(site: Path) -> None:
    check_golden("items.csv", (site / "streams/golden/data/items.csv").read_text(encoding="utf-8"))


def test_metrics_json(site: Path) -> None:
    check_golden("metrics.json", (site / "streams/golden/data/metrics.json").read_text(encoding="utf-8"))


def test_stream_overview_page(site: Path) -> None:
    check_golden("stream.html", stable((site / "streams/golden/index.html").read_text(encoding="utf-8")))


def test_report_page(site: Path) -> None:
    check_golden("report-2026-02.html", stable((site / "streams/golden/reports/2026-02/index.html").read_text(encoding="utf-8")))


def test_throughput_chart_spec(site: Path) -> None:
    spec = spec_of(site / "streams/golden/trends/index.html", "trends-throughput")
    check_golden("chart-trends-throughput.json", json.dumps(spec, indent=2, ensure_ascii=False, sort_keys=True) + "\n")


def test_stable_hides_only_volatile_names() -> None:
    page = '<link href="../../assets/site.0123456789.css"><script src="../assets/plotly-3.1.0.min.js"></script><p>built by vsm 0.1.0 from commit abc.</p>'
    assert stable(page) == '<link href="../../assets/site.HASH.css"><script src="../assets/plotly-VERSION.min.js"></script><p>built by vsm VERSION from commit abc.</p>'


# ---------------------------------------------------------------- the hand computation above, asserted directly

def rows(site: Path) -> dict[str, dict[str, str]]:
    text = (site / "streams/golden/data/items.csv").read_text(encoding="utf-8")
    return {r["item_id"]: r for r in csv.DictReader(io.StringIO(text))}


def test_items_match_the_hand_computation(site: Path) -> None:
    items = rows(site)
    g2 = items["G-2"]
    assert (g2["created"], g2["committed"], g2["done"]) == ("2026-01-12T09:00:00+00:00", "2026-01-13T09:00:00+00:00", "2026-01-21T09:00:00+00:00")
    assert [float(g2[c]) for c in ("lead_time_days", "cycle_time_days", "process_days", "wait_days", "blocked_days")] == [9, 8, 5, 4, 1]
    assert float(g2["flow_efficiency"]) == pytest.approx(5 / 9, abs=1e-6)
    assert g2["reworked"] == "true" and g2["flow_type"] == "defect"
    assert [float(g2[f"stage_days:{s}"]) for s in ("backlog", "dev", "review-queue", "review", "done", "unmapped")] == [1, 4, 2, 2, 0, 0]
    g5 = items["G-5"]
    assert float(g5["cycle_time_days"]) == pytest.approx(2 + 20 / 24, abs=1e-6)
    assert float(g5["stage_days:unmapped"]) == 1 and float(g5["stage_days:review"]) == pytest.approx(20 / 24, abs=1e-6)
    g6 = items["G-6"]
    assert g6["done"] == "" and g6["lead_time_days"] == ""
    assert float(g6["stage_days:review-queue"]) == 8.625
    assert items["G-7"]["title"] == "'=Refactor login (starts like a formula)"
    for r in items.values():  # process + wait = lead (or the window so far)
        total = sum(float(r[f"stage_days:{s}"]) for s in ("backlog", "dev", "review-queue", "review", "done", "unmapped"))
        assert float(r["process_days"]) + float(r["wait_days"]) == pytest.approx(total, abs=1e-6)


def test_metrics_match_the_hand_computation(site: Path) -> None:
    doc = json.loads((site / "streams/golden/data/metrics.json").read_text(encoding="utf-8"))
    assert doc["as_of"] == "2026-03-01T00:00:00+00:00"
    base, cur = doc["periods"]["baseline"], doc["periods"]["current"]
    assert base["lead_time"] == {"count": 2, "mean": 6.5, "p50": 6.5, "p85": 8.25, "p95": 8.75}
    assert base["cycle_time"]["p85"] == 7.25
    assert base["throughput_per_week"] == pytest.approx(2 / (31 / 7), abs=1e-6)
    assert base["flow_efficiency"] == pytest.approx(7.5 / 13, abs=1e-6)
    assert base["wip_mean"] == pytest.approx(17 / 31, abs=1e-6) and base["wip_now"] == 1
    assert base["stages"]["dev"]["pct_complete_accurate"] == 0.5 and base["rolled_pct_complete_accurate"] == 0.5
    assert cur["lead_time"]["count"] == 3 and cur["lead_time"]["p50"] == 4 and cur["lead_time"]["p85"] == pytest.approx(11.7)
    assert cur["lead_time"]["mean"] == pytest.approx(22 / 3, abs=1e-6)
    assert cur["throughput_per_week"] == 0.75 and cur["wip_mean"] == 0.75
    assert cur["flow_efficiency"] == pytest.approx((8 + 2.75 + 11 / 6) / 22, abs=1e-6)
    assert cur["aging_wip"]["max_days"] == 11.625
    assert doc["comparison"]["lead_time_p85"]["verdict"] == "not enough data"  # 2 and 3 items
    scenario = doc["scenarios"]["no-review-queue"]
    assert scenario["lead_time"]["projected"] == {
        "count": 3, "mean": pytest.approx(83 / 12, abs=1e-6), "p50": 3.75, "p85": 10.925,
        "p95": pytest.approx(3.75 + 0.9 * 10.25, abs=1e-6)}
    assert scenario["lead_time"]["current"] == cur["lead_time"]
    assert scenario["flow_efficiency"]["projected"] == pytest.approx((8 + 2.75 + 11 / 6) / 20.75, abs=1e-6)
    assert scenario["stages"]["review-queue"]["projected"]["items_through"] == 0


WEEKS = ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02", "2026-02-09", "2026-02-16"]
# G-1; -; G-2; -; G-3 and G-4; G-5; - : the week of 02-23 (Monday) runs to Monday 03-02 00:00, after
# as_of (Sunday 03-01 00:00), so it is not whole and is left out rather than drawn as a drop
COMPLETED = [1, 0, 1, 0, 2, 1, 0]


def test_throughput_chart_matches_the_hand_computation(site: Path) -> None:
    spec = spec_of(site / "streams/golden/trends/index.html", "trends-throughput")
    trace = spec["data"][0]  # type: ignore[index]
    assert trace["x"][:6] == WEEKS[:6]
    assert trace["y"][:6] == COMPLETED[:6]  # weeks without completions between two that had some count 0


def test_throughput_chart_runs_up_to_as_of(site: Path) -> None:
    spec = spec_of(site / "streams/golden/trends/index.html", "trends-throughput")
    trace = spec["data"][0]  # type: ignore[index]
    assert (trace["x"], trace["y"]) == (WEEKS, COMPLETED)
