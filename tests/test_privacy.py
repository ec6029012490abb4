"""Privacy: with `--private` or `privacy: true` no item title, tracker link or actor reaches any output file.

The secrets are read from the example inputs themselves (every title and url of
items.csv, every actor of events.csv). Each output file is searched as text
after undoing the encodings a page or a spec uses (JSON \\u escapes, HTML
entities, CSV doubled quotes), so an escaped title counts as a leak too.
Text that also occurs in the narrative inputs (stream.yaml, notes, reports)
is not a secret: those are published on purpose.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from site_fixtures import EXAMPLES, build_site, copy_examples, output_files

from generator.cli import main

pytestmark = pytest.mark.slow  # two more builds of the examples, about 10 s


@dataclass(frozen=True)
class Secrets:
    titles: frozenset[str]
    urls: frozenset[str]
    actors: frozenset[str]


def narrative(project: Path) -> str:
    """What a project publishes on purpose: definitions, notes and reports."""
    streams = project / "streams"
    files = [*streams.glob("*/stream.yaml"), *streams.glob("*/notes.md"), *streams.glob("*/reports/*.md")]
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(files))


def actor_pattern(actor: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(actor)}(?![\w-])")


def read_secrets(project: Path) -> Secrets:
    titles: set[str] = set()
    urls: set[str] = set()
    actors: set[str] = set()
    for path in (project / "streams").glob("*/data/items.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            titles.add((row.get("title") or "").strip())
            urls.add((row.get("url") or "").strip())
    for path in (project / "streams").glob("*/data/events.csv"):
        for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
            actors.add((row.get("actor") or "").strip())
    public = narrative(project)
    return Secrets(
        titles=frozenset(t for t in titles if t and t not in public),
        urls=frozenset(u for u in urls if u and u not in public),
        actors=frozenset(a for a in actors if a and not actor_pattern(a).search(public)),
    )


@pytest.fixture(scope="module")
def secrets() -> Secrets:
    found = read_secrets(EXAMPLES)
    assert len(found.titles) > 1000 and len(found.urls) > 1000 and len(found.actors) > 10, (len(found.titles), len(found.urls), len(found.actors))
    return found


def readable(data: bytes) -> str:
    """A file as a reader (or a script) would see its text: JSON escapes and HTML entities undone."""
    text = data.decode("utf-8", errors="replace")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(html.unescape(text))  # chart labels are escaped once for plotly, then the page


def leaks(out: Path, secrets: Secrets) -> dict[str, list[str]]:
    """Every secret found in any output file, by kind ('title', 'url', 'actor'), as 'file: secret'."""
    found: dict[str, list[str]] = {"title": [], "url": [], "actor": []}
    hosts = {re.sub(r"^https?://([^/]+).*$", r"\1", u) for u in secrets.urls}
    for name, data in output_files(out).items():
        if name.startswith("assets/"):
            continue  # the same static files for every project
        raw = data.decode("utf-8", errors="replace")
        text = readable(data)
        found["title"] += [f"{name}: {t}" for t in secrets.titles if t in text or ('"' in t and t.replace('"', '""') in raw)]
        seen_hosts = [h for h in hosts if h in text]
        found["url"] += [f"{name}: host {h}" for h in seen_hosts]
        if seen_hosts:  # a url can only be there with its host
            found["url"] += [f"{name}: {u}" for u in secrets.urls if u in text]
        found["actor"] += [f"{name}: {a}" for a in secrets.actors if actor_pattern(a).search(text)]
    return found


def assert_private(out: Path, secrets: Secrets) -> None:
    found = leaks(out, secrets)
    for kind, lines in found.items():
        assert not lines, f"{len(lines)} {kind} leak(s), e.g.\n" + "\n".join(sorted(lines)[:15])
    # privacy hides text, not items: every item keeps its row, with an empty title
    for stream in ("development", "support"):
        rows = list(csv.DictReader(io.StringIO((out / f"streams/{stream}/data/items.csv").read_text(encoding="utf-8"))))
        assert len(rows) > 1000
        assert {r["title"] for r in rows} == {""}


def test_without_privacy_the_secrets_are_published(example_site: Path, secrets: Secrets) -> None:
    """So the checks below can fail: titles and tracker links do show up in an ordinary build."""
    found = leaks(example_site, secrets)
    assert len(found["title"]) > 1000
    assert any(line.startswith("streams/development/items/index.html:") for line in found["title"])
    assert any(line.startswith("streams/development/data/items.csv:") for line in found["title"])
    assert any(line.startswith("streams/development/trends/index.html:") for line in found["title"])  # hover texts
    assert any(line.startswith("streams/development/items/index.html: https://") for line in found["url"])
    # No page shows actors today, so there is nothing to find; the scan itself is checked below.
    assert found["actor"] == []


def test_the_scan_finds_a_planted_actor_title_and_url(tmp_path: Path, secrets: Secrets) -> None:
    actor, title, url = sorted(secrets.actors)[0], sorted(secrets.titles)[0], sorted(secrets.urls)[0]
    (tmp_path / "index.html").write_text(f"<p>moved by {actor}</p><p>{html.escape(title)}</p>", encoding="utf-8")
    (tmp_path / "spec.json").write_text(f'{{"text": "{html.escape(url)}"}}', encoding="utf-8")
    found = leaks(tmp_path, secrets)
    assert found["actor"] == [f"index.html: {actor}"]
    assert f"index.html: {title}" in found["title"]
    assert f"spec.json: {url}" in found["url"]


def test_private_flag_hides_titles_links_and_actors(tmp_path: Path, secrets: Secrets, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "private"
    assert main(["build", "--project", str(EXAMPLES), "--out", str(out), "--private", "--quiet", "--no-cache"]) == 0
    capsys.readouterr()
    assert_private(out, secrets)


def test_privacy_setting_in_vsm_yaml_hides_them_too(tmp_path: Path, secrets: Secrets) -> None:
    project = copy_examples(tmp_path / "project")
    (project / "vsm.yaml").write_text("privacy: true\n", encoding="utf-8")
    out = tmp_path / "site"
    build_site(project, out)
    assert_private(out, secrets)
