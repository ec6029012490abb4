"""vsm serve's incremental render (render/memo.py): after any edit, the same bytes as a clean build.

The independent method is the clean build itself: every edit is followed by a
build that keeps the serve-style caches (metrics in memory, rendered units in
the memo) and by a build from scratch in a fresh process state (no cache, no
memo), and the two sites must be byte for byte the same. The units each edit
re-renders are checked too, so a memo that re-rendered everything (correct but
slow) would fail as well.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.build import BuildOptions, build
from generator.cache import BuildCache
from generator.render.env import TEMPLATES
from generator.render.memo import RenderMemo

REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """The example project (both streams) and a copy of the templates, so templates can be edited."""
    shutil.copytree(REPO / "streams", tmp_path / "project" / "streams")
    shutil.copytree(TEMPLATES, tmp_path / "templates")
    return tmp_path


def clean(work: Path, name: str) -> dict[str, bytes]:
    out = work / name
    report = build(
        BuildOptions(project=work / "project", out=out),
        cache=BuildCache(work / "project", enabled=False),
        memo=RenderMemo(templates=work / "templates"),  # a fresh memo renders every unit
    )
    assert report.written, [p.format() for p in report.errors]
    return tree(out)


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


DEV = "project/streams/development"
EDITS: list[tuple[str, Callable[[Path], None], set[str], list[str]]] = [
    # (what, the edit, units rendered again, streams computed again)
    ("notes", lambda w: append(w / DEV / "notes.md", "\nA new paragraph.\n"), {"development:overview"}, []),
    (
        "report",
        lambda w: append(w / DEV / "reports" / "2026-q3.md", "\nOne more sentence.\n"),
        {"development:report:2026-q3", "development:overview", "home"},  # group pages show no reports
        [],
    ),
    (
        # the description is shown, never computed from (generator/presentation.py): no stream is computed again
        "stream.yaml description",
        lambda w: replace(w / DEV / "stream.yaml", "\ndescription: >-\n  ", "\ndescription: >-\n  Edited. "),
        {"development:overview", "home", "group:product", "group:product/checkout"},  # not the support stream's groups
        [],
    ),
    ("stream.yaml comment", lambda w: append(w / DEV / "stream.yaml", "\n# a comment\n"), set(), []),
    (
        # a WIP limit is drawn on the maps only: the pages with a map, nothing computed; the home
        # page lists the report, whose fingerprint covers the map it shows
        "stream.yaml WIP limit",
        lambda w: replace(w / DEV / "stream.yaml", "wip_limit: 10", "wip_limit: 8"),
        {"development:forecast", "development:compare", "development:report:2026-q3", "development:overview", "home"},
        [],
    ),
    (
        "stream.yaml owner",  # map captions and cards
        lambda w: replace(w / DEV / "stream.yaml", "owner: Checkout team", "owner: Checkout & <payments> team"),
        {"development:forecast", "development:compare", "development:report:2026-q3", "development:overview"}
        | {"home", "group:product", "group:product/checkout"},
        [],
    ),
    (
        "stream.yaml process event",  # markers on the trends, DORA charts and maps
        lambda w: replace(w / DEV / "stream.yaml", "label: Review rota introduced", "label: Review rota started"),
        {"development:trends", "development:dora", "development:forecast", "development:compare"}
        | {"development:report:2026-q3", "development:overview"},
        [],
    ),
    (
        "stream.yaml target",  # a target line on the trends, the cards' checks
        lambda w: replace(w / DEV / "stream.yaml", "lead_time_p85_days: 40", "lead_time_p85_days: 35"),
        {"development:trends", "development:report:2026-q3", "development:overview"}
        | {"home", "group:product", "group:product/checkout"},
        [],
    ),
    (
        # the p85 cycle-time target is the SLE's default: computed from, so every page of the stream
        "stream.yaml SLE target",
        lambda w: replace(w / DEV / "stream.yaml", "cycle_time_p85_days: 30", "cycle_time_p85_days: 28"),
        {f"development:{page}" for page in ("data", "trends", "forecast", "items", "compare", "dora", "quality")}
        | {"development:report:2026-q3", "development:overview", "home", "group:product", "group:product/checkout"},
        ["development"],
    ),
    (
        "template",
        lambda w: replace(w / "templates" / "trends.html", "<p>Data as of", "<p>Edited. Data as of"),
        None,  # every unit: the site-wide key changed
        [],
    ),
    ("css", lambda w: append(w / "templates" / "static" / "site.css", "\n/* edited */\n"), None, []),
]


def test_a_fresh_memo_renders_what_a_build_without_one_does(tmp_path: Path) -> None:
    """The memo's code path itself changes nothing: the example site equals the plain build's."""
    plain = tmp_path / "plain"
    build(BuildOptions(project=REPO, out=plain), cache=BuildCache(REPO, enabled=False))
    with_memo = tmp_path / "memo"
    build(BuildOptions(project=REPO, out=with_memo), cache=BuildCache(REPO, enabled=False), memo=RenderMemo())
    assert tree(plain) == tree(with_memo)


@pytest.mark.slow
def test_every_kind_of_edit_gives_a_clean_builds_bytes_and_renders_only_what_it_touched(work: Path) -> None:
    project = work / "project"
    cache = BuildCache(project, enabled=False, memory=True)
    memo = RenderMemo(templates=work / "templates")
    first = build(BuildOptions(project=project, out=work / "served"), cache=cache, memo=memo)
    assert first.written and sorted(first.computed) == ["development", "support"]
    everything = set(memo.rendered)
    assert {"development:data", "development:items", "development:overview", "support:data", "home"} <= everything
    for what, edit, rendered, computed in EDITS:
        edit(work)
        report = build(BuildOptions(project=project, out=work / "served"), cache=cache, memo=memo)
        assert report.written, (what, [p.format() for p in report.errors])
        assert report.computed == computed, what
        expected_units = everything if rendered is None else rendered
        assert set(memo.rendered) == expected_units, what
        assert set(memo.rendered) | set(memo.reused) == everything, what
        assert tree(work / "served") == clean(work, f"clean-{what}"), what


@pytest.mark.slow
def test_a_focused_render_writes_the_open_page_first_and_the_next_render_the_rest(work: Path) -> None:
    """vsm serve's two passes (memo.focus): the first renders only the units that write an open page
    and puts back the others' last files; the second renders exactly those, and the site is then a
    clean build's, byte for byte."""
    project = work / "project"
    cache = BuildCache(project, enabled=False, memory=True)
    memo = RenderMemo(templates=work / "templates")
    served = work / "served"
    first = build(BuildOptions(project=project, out=served), cache=cache, memo=memo)
    assert first.written
    before = tree(served)
    replace(work / DEV / "stream.yaml", "cycle_time_p85_days: 30", "cycle_time_p85_days: 28")
    memo.focus = frozenset({"streams/development/forecast/index.html"})
    focused = build(BuildOptions(project=project, out=served), cache=cache, memo=memo)
    assert focused.written and focused.computed == ["development"]
    assert memo.rendered == ["development:forecast"]
    deferred = set(memo.deferred)
    assert {"development:items", "development:overview", "home"} <= deferred
    after_first = tree(served)
    data = "streams/development/data/metrics.json"  # its SLE figures change: stale until the second pass
    assert after_first[data] == before[data]
    memo.focus = None
    rest = build(BuildOptions(project=project, out=served), cache=cache, memo=memo)
    assert rest.computed == [] and set(memo.rendered) == deferred and memo.deferred == []
    site = tree(served)
    assert site == clean(work, "clean") and site[data] != before[data]
    # the open page was already final after the first pass
    assert after_first["streams/development/forecast/index.html"] == site["streams/development/forecast/index.html"]
