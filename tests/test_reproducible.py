"""The same input gives the same bytes: no absolute path, no wall clock, provenance only from the environment."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_fixtures import EXAMPLES, FOUNDATION, ROOT, build_site, output_files

PROVENANCE_VARS = ("VSM_BUILD_COMMIT", "GITHUB_SHA", "CI_COMMIT_SHA", "SOURCE_DATE_EPOCH")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No provenance from the CI the tests run in: each test sets what it checks."""
    for name in PROVENANCE_VARS:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


def diff(a: dict[str, bytes], b: dict[str, bytes]) -> list[str]:
    names = sorted(set(a) | set(b))
    return [n for n in names if a.get(n) != b.get(n)]


def today_texts(today: dt.date) -> list[str]:
    """The ways a page could spell today's date."""
    return [
        today.isoformat(), today.strftime("%Y/%m/%d"), today.strftime("%d.%m.%Y"), today.strftime("%d/%m/%Y"),
        f"{today.day} {today:%b} {today.year}", f"{today:%b} {today.day}, {today.year}", f"{today.day} {today:%B} {today.year}",
    ]


def input_text(project: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted((project / "streams").rglob("*")) if p.is_file())


def assert_no_machine_details(files: dict[str, bytes], project: Path, out: Path) -> None:
    """No absolute path of this machine and no date of today (unless the input has it) in any file."""
    machine = {str(project), str(out), str(out.parent), str(ROOT), str(Path.home()), "/tmp/", os.getcwd()}
    machine = {m for m in machine if len(m) > 4}  # not '/' or '/tmp' of an odd home
    inputs = input_text(project)
    dates = [t for t in today_texts(dt.date.today()) if t not in inputs]
    found = []
    for name, data in files.items():
        text = data.decode("utf-8", errors="replace")
        found += [f"{name}: path {m!r}" for m in machine if m in text]
        found += [f"{name}: today's date {d!r}" for d in dates if d in text]
    assert not found, "\n".join(found)


def test_two_builds_are_byte_identical(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two copies of the project in different places, built into differently named folders."""
    first = shutil.copytree(FOUNDATION, tmp_path / "a" / "project")
    second = shutil.copytree(FOUNDATION, tmp_path / "b" / "elsewhere" / "other-name")
    build_site(first, tmp_path / "a" / "_site")
    build_site(second, tmp_path / "b" / "out")
    a, b = output_files(tmp_path / "a" / "_site"), output_files(tmp_path / "b" / "out")
    assert sorted(a) == sorted(b)
    assert diff(a, b) == []
    assert_no_machine_details(a, first, tmp_path / "a" / "_site")


@pytest.mark.slow
def test_example_build_is_byte_identical_to_the_session_build(clean_env: pytest.MonkeyPatch, example_site: Path, tmp_path: Path) -> None:
    """The examples (every page kind, charts, maps, reports) built a second time, from the same folder."""
    out = tmp_path / "again"
    build_site(EXAMPLES, out)
    a, b = output_files(example_site), output_files(out)
    assert sorted(a) == sorted(b)
    assert diff(a, b) == []
    assert_no_machine_details(b, EXAMPLES, out)


def test_rebuilding_over_an_old_site_gives_the_same_bytes(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_site(FOUNDATION, tmp_path / "fresh")
    build_site(FOUNDATION, tmp_path / "reused")
    build_site(FOUNDATION, tmp_path / "reused")
    assert diff(output_files(tmp_path / "fresh"), output_files(tmp_path / "reused")) == []


def footer(out: Path, page: str = "streams/demo/index.html") -> str:
    html = (out / page).read_text(encoding="utf-8")
    return html[html.index("<footer"): html.index("</footer>")]


def test_footer_names_the_commit(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("VSM_BUILD_COMMIT", "0123456789abcdef0123456789abcdef01234567")
    build_site(FOUNDATION, tmp_path / "site")
    for page in ("index.html", "streams/demo/index.html", "streams/demo/trends/index.html", "404.html"):
        assert "from commit 0123456789ab" in footer(tmp_path / "site", page), page
    assert "0123456789abc" not in footer(tmp_path / "site")  # 12 characters, like git's short form


def test_footer_names_the_source_date(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01T00:00:00Z
    build_site(FOUNDATION, tmp_path / "a")
    build_site(FOUNDATION, tmp_path / "b")
    assert "2026-01-01 00:00 UTC" in footer(tmp_path / "a")
    assert diff(output_files(tmp_path / "a"), output_files(tmp_path / "b")) == []


def test_footer_without_provenance_has_no_date_or_commit(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_site(FOUNDATION, tmp_path / "site")
    text = footer(tmp_path / "site")
    assert "built by vsm" in text
    assert "commit" not in text and "dated" not in text
    assert_no_machine_details(output_files(tmp_path / "site"), FOUNDATION, tmp_path / "site")


def test_the_environment_changes_only_the_footer(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_site(FOUNDATION, tmp_path / "plain")
    clean_env.setenv("VSM_BUILD_COMMIT", "feedfacecafebeef")
    build_site(FOUNDATION, tmp_path / "commit")
    plain, commit = output_files(tmp_path / "plain"), output_files(tmp_path / "commit")
    changed = diff(plain, commit)
    assert changed and all(name.endswith(".html") for name in changed), changed
    for name in changed:
        before, after = plain[name].decode(), commit[name].decode()
        assert before.replace("built by vsm", "") != after.replace("built by vsm", "")
        assert after.replace(" from commit feedfacecafe", "") == before, name


def test_the_scan_finds_a_planted_path_and_date(tmp_path: Path) -> None:
    """The checks above can fail."""
    with pytest.raises(AssertionError, match="path"):
        assert_no_machine_details({"index.html": f"<p>{tmp_path}/x</p>".encode()}, FOUNDATION, tmp_path / "site")
    with pytest.raises(AssertionError, match="today"):
        assert_no_machine_details({"index.html": f"<p>{dt.date.today().isoformat()}</p>".encode()}, FOUNDATION, tmp_path / "site")
