"""The build cache (.vsm-cache/): unchanged streams are reused, changed ones recomputed, output byte-identical.

Keys are content hashes: touching a file (mtime only) reuses, changing bytes
recomputes even when the mtime is put back. Damaged entries are misses.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

import generator.cache as cache_module
from generator.build import BuildOptions, BuildReport, build
from generator.cache import CACHE_DIR, BuildCache, _git_fingerprint
from generator.cli import main

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation" / "project"
REPO = Path(__file__).resolve().parent.parent


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def run(project: Path, out: Path, cache: bool = True) -> BuildReport:
    report = build(BuildOptions(project=project, out=out, cache=cache))
    assert report.written, [p.format() for p in report.errors]
    return report


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The foundation project with a second stream, 'other', a copy of 'demo'."""
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION, root, ignore=shutil.ignore_patterns(".vsm-cache", "_site"))
    shutil.copytree(root / "streams" / "demo", root / "streams" / "other")
    return root


def entry(project: Path, stream: str) -> Path:
    return project / CACHE_DIR / "streams" / f"{stream}.pickle"


def test_a_second_build_reuses_every_stream(project: Path, tmp_path: Path) -> None:
    first = run(project, tmp_path / "a")
    assert sorted(first.computed) == ["demo", "other"] and first.reused == []
    second = run(project, tmp_path / "b")
    assert second.computed == [] and sorted(second.reused) == ["demo", "other"]
    assert tree(tmp_path / "a") == tree(tmp_path / "b")
    assert [(s.id, s.items, s.events, s.warnings) for s in first.streams] == [(s.id, s.items, s.events, s.warnings) for s in second.streams]
    assert first.problems == second.problems


def test_changing_one_streams_data_recomputes_only_that_stream(project: Path, tmp_path: Path) -> None:
    run(project, tmp_path / "warm")
    events = project / "streams" / "other" / "data" / "events.csv"
    events.write_text(events.read_text().replace("2026-02-13T09", "2026-02-14T09"))
    report = run(project, tmp_path / "cached")
    assert report.computed == ["other"] and report.reused == ["demo"]
    clean = run(project, tmp_path / "clean", cache=False)
    assert clean.reused == [] and sorted(clean.computed) == ["demo", "other"]
    assert tree(tmp_path / "cached") == tree(tmp_path / "clean")


@pytest.mark.parametrize(
    "change",
    ["notes", "report", "vsm.yaml", "stream.yaml", "items"],
)
def test_every_input_is_part_of_the_key_or_only_rendered(project: Path, tmp_path: Path, change: str) -> None:
    run(project, tmp_path / "warm")
    demo = project / "streams" / "demo"
    if change == "notes":
        (demo / "notes.md").write_text("New notes.\n")
    elif change == "report":
        (demo / "reports").mkdir()
        (demo / "reports" / "2026-q1.md").write_text("# Q1\n\nA report.\n")
    elif change == "vsm.yaml":
        (project / "vsm.yaml").write_text("title: Our streams\n")
    elif change == "stream.yaml":
        (demo / "stream.yaml").write_text((demo / "stream.yaml").read_text().replace("name: Demo", "name: Demo two"))
    else:
        (demo / "data" / "items.csv").write_text((demo / "data" / "items.csv").read_text().replace("First item", "First item, renamed"))
    report = run(project, tmp_path / "again")
    # notes and reports are rendered, never computed from: editing them reuses the metrics
    expected = {"vsm.yaml": ["demo", "other"], "notes": [], "report": []}.get(change, ["demo"])
    assert sorted(report.computed) == expected
    run(project, tmp_path / "clean", cache=False)
    assert tree(tmp_path / "again") == tree(tmp_path / "clean")


def test_keys_are_content_not_mtime(project: Path, tmp_path: Path) -> None:
    run(project, tmp_path / "warm")
    events = project / "streams" / "demo" / "data" / "events.csv"
    before = events.stat()
    os.utime(events, ns=(before.st_atime_ns, before.st_mtime_ns + 10**12))  # touched: same bytes
    assert sorted(run(project, tmp_path / "touched").reused) == ["demo", "other"]
    text = events.read_text()
    events.write_text(text.replace("2026-01-08T09:00:00Z", "2026-01-08T10:00:00Z"))  # same size, other bytes
    os.utime(events, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime put back
    assert run(project, tmp_path / "changed").computed == ["demo"]


def test_a_code_change_invalidates_everything(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(project, tmp_path / "warm")
    monkeypatch.setattr(cache_module, "code_digest", lambda: "another version of the generator")
    assert sorted(run(project, tmp_path / "new-code").computed) == ["demo", "other"]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "foreign pickle", "empty", "a folder"])
def test_a_damaged_cache_entry_is_ignored(project: Path, tmp_path: Path, damage: str) -> None:
    run(project, tmp_path / "warm")
    path = entry(project, "demo")
    blob = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00\xffnot a cache entry at all")
    elif damage == "truncated":
        path.write_bytes(blob[: len(blob) // 2])
    elif damage == "foreign pickle":
        head = blob[: blob.index(b"\n", len(cache_module.MAGIC)) + 1]
        path.write_bytes(head + pickle.dumps({"not": "metrics"}))
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.unlink()
        path.mkdir()
    report = run(project, tmp_path / "after")
    assert report.computed == ["demo"] and report.reused == ["other"]
    assert tree(tmp_path / "after") == tree(tmp_path / "warm")


def test_the_cache_folder_is_safe_to_delete(project: Path, tmp_path: Path) -> None:
    run(project, tmp_path / "warm")
    shutil.rmtree(project / CACHE_DIR)
    assert sorted(run(project, tmp_path / "cold").computed) == ["demo", "other"]
    assert tree(tmp_path / "cold") == tree(tmp_path / "warm")


def test_a_read_only_cache_still_builds(project: Path, tmp_path: Path) -> None:
    (project / CACHE_DIR).write_text("not a folder")  # nothing can be stored under it
    report = run(project, tmp_path / "out")
    assert sorted(report.computed) == ["demo", "other"]


def test_cli_no_cache(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--project", str(project), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert main(["build", "--project", str(project), "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert "reused 2 unchanged stream(s) from .vsm-cache" in capsys.readouterr().err
    assert main(["build", "--project", str(project), "--out", str(tmp_path / "c"), "--quiet", "--no-cache"]) == 0
    assert "reused" not in capsys.readouterr().err
    assert tree(tmp_path / "a") == tree(tmp_path / "b") == tree(tmp_path / "c")


def test_reused_metrics_answer_for_any_period(project: Path, tmp_path: Path) -> None:
    """Reports ask a stream's metrics for their own periods: the closure survives the cache."""
    from generator.metrics.periods import span
    from generator.validate.stream import load_project

    fresh = run(project, tmp_path / "warm")
    assert fresh.computed
    loaded, _ = load_project(project)
    config = next(c for c in loaded.streams if c.id == "demo")
    hit = BuildCache(project).lookup(config)
    assert hit is not None and hit.metrics.period_for is not None
    import datetime as dt

    the_span = span("january", "January", dt.date(2026, 1, 1), dt.date(2026, 1, 31), "UTC", hit.metrics.as_of)
    assert hit.metrics.period_for(the_span).summary["lead_time"]["count"] == 2


def test_a_new_file_in_a_source_folder_invalidates(tmp_path: Path) -> None:
    """jira-json reads every .json in a folder: the folder's listing is part of the key."""
    project = tmp_path / "proj"
    project.mkdir()
    assert main(["new", "jira", "--project", str(project), "--from", "jira-json", "--input", str(REPO / "tests/data/sources/jira_small.json")]) == 0
    stream = project / "streams" / "jira"
    (stream / "data" / "exports").mkdir()
    os.replace(stream / "data" / "jira_small.json", stream / "data" / "exports" / "a.json")
    (stream / "stream.yaml").write_text((stream / "stream.yaml").read_text().replace("path: data/jira_small.json", "path: data/exports"))
    assert run(project, tmp_path / "a").computed == ["jira"]
    assert run(project, tmp_path / "b").reused == ["jira"]
    (stream / "data" / "exports" / "b.json").write_text("[]")
    assert run(project, tmp_path / "c").computed == ["jira"]


def test_git_fingerprint_follows_commits_and_tags(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "one")
    first = _git_fingerprint(repo)
    assert first is not None and first == _git_fingerprint(repo)
    (repo / "file.txt").write_text("work in progress")  # not committed: the history is the same
    assert _git_fingerprint(repo) == first
    git("commit", "-q", "--allow-empty", "-m", "two")
    second = _git_fingerprint(repo)
    assert second != first
    git("tag", "v1.0.0")
    assert _git_fingerprint(repo) not in (first, second)


@pytest.mark.slow
def test_examples_cached_build_is_byte_identical_to_a_clean_one(tmp_path: Path) -> None:
    """The example streams (with reports, git history, incidents): warm cache == --no-cache, byte for byte."""
    project = tmp_path / "examples"
    shutil.copytree(REPO / "streams", project / "streams")
    run(project, tmp_path / "warm")
    cached = run(project, tmp_path / "cached")
    assert cached.computed == [] and len(cached.reused) == len(list((project / "streams").iterdir()))
    run(project, tmp_path / "clean", cache=False)
    assert tree(tmp_path / "cached") == tree(tmp_path / "clean")


def test_serve_keeps_what_was_read_while_sources_and_files_are_unchanged(project: Path) -> None:
    """vsm serve (memory=True): a stream.yaml edit that changes no source reads no file again;
    a changed data file or source option does; each build gets frames of its own."""
    from generator.sources.collect import read_stream
    from generator.validate.stream import load_project

    cache = BuildCache(project, enabled=False, memory=True)
    reads: list[str] = []

    def data(config_text: str | None = None) -> object:
        if config_text is not None:
            (project / "streams" / "demo" / "stream.yaml").write_text(config_text, encoding="utf-8")
        cache.digests.forget([project / "streams" / "demo"])
        loaded, _ = load_project(project, {"demo"})
        (config,) = loaded.streams

        def reader() -> object:
            reads.append(config.id)
            return read_stream(project, config)

        return cache.read(config, reader, most_events=10**6)  # type: ignore[arg-type]

    yaml_path = project / "streams" / "demo" / "stream.yaml"
    original = yaml_path.read_text(encoding="utf-8")
    first = data()
    first.events["added"] = 1  # type: ignore[attr-defined]  # what computing may do to its frames
    second = data(original + "\ndescription: edited\n")  # no source changed: reused
    assert reads == ["demo"]
    assert "added" not in second.events.columns  # type: ignore[attr-defined]
    assert second.events is not first.events  # type: ignore[attr-defined]
    events_csv = next((project / "streams" / "demo").rglob("events.csv"))
    events_csv.write_bytes(events_csv.read_bytes() + events_csv.read_bytes().splitlines(keepends=True)[-1])
    data()  # a data file changed: read again
    assert reads == ["demo", "demo"]
    data(original.replace("timezone: UTC", "timezone: Europe/Paris", 1))  # naive times read differently
    assert reads == ["demo", "demo", "demo"]
    # without memory (vsm build) nothing is kept
    plain = BuildCache(project, enabled=False)
    loaded, _ = load_project(project, {"demo"})
    plain.read(loaded.streams[0], lambda: read_stream(project, loaded.streams[0]), most_events=10**6)
    assert plain.reads == {}
