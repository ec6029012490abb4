"""The value stream map (MAP.md): SVG structure, the ladder's sum, escaping, layout limits, the table.

Inputs are in tests/data/map/: stream_checkout.yaml with hand-made period summaries whose expected
values are worked out in their `_comment`, and stream_hostile_names.yaml for escaping. Longer streams
(3 and 15 stages) are built below. A sample map is written to test-output/map-sample.svg (and
map-sample.html around it) for looking at in a browser.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape as markup_escape

from generator.render.vsm_map import (
    COL,
    PAD,
    M,
    MapModel,
    W,
    flow_rows,
    layout_cells,
    map_model,
    map_table,
    render_map,
    text_width,
    wrap,
)
from generator.render.vsm_map.svg import esc
from generator.render.vsm_map.text import clean
from generator.validate.schema import StreamDef

DATA = Path(__file__).parent / "data" / "map"
OUT = Path(__file__).resolve().parents[1] / "test-output"
SVG = "{http://www.w3.org/2000/svg}"


def load_def(name: str) -> StreamDef:
    return StreamDef.model_validate(yaml.safe_load((DATA / name).read_text(encoding="utf-8")))


def load_json(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def checkout_model(baseline: bool = True, **overrides: Any) -> MapModel:
    definition = load_def("stream_checkout.yaml")
    kwargs: dict[str, Any] = {
        "stream_name": definition.name,
        "owner": definition.owner,
        "period_label": "Q3 2026",
        "period_dates": ("2026-07-01", "2026-09-30"),
        "as_of_text": "1 Oct 2026 00:00 UTC",
        "items_link": "../items/",
        "quality_link": "../quality/",
        "process_events": [e.model_dump() for e in definition.events],
        "wip_by_stage": {
            "backlog": 31,
            "analysis": 3,
            "ready": 7,
            "dev": 6,
            "review_wait": 4,
            "review": 2,
            "test": 5,
        },
        "blocked_by_stage": {"dev": 0.6},
        "rework": [
            ("test", "dev", 0.12),
            ("review", "dev", 0.07),
            ("done", "test", 0.03),
            ("test", "analysis", 0.01),
        ],
    }
    kwargs.update(overrides)
    return map_model(
        definition,
        load_json("summary_current.json"),
        load_json("summary_baseline.json") if baseline else None,
        load_json("comparison.json") if baseline else None,
        **kwargs,
    )


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def texts(el: ET.Element) -> list[str]:
    """The text of every <text> under el (not <title>), no-break spaces as spaces."""
    return ["".join(t.itertext()).replace("\u00a0", " ") for t in el.iter(f"{SVG}text")]


def classes(el: ET.Element) -> set[str]:
    return set(el.get("class", "").split())


def groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if cls in classes(g)]


def stage_group(root: ET.Element, stage_id: str) -> ET.Element:
    return next(
        g
        for g in root.iter(f"{SVG}g")
        if g.get("data-stage") == stage_id and "vsm-stage" in classes(g)
    )


def days_of(label: str) -> float:
    """'3.2 d' -> 3.2, '9.6 h' -> 0.4, '12 min' -> 0.2/24."""
    value, unit = re.fullmatch(r"(?:\w+ )?([\d.,]+) (d|h|min)", label.strip()).groups()  # type: ignore[union-attr]
    return float(value.replace(",", "")) / {"d": 1, "h": 24, "min": 1440}[unit]


@pytest.fixture(scope="module")
def model() -> MapModel:
    return checkout_model()


@pytest.fixture(scope="module")
def root(model: MapModel) -> ET.Element:
    return parse(render_map(model, id_prefix="map-q3"))


# ---------------------------------------------------------------- structure


def test_svg_is_well_formed_responsive_and_labelled(root: ET.Element) -> None:
    assert root.tag == f"{SVG}svg"
    assert root.get("width") == "100%" and root.get("role") == "group" and root.get("aria-roledescription") == "value stream map"
    assert re.fullmatch(r"0 0 1200 \d+", root.get("viewBox", ""))
    ids = {el.get("id") for el in root.iter()}
    labelled = root.get("aria-labelledby", "").split()
    assert labelled == ["map-q3-title", "map-q3-desc"] and set(labelled) <= ids
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    assert root.find(f"{SVG}style") is not None


def test_one_process_box_per_active_stage_and_one_triangle_per_wait_stage_in_order(
    root: ET.Element,
) -> None:
    boxes = groups(root, "vsm-box")
    assert [g.get("data-stage") for g in boxes] == ["analysis", "dev", "review", "test"]
    queues = groups(root, "vsm-queue")
    assert [g.get("data-stage") for g in queues] == ["backlog", "ready", "review_wait"]
    assert all(
        len([p for p in g.iter(f"{SVG}polygon") if "vsm-tri" in classes(p)]) == 1 for g in queues
    )
    assert not [p for g in boxes for p in g.iter(f"{SVG}polygon") if "vsm-tri" in classes(p)]
    # stream order left to right in the document: backlog, analysis, ready, dev, review_wait, review, test
    order = [g.get("data-stage") for g in groups(root, "vsm-stage")]
    assert order == ["backlog", "analysis", "ready", "dev", "review_wait", "review", "test"]
    # done and cancelled are not boxes: done is the customer
    assert (
        "done" not in order and "cancelled" not in order and len(groups(root, "vsm-customer")) == 1
    )


def test_consecutive_wait_stages_are_consecutive_triangles() -> None:
    m = synthetic(["wait", "wait", "active", "wait", "wait", "wait", "active"])
    root = parse(render_map(m))
    kinds = ["queue" if "vsm-queue" in classes(g) else "box" for g in groups(root, "vsm-stage")]
    assert kinds == ["queue", "queue", "box", "queue", "queue", "queue", "box"]


def test_queue_triangles_grow_with_mean_wait(root: ET.Element) -> None:
    def height(stage: str) -> float:
        tri = next(
            p for p in stage_group(root, stage).iter(f"{SVG}polygon") if "vsm-tri" in classes(p)
        )
        ys = [float(pt.split(",")[1]) for pt in tri.get("points", "").split()]
        return max(ys) - min(ys)

    # mean waits: backlog 6.0 > ready 3.2 > review_wait 1.8
    assert height("backlog") > height("ready") > height("review_wait")


# ---------------------------------------------------------------- ladder


def test_ladder_rungs_sum_to_mean_lead_time(root: ET.Element, model: MapModel) -> None:
    # by hand (summary_current.json): wait 0.4 unmapped + 6.0 + 3.2 + 0.6 blocked in dev + 1.8 + 0.1 done = 12.1
    # process 1.5 + (4.1 - 0.6) + 0.5 + 1.3 = 6.8; sum 18.9 = lead_time.mean
    rungs = [
        ln
        for g in groups(root, "vsm-ladder")
        for ln in g.iter(f"{SVG}line")
        if "vsm-rung" in classes(ln)
    ]
    by_level = {
        lv: sum(float(r.get("data-days", "")) for r in rungs if r.get("data-level") == lv)
        for lv in ("wait", "process")
    }
    assert by_level["wait"] == pytest.approx(12.1)
    assert by_level["process"] == pytest.approx(6.8)
    assert by_level["wait"] + by_level["process"] == pytest.approx(18.9)
    assert [r.get("data-stage") for r in rungs] == [
        "start",
        "backlog",
        "analysis",
        "ready",
        "dev",
        "dev",
        "review_wait",
        "review",
        "test",
        "end",
    ]
    # the printed rung values (1 decimal) add up too, within rounding
    labels = [
        t
        for g in groups(root, "vsm-ladder")
        for t in texts(g)
        if re.fullmatch(r"[\d.,]+ (d|h|min)", t)
    ]
    assert len(labels) == len(rungs)
    assert sum(days_of(t) for t in labels) == pytest.approx(18.9, abs=0.05 * len(labels))
    everything = " ".join(texts(root))
    assert "Waiting 12.1 d + working 6.8 d = 18.9 d" in everything
    assert "median 14.2 d, p85 29.5 d" in everything


def test_ladder_shows_unmapped_blocked_and_done_time_only_when_non_zero(model: MapModel) -> None:
    tags = [r.tag for r in model.ladder() if r.tag]
    assert tags == ["unmapped", "blocked", "before done"]
    bare = map_model(
        load_def("stream_checkout.yaml"),
        {
            **load_json("summary_current.json"),
            "stages": {
                **load_json("summary_current.json")["stages"],
                "unmapped": {"mean_days": 0.0},
                "done": {"mean_days": 0.0},
            },
        },
        stream_name="x",
        period_label="p",
    )
    assert [r.tag for r in bare.ladder() if r.tag] == []


# ---------------------------------------------------------------- marks


def test_bottleneck_is_marked_on_the_right_stage_in_words(root: ET.Element) -> None:
    marked = [g.get("data-stage") for g in groups(root, "vsm-bottleneck")]
    assert marked == ["dev"]
    assert "Bottleneck" in texts(stage_group(root, "dev"))
    assert "Bottleneck" not in " ".join(
        t for g in groups(root, "vsm-stage") if g.get("data-stage") != "dev" for t in texts(g)
    )


def test_wip_limit_is_shown_and_over_limit_is_flagged_in_words(root: ET.Element) -> None:
    test_box = " ".join(texts(stage_group(root, "test")))
    assert "5 / limit 3" in test_box and "over limit by 2" in test_box
    dev_box = " ".join(texts(stage_group(root, "dev")))
    assert "6 / limit 6" in dev_box and "over limit" not in dev_box  # at the limit is not over it
    review_box = " ".join(texts(stage_group(root, "review")))
    assert "limit" not in review_box  # no wip_limit set


def test_commitment_marker_is_before_the_commitment_stage(root: ET.Element) -> None:
    line = next(ln for ln in root.iter(f"{SVG}line") if "vsm-commit" in classes(ln))
    ready = next(
        r for r in stage_group(root, "ready").iter(f"{SVG}rect") if "vsm-qbox" in classes(r)
    )
    analysis = next(
        r for r in stage_group(root, "analysis").iter(f"{SVG}rect") if "vsm-data" in classes(r)
    )
    x = float(line.get("x1", ""))
    assert (
        float(analysis.get("x", "")) + float(analysis.get("width", ""))
        < x
        < float(ready.get("x", ""))
    )
    assert "Commitment point: cycle time starts here" in " ".join(texts(stage_group(root, "ready")))


def test_rework_arrows_drawn_from_two_percent_and_the_rest_summarised(root: ET.Element) -> None:
    arrows = [(g.get("data-from"), g.get("data-to")) for g in groups(root, "vsm-rework")]
    assert sorted(arrows) == [
        ("end", "test"),
        ("review", "dev"),
        ("test", "dev"),
    ]  # done -> test starts at the customer
    labels = " ".join(t for g in groups(root, "vsm-rework") for t in texts(g))
    assert "12% sent back" in labels and "7% sent back" in labels and "3% sent back" in labels
    assert "1%" not in labels
    assert "1 route, listed in the table" in " ".join(texts(root))


def test_process_change_markers_sit_on_their_stage_or_in_the_header(root: ET.Element) -> None:
    assert "3 Aug 2026: Pairing on every story" in " ".join(texts(stage_group(root, "dev")))
    header = " ".join(texts(root))
    assert "Process change 20 Jul 2026: Moved to trunk-based development" in header


def test_trigger_and_customer_show_rates_and_the_imbalance_note(root: ET.Element) -> None:
    trigger = " ".join(texts(groups(root, "vsm-trigger")[0]))
    customer = " ".join(texts(groups(root, "vsm-customer")[0]))
    assert "12.6/wk" in trigger and "enters at Backlog" in trigger
    assert "10.9/wk" in customer and "WIP growing" in customer
    # 12.6 created vs 10.9 done per week: (12.6 - 10.9) / 10.9 = 15.6% > 10%
    assert "Arrivals 12.6/wk against departures 10.9/wk (16% more)" in " ".join(texts(root))
    balanced = checkout_model()
    balanced = map_model(
        load_def("stream_checkout.yaml"),
        {
            **load_json("summary_current.json"),
            "arrivals": {"created_per_week": 11.5, "committed_per_week": 11.0},
        },
        stream_name="x",
        period_label="p",
    )
    assert "Arrivals" not in " ".join(texts(parse(render_map(balanced))))


def test_durations_under_a_day_are_in_hours(root: ET.Element) -> None:
    review = texts(stage_group(root, "review"))
    assert "12.0 h" in review  # mean 0.5 d
    assert "7.2 h" in review  # median 0.3 d


def test_baseline_values_signs_and_verdicts_never_colour_alone(root: ET.Element) -> None:
    dev = " ".join(texts(stage_group(root, "dev")))
    assert "was 5.2 d ▼ improved" in dev
    test_box = " ".join(texts(stage_group(root, "test")))
    assert "was 1.1 d ▲ worse" in test_box
    # every coloured text says what it means in words, on its line or the wrapped line after it
    lines = [("".join(t.itertext()), classes(t)) for t in root.iter(f"{SVG}text")]
    coloured = [i for i, (_, cls) in enumerate(lines) if cls & {"vsm-good", "vsm-bad"}]
    assert coloured
    for i in coloured:
        text = " ".join(t for t, _ in lines[i : i + 2])
        words = (
            ("improved",)
            if "vsm-good" in lines[i][1]
            else ("worse", "over limit", "Bottleneck", "sent back")
        )
        assert any(w in text for w in words), text
    summary = " ".join(texts(groups(root, "vsm-summary")[0]))
    assert "was 17.0 d ▼ improved" in summary  # lead time median, comparison says improved
    # lead time p85 did not change significantly: not in the box, but in its hover/focus detail
    assert "no significant change" not in summary
    detail = groups(root, "vsm-summary")[0].find(f"{SVG}title")
    assert detail is not None
    assert re.search(r"Lead time, p85 29\.5\sd \(was [0-9.]+\sd [▲▼=], no significant change\)", detail.text or "")


def test_boxes_show_a_baseline_only_where_the_change_is_significant(root: ET.Element) -> None:
    """Each 'was ...' line drawn in a box ends with a supported verdict (or wraps onto one)."""
    # the boxes' own text, not the focus panels (g.vsm-tip), which repeat the hover detail
    boxes = groups(root, "vsm-cell") + groups(root, "vsm-summary")
    lines = ["".join(t.itertext()) for g in boxes for t in g.iter(f"{SVG}text")]
    shown = [" ".join(lines[i : i + 2]) for i, line in enumerate(lines) if line.startswith("was ")]
    assert len(shown) >= 3
    assert all(re.search(r"\b(improved|worse)\b", text) for text in shown), shown
    assert not any("no significant change" in line or "not enough data" in line for line in lines)


def test_without_a_baseline_there_is_no_was() -> None:
    root = parse(render_map(checkout_model(baseline=False)))
    assert not any(t.startswith("was ") for t in texts(root))
    assert not any(classes(t) & {"vsm-good"} for t in root.iter(f"{SVG}text"))


def test_boxes_are_focusable_define_their_figures_and_link_to_items(root: ET.Element) -> None:
    for g in groups(root, "vsm-stage"):
        assert g.get("tabindex") == "0"
        title = g.find(f"{SVG}title")
        assert title is not None and "from entering the stage to leaving it" in (title.text or "")
    links = [a.get("href") for a in stage_group(root, "dev").iter(f"{SVG}a")]
    assert links and set(links) == {"../items/#stage-dev"}
    quality = [a.get("href") for a in root.iter(f"{SVG}a") if a.get("href") == "../quality/"]
    assert quality


def test_focus_shows_each_definition_panel_without_a_server(root: ET.Element) -> None:
    style = "".join(root.find(f"{SVG}style").itertext())  # type: ignore[union-attr]
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    focusable = [g for g in root.iter(f"{SVG}g") if g.get("tabindex") == "0"]
    assert len(focusable) == 7 + 3  # stages, trigger, customer, summary box
    for g in focusable:
        ident = g.get("id", "")
        tip = by_id.get(f"{ident}-tip")
        assert tip is not None and "vsm-tip" in classes(tip), ident
        assert f"#{ident}:focus~#{ident}-tip" in style
    dev_tip = " ".join(texts(by_id["map-q3-stage-dev-tip"]))
    assert "from entering the stage to leaving it" in dev_tip and "Bottleneck" in dev_tip
    # panels come after every focusable element, so they are drawn on top and the sibling rule applies
    order = [el.get("id") for el in root if el.get("id")]
    assert max(order.index(g.get("id")) for g in focusable if g in list(root)) < order.index(
        "map-q3-stage-dev-tip"
    )


def test_output_is_deterministic_and_ids_are_prefixed(model: MapModel) -> None:
    one, two = render_map(model, id_prefix="a"), render_map(model, id_prefix="b")
    assert render_map(model, id_prefix="a") == one
    ids_a = {el.get("id") for el in parse(one).iter() if el.get("id")}
    ids_b = {el.get("id") for el in parse(two).iter() if el.get("id")}
    assert ids_a and not ids_a & ids_b
    assert all(i.startswith("a-") or i == "a" for i in ids_a)
    assert "a-stage-dev" in ids_a
    bad = parse(render_map(model, id_prefix='x" onload="y'))
    assert all(re.fullmatch(r"[A-Za-z][\w-]*", el.get("id", "a")) for el in bad.iter())


# ---------------------------------------------------------------- escaping


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += [name for name, _ in attrs]


def hostile_model(**overrides: Any) -> MapModel:
    definition = load_def("stream_hostile_names.yaml")
    kwargs: dict[str, Any] = {
        "stream_name": definition.name,
        "owner": definition.owner,
        "period_label": "<b>Q3</b>",
        "period_dates": "\x00 1 Jul – 30 Sep",
        "as_of_text": "<now>",
        "items_link": "javascript:alert(1)",
        "quality_link": "data:text/html,<script>",
        "process_events": [e.model_dump() for e in definition.events],
        "wip_by_stage": {"dev": 3},
        "rework": [("review", "backlog", 0.25)],
    }
    kwargs.update(overrides)
    return map_model(
        definition,
        load_json("summary_hostile_names.json"),
        load_json("summary_hostile_names.json"),
        None,
        **kwargs,
    )


def test_hostile_names_appear_only_escaped() -> None:
    m = hostile_model()
    svg = render_map(m)
    root = parse(svg)  # still well-formed XML
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {
        "svg",
        "title",
        "desc",
        "style",
        "defs",
        "marker",
        "path",
        "rect",
        "g",
        "text",
        "line",
        "polygon",
        "a",
    }
    assert not [name for el in root.iter() for name in el.attrib if name.lower().startswith("on")]
    assert (
        "<script" not in svg and "<img" not in svg and "<b>" not in svg and "<![CDATA[" not in svg
    )
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    shown = texts(root)
    title = stage_group(root, "backlog").find(f"{SVG}title")
    assert title is not None and (title.text or "").startswith(
        "<script>alert(1)</script>: wait stage"
    )
    assert "<script>alert(1) </script>" in " ".join(
        shown
    )  # the name reads as written (wrapped in two lines)
    assert any('" onmouseover="x' in t for t in shown)
    assert "<img src=x onerror=alert(1)>" in " ".join(shown)
    # unsafe links are dropped, never written
    assert "javascript:" not in svg and "data:text" not in svg
    assert not list(root.iter(f"{SVG}a"))
    table = map_table(m)
    parser = _Tags()
    parser.feed(table)
    assert set(parser.tags) <= {
        "div",
        "table",
        "caption",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "br",
        "small",
        "p",
    }
    assert not [a for a in parser.attrs if a.startswith("on")]
    assert "<script" not in table and "&lt;script&gt;alert(1)&lt;/script&gt;" in table


def test_safe_http_links_are_kept() -> None:
    root = parse(render_map(hostile_model(items_link="https://example.org/items/")))
    hrefs = {a.get("href") for a in root.iter(f"{SVG}a")}
    assert "https://example.org/items/#stage-dev" in hrefs


# ---------------------------------------------------------------- layout limits


def synthetic(kinds: list[str], long_name: str | None = None, long_at: int = 3) -> MapModel:
    """A stream of the given stage kinds (then done), means 0.5, 1.25, 2.0, 2.75 days repeating."""
    stages: list[dict[str, Any]] = []
    for i, kind in enumerate(kinds):
        name = long_name if long_name and i == long_at else f"Stage {i}"
        stages.append(
            {
                "id": f"s{i}",
                "name": name,
                "states": [f"S{i}"],
                "kind": kind,
                "wip_limit": 3 if kind == "active" else None,
            }
        )
    stages.append({"id": "done", "name": "Done", "states": ["Done"], "kind": "done"})
    definition = StreamDef.model_validate(
        {
            "name": "Synthetic",
            "sources": [{"kind": "csv"}],
            "stages": stages,
            "commitment": f"s{min(2, len(kinds) - 1)}",
        }
    )
    entries: dict[str, Any] = {}
    for i, kind in enumerate(kinds):
        mean = 0.5 + (i % 4) * 0.75
        entries[f"s{i}"] = {
            "kind": kind,
            "mean_days": mean,
            "p50_days": mean * 0.7,
            "p85_days": mean * 1.9,
            "items_through": 50 - i,
        }
        if kind == "active":
            entries[f"s{i}"]["pct_complete_accurate"] = 0.9
    lead = sum(e["mean_days"] for e in entries.values())
    summary = {
        "lead_time": {"count": 50, "mean": lead, "p50": lead * 0.8, "p85": lead * 1.6},
        "cycle_time": {"count": 50, "p85": 8.0},
        "throughput_per_week": 5.0,
        "wip_now": 12,
        "wip_mean": 11.0,
        "flow_efficiency": 0.3,
        "process_days_mean": 3.0,
        "stages": entries,
        "arrivals": {"created_per_week": 5.2, "committed_per_week": 5.0},
        "bottleneck": f"s{len(kinds) - 1}",
        "hand_offs": {"mean_per_item": 2.0, "by_stage": {f"s{i}": 0.25 for i in range(len(kinds))}},
    }
    return map_model(
        definition,
        summary,
        summary,
        None,
        stream_name="Synthetic",
        period_label="Q3 2026",
        wip_by_stage={f"s{i}": 4 for i in range(len(kinds))},
        rework=[(f"s{len(kinds) - 1}", "s1", 0.05)],
    )


LONG = "Waiting for the architecture board to approve a change plan."  # 60 characters
ONE_WORD = (
    "Security-and-compliance-review-by-the-architecture-board-tea"  # 60, no space to break at
)


@pytest.mark.parametrize(
    ("n", "long_name"), [(3, None), (3, LONG), (15, None), (15, LONG), (15, ONE_WORD)]
)
def test_layout_survives_3_to_15_stages_and_long_names(n: int, long_name: str | None) -> None:
    assert len(LONG) == len(ONE_WORD) == 60
    kinds = ["wait" if i % 2 == 0 else "active" for i in range(n)]
    m = synthetic(kinds, long_name, long_at=1)
    cells = layout_cells(m)
    rows, _ = flow_rows(cells)
    assert sum(len(r) for r in rows) == n + 2
    for c in cells:
        assert c.x >= M and c.x + c.width <= W - M, c.key  # every column inside the canvas
        for line in [*c.lines, *c.top]:
            assert line.width() <= c.inner + 0.01, (c.key, line)
        for name in c.name:
            assert text_width(name, 14, bold=True) <= c.inner + 0.01, (c.key, name)
    if long_name:
        box = next(c for c in cells if c.key == "s1")
        assert len(box.name) >= 3 and "".join(box.name).replace(" ", "") == long_name.replace(
            " ", ""
        )
    svg = render_map(m)
    root = parse(svg)
    assert len(groups(root, "vsm-box")) == len([k for k in kinds if k == "active"])
    assert len(groups(root, "vsm-queue")) == len([k for k in kinds if k == "wait"])
    for t in root.iter(f"{SVG}text"):
        assert 0 <= float(t.get("x", "0")) <= W


def test_rows_keep_fonts_readable_at_1200px() -> None:
    # the canvas is always 1200 wide, so 12.5 px text stays 12.5 px on a 1200 px page: long streams wrap
    m = synthetic(["wait" if i % 2 == 0 else "active" for i in range(15)])
    assert len(flow_rows(layout_cells(m))[0]) >= 3
    assert parse(render_map(m)).get("viewBox", "").startswith("0 0 1200 ")
    assert COL["active"] - 2 * PAD >= 150


def test_wrap_measures_and_splits() -> None:
    width = 100.0
    lines = wrap("Supercalifragilisticexpialidocious-and-then-some plus a few words", width, 13)
    assert len(lines) > 2 and all(text_width(line, 13) <= width for line in lines)
    assert (
        "".join(lines).replace(" ", "")
        == "Supercalifragilisticexpialidocious-and-then-someplusafewwords"
    )
    capped = wrap("word " * 200, width, 13, max_lines=3)
    assert (
        len(capped) == 3
        and capped[-1].endswith("…")
        and all(text_width(line, 13) <= width for line in capped)
    )
    assert wrap("", width, 13) == [""]
    assert text_width("WWW", 13) > text_width("iii", 13)
    assert text_width("東京", 13) > text_width("ab", 13)


# ---------------------------------------------------------------- the table


NUMBER = re.compile(r"\d[\d,]*\.\d+ (?:d|h)|\d+ min|\d+%|[\d.,]+/wk|[\d.,]+/item")


def test_map_table_has_the_same_numbers_as_the_svg(model: MapModel, root: ET.Element) -> None:
    table = map_table(model)
    table_text = (
        re.sub(r"<[^>]+>", " ", table)
        .replace("&nbsp;", " ")
        .replace("\u00a0", " ")
        .replace("&amp;", "&")
    )
    svg_numbers = set(NUMBER.findall(" ".join(texts(root))))
    table_numbers = set(NUMBER.findall(table_text))
    assert svg_numbers and svg_numbers <= table_numbers, svg_numbers - table_numbers
    for figure in (
        "18.9 d",
        "14.2 d",
        "29.5 d",
        "6.8 d",
        "12.1 d",
        "36%",
        "62%",
        "10.9/wk",
        "12.6/wk",
        "19.6 d",
        "12.0 h",
        "14.4 h",
        "9.6 h",
        "2.4 h",
        "12%",
    ):
        assert figure in svg_numbers and figure in table_numbers, figure
    assert "5 / limit 3 (over the limit by 2)" in table_text
    assert "bottleneck" in table_text


def test_map_table_is_accessible(model: MapModel) -> None:
    table = map_table(model)
    assert table.count("<table>") == table.count("<caption>") >= 2
    assert '<th scope="col">' in table and '<th scope="row">' in table
    assert 'class="commit"' in table  # the commitment stage's row
    parser = _Tags()
    parser.feed(table)
    assert parser.tags.count("table") >= 2


# ---------------------------------------------------------------- sample for the eye


def test_write_sample_map_for_review(model: MapModel) -> None:
    OUT.mkdir(exist_ok=True)
    svg = render_map(model, id_prefix="sample")
    (OUT / "map-sample.svg").write_text(svg, encoding="utf-8")
    css = Path(__file__).resolve().parents[1] / "generator" / "site_templates" / "static" / "site.css"
    style = css.read_text(encoding="utf-8") if css.exists() else ""
    page = f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Map sample</title><style>{style}</style></head><body><main class="wrap"><h1>Value stream map</h1>{svg}{map_table(model)}</main></body></html>\n'
    (OUT / "map-sample.html").write_text(page, encoding="utf-8")
    assert parse((OUT / "map-sample.svg").read_text(encoding="utf-8")) is not None


# ---------------------------------------------------------------- text: the fast paths agree


CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def _reference_clean(text: object) -> str:
    """clean() as first written: the regex and two replaces on every text."""
    return CONTROL.sub(" ", str(text)).replace("\n", " ").replace("\t", " ")


def _reference_wrap(text: str, width: float, size: float, bold: bool) -> list[str]:
    """wrap() as first written, without its line cap: every trial line measured whole."""
    lines: list[str] = []
    current = ""
    for word in (w for w in _reference_clean(text).split(" ") if w):
        trial = f"{current} {word}" if current else word
        if text_width(trial, size, bold) <= width:
            current = trial
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if text_width(current + ch, size, bold) > width and current:
                lines.append(current)
                current = ""
            current += ch
    if current:
        lines.append(current)
    return lines or [""]


# words of letters, wide and combining characters, controls, tabs and line breaks
TEXT = st.text(
    alphabet=st.sampled_from(list("aiWm .,-lI東京\u0301\u00a0\t\n\x07\x85\ud800&<>'\"é")),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(
    TEXT,
    st.floats(min_value=5, max_value=300),
    st.sampled_from([11.0, 12.5, 13.0, 14.0, 22.0]),
    st.booleans(),
    st.integers(1, 10),
)
def test_wrap_gives_what_measuring_every_trial_line_whole_gives(
    text: str, width: float, size: float, bold: bool, max_lines: int
) -> None:
    """The word-by-word widths add to the whole line's width to the last bit, so the lines are
    the same as the first implementation's (kept above as the reference); past max_lines the
    last line kept is cut to fit an ellipsis."""
    full = wrap(text, width, size, bold, max_lines=10**6)
    assert full == _reference_wrap(text, width, size, bold)
    capped = wrap(text, width, size, bold, max_lines)
    if len(full) <= max_lines:
        assert capped == full
    else:
        assert capped[:-1] == full[: max_lines - 1]
        last = capped[-1]
        assert last.endswith("…") and full[max_lines - 1].startswith(last[:-1])
        assert last == "…" or text_width(last, size, bold) <= width


@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_clean_and_esc_skip_work_only_where_there_is_none(text: str) -> None:
    assert clean(text) == _reference_clean(text)
    assert esc(text) == str(markup_escape(_reference_clean(text)))
