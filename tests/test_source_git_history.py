"""`git-history`: commits -> changes, release tags -> deployments, each commit's first release.

The hand-made repository (built in tmp_path with fixed dates and offsets):

    c1 ── c2 ── c3 ──────── c4 ── m1 ── c5 ── c6 ── c7        (main)
                  └── f1 ─────────┘                            (feature, merged by m1)

    commit  author (local)              committer (local)           UTC committer
    c1      2024-01-01T10:00+02:00      same                        01-01 08:00
    c2      2024-01-02T09:00-05:00      2024-01-03T12:00+00:00      01-03 12:00 (rebased)
    c3      2024-01-05T13:00+01:00      same                        01-05 12:00
    f1      2024-01-06T12:00Z           same                        01-06 12:00
    c4      2024-01-07T12:00Z           same                        01-07 12:00
    m1      2024-01-08T12:00Z           same (merge)                01-08 12:00
    c5      2024-01-11T12:00Z           same                        01-11 12:00
    c6      2024-01-12T12:00Z           same                        01-12 12:00
    c7      2024-01-20T12:00Z           same (after the last release)

    tags: v1.0 lightweight on c2 -> released at c2's committer date 01-03 12:00
          v1.1 annotated on m1, tagger 2024-01-10T12:00+01:00 -> 01-10 11:00
          nightly lightweight on c4 (not a release), v1.2rc1 on c5 (pre-release)
          v1.2 annotated on c6, tagger 2024-01-15T00:00Z

    first release and lead time (committer date, days):
      c1 v1.0 2d4h = 2.16667   c2 v1.0 0        c3 v1.1 4d23h = 4.95833
      f1 v1.1 3.95833          c4 v1.1 2.95833  m1 v1.1 1.95833 (merge: only with include_merges)
      c5 v1.2 3.5              c6 v1.2 2.5      c7 none (W234)
    with time: author, c2 = 01-03 12:00 - 01-02 14:00 = 22 h = 0.91667; c1 is unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from generator.metrics.dora import dora_period
from generator.sources import KINDS
from generator.sources import git_history as gh
from generator.sources.base import ReadContext

DATA = Path(__file__).resolve().parent / "data"
REAL = DATA / "real" / "git-history"
DAY = 86_400 * 10**9
GIT_ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("GIT_")}, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}


def ns(text: str) -> int:
    return int(pd.Timestamp(text).tz_convert("UTC").value)


def git(repo: Path, *args: str, author: str | None = None, committer: str | None = None) -> str:
    env = dict(GIT_ENV, GIT_AUTHOR_NAME="A", GIT_AUTHOR_EMAIL="a@example.org", GIT_COMMITTER_NAME="C", GIT_COMMITTER_EMAIL="c@example.org")
    if author:
        env["GIT_AUTHOR_DATE"] = author
    if committer or author:
        env["GIT_COMMITTER_DATE"] = committer or author or ""
    out = subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def commit(repo: Path, name: str, author: str, committer: str | None = None) -> str:
    git(repo, "commit", "-q", "--allow-empty", "-m", name, author=author, committer=committer)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    project = tmp_path_factory.mktemp("project")
    path = project / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    s: dict[str, str] = {}
    s["c1"] = commit(path, "c1", "2024-01-01T10:00:00+02:00")
    s["c2"] = commit(path, "c2", "2024-01-02T09:00:00-05:00", "2024-01-03T12:00:00+00:00")
    git(path, "tag", "v1.0")
    s["c3"] = commit(path, "c3", "2024-01-05T13:00:00+01:00")
    git(path, "checkout", "-q", "-b", "feature")
    s["f1"] = commit(path, "f1", "2024-01-06T12:00:00Z")
    git(path, "checkout", "-q", "main")
    s["c4"] = commit(path, "c4", "2024-01-07T12:00:00Z")
    git(path, "tag", "nightly")
    git(path, "merge", "-q", "--no-ff", "-m", "m1", "feature", author="2024-01-08T12:00:00Z")
    s["m1"] = git(path, "rev-parse", "HEAD")
    git(path, "tag", "-a", "v1.1", "-m", "release 1.1", author="2024-01-10T12:00:00+01:00")
    s["c5"] = commit(path, "c5", "2024-01-11T12:00:00Z")
    git(path, "tag", "v1.2rc1")
    s["c6"] = commit(path, "c6", "2024-01-12T12:00:00Z")
    git(path, "tag", "-a", "v1.2", "-m", "release 1.2", author="2024-01-15T00:00:00Z")
    s["c7"] = commit(path, "c7", "2024-01-20T12:00:00Z")
    return path, s


def read(project: Path, **options: object) -> gh.SourceData:
    opts = gh.Options.model_validate({"kind": "git-history", "path": "repo", **options})
    return gh.read(opts, ReadContext(project, project, "UTC", 0))


def lead_days(data: gh.SourceData) -> dict[str, float]:
    """sha -> (release instant - change time) in days, for released changes."""
    frame = data.changes[data.changes["change"]].merge(data.deployments[["deploy_id", "ts"]].rename(columns={"ts": "released"}), on="deploy_id")
    return {row.sha: (row.released - row.ts) / DAY for row in frame.itertuples()}


def test_kind_is_registered() -> None:
    assert KINDS["git-history"] is gh


def test_releases_are_matching_tags_timed_by_tagger_or_commit(repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    data = read(path.parent)
    deps = data.deployments.sort_values("ts")
    assert deps["deploy_id"].tolist() == ["v1.0", "v1.1", "v1.2"]
    assert deps["ts"].tolist() == [ns("2024-01-03T12:00:00Z"), ns("2024-01-10T11:00:00Z"), ns("2024-01-15T00:00:00Z")]
    assert deps["sha"].tolist() == [s["c2"], s["m1"], s["c6"]]
    assert set(deps["environment"]) == {"production"} and set(deps["status"]) == {"success"} and deps["production"].all()
    w231 = [p for p in data.problems if p.code == "W231"]
    assert len(w231) == 1 and w231[0].count == 2 and "nightly" in w231[0].message and "v1.2rc1" in w231[0].message
    assert data.skipped["tags not matching release_pattern"] == 2


def test_first_release_and_lead_times_by_hand(repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    data = read(path.parent)
    ch = data.changes.set_index("sha")
    assert ch.loc[s["m1"], "is_merge"] and not ch.loc[s["m1"], "change"]
    assert ch["change"].sum() == 8
    assert {k: ch.loc[s[k], "deploy_id"] for k in ("c1", "c2", "c3", "f1", "c4", "m1", "c5", "c6")} == {
        "c1": "v1.0", "c2": "v1.0", "c3": "v1.1", "f1": "v1.1", "c4": "v1.1", "m1": "v1.1", "c5": "v1.2", "c6": "v1.2"}
    assert pd.isna(ch.loc[s["c7"], "deploy_id"])
    assert ch.loc[s["c2"], "author_ts"] == ns("2024-01-02T14:00:00Z") and ch.loc[s["c2"], "ts"] == ns("2024-01-03T12:00:00Z")
    lead = lead_days(data)
    expected = {"c1": 2 + 4 / 24, "c2": 0.0, "c3": 4 + 23 / 24, "f1": 3 + 23 / 24, "c4": 2 + 23 / 24, "c5": 3.5, "c6": 2.5}
    assert {k: round(lead[s[k]], 6) for k in expected} == {k: round(v, 6) for k, v in expected.items()}
    w234 = [p for p in data.problems if p.code == "W234"]
    assert len(w234) == 1 and w234[0].count == 1 and "1 newer than the last release" in w234[0].message
    assert data.notes["git_history"]["unreleased_after_last_release"] == 1


def test_merges_and_author_time_options(repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    with_merges = lead_days(read(path.parent, include_merges=True))
    assert round(with_merges[s["m1"]], 6) == round(1 + 23 / 24, 6)
    by_author = lead_days(read(path.parent, time="author"))
    assert round(by_author[s["c2"]], 6) == round(22 / 24, 6)
    assert round(by_author[s["c1"]], 6) == round(2 + 4 / 24, 6)


def test_dora_lead_time_on_the_hand_made_repository(repo: tuple[Path, dict[str, str]]) -> None:
    path, _ = repo
    data = read(path.parent)
    result = dora_period(data.deployments, data.changes, None, ns("2024-01-01T00:00:00Z"), ns("2024-01-29T00:00:00Z"))
    leads = sorted([2 + 4 / 24, 0.0, 4 + 23 / 24, 3 + 23 / 24, 2 + 23 / 24, 3.5, 2.5])
    assert result["lead_time"]["count"] == 7
    assert result["lead_time"]["p50_days"] == pytest.approx(float(np.quantile(leads, 0.5)))
    assert result["lead_time"]["not_deployed"] == 1
    assert result["deployment_frequency"]["deployments"] == 3
    assert result["deployment_frequency"]["per_week"] == pytest.approx(3 / 4)


def test_custom_release_pattern_makes_prerelease_a_release(repo: tuple[Path, dict[str, str]]) -> None:
    path, s = repo
    data = read(path.parent, release_pattern=r"^v\d+(\.\d+)*(rc\d+)?$")
    assert set(data.deployments["deploy_id"]) == {"v1.0", "v1.1", "v1.2rc1", "v1.2"}
    assert data.changes.set_index("sha").loc[s["c5"], "deploy_id"] == "v1.2rc1"


def test_bad_release_pattern_is_a_validation_error() -> None:
    with pytest.raises(ValueError, match="regular expression"):
        gh.Options.model_validate({"kind": "git-history", "path": "repo", "release_pattern": "v(1"})


def test_repository_is_not_modified(repo: tuple[Path, dict[str, str]]) -> None:
    path, _ = repo

    def snapshot() -> dict[str, str]:
        return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((path / ".git").rglob("*")) if p.is_file()}

    before = snapshot()
    read(path.parent)
    assert snapshot() == before


def test_git_and_csv_forms_give_the_same_frames(repo: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    path, _ = repo
    log = git(path, "log", "--branches", "--tags", "HEAD", "--format=%H%x09%P%x09%aI%x09%cI%x09%at%x09%ct")
    export = path.parent / "export"
    export.mkdir(exist_ok=True)
    with (export / "commits.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sha", "parent_shas", "is_merge", "author_date", "committer_date", "author_epoch", "committer_epoch"])
        for line in log.splitlines():
            sha, parents, ad, cd, at, ct = line.split("\t")
            w.writerow([sha, parents, int(" " in parents), ad, cd, at, ct])
    refs = git(path, "for-each-ref", "refs/tags", "--format=%(refname:strip=2)%09%(objecttype)%09%(taggerdate:iso-strict)%09%(*objectname)%09%(objectname)")
    with (export / "tags.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["tag", "tag_object_type", "tagger_date", "commit_sha"])
        for line in refs.splitlines():
            tag, kind, tagger, peeled, obj = line.split("\t")
            w.writerow([tag, kind, tagger, peeled or obj])
    from_git = read(path.parent)
    from_csv = gh.read(gh.Options(kind="git-history", path="export", format="csv"), ReadContext(path.parent, path.parent, "UTC", 0))
    columns = ["sha", "ts", "is_merge", "change", "author_ts", "committer_ts", "deploy_id"]
    a = from_git.changes[columns].sort_values("sha").reset_index(drop=True)
    b = from_csv.changes[columns].sort_values("sha").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(from_git.deployments[["deploy_id", "ts", "sha"]].reset_index(drop=True), from_csv.deployments[["deploy_id", "ts", "sha"]].reset_index(drop=True))
    assert from_csv.changes["line"].min() == 2


def test_invalid_offset_is_repaired_from_the_epoch(tmp_path: Path) -> None:
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    parent = commit(path, "c1", "2011-09-01T00:00:00+00:00")
    tree = git(path, "rev-parse", "HEAD^{tree}")
    body = f"tree {tree}\nparent {parent}\nauthor A <a@x> 1313584730 +051800\ncommitter A <a@x> 1313584730 +051800\n\nbad zone\n"
    (tmp_path / "obj").write_text(body)
    bad = git(path, "hash-object", "-t", "commit", "-w", "--literally", str(tmp_path / "obj"))
    git(path, "update-ref", "refs/heads/main", bad)
    git(path, "tag", "v1")
    data = read(tmp_path)
    w230 = [p for p in data.problems if p.code == "W230"]
    assert len(w230) == 1 and bad[:12] in w230[0].message and w230[0].location.path == "repo"
    row = data.changes.set_index("sha").loc[bad]
    assert row["ts"] == 1313584730 * 10**9 and row["deploy_id"] == "v1"


def test_missing_folder_and_not_a_repository(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")  # the project itself is a repository: it must not be picked up
    (tmp_path / "plain").mkdir()
    ctx = ReadContext(tmp_path, tmp_path, "UTC", 0)
    missing = gh.read(gh.Options(kind="git-history", path="nope"), ctx)
    assert [p.code for p in missing.problems] == ["E122"]
    plain = gh.read(gh.Options(kind="git-history", path="plain"), ctx)
    assert [p.code for p in plain.problems] == ["E200"] and "not a git repository" in plain.problems[0].message
    assert plain.changes is None


def test_empty_repository(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    git(tmp_path / "repo", "init", "-q")
    data = read(tmp_path)
    assert data.problems == [] and len(data.changes) == 0 and len(data.deployments) == 0


def test_first_release_graph_walk() -> None:
    """Diamond: a <- b, a <- c, (b, c) <- d; release ranks: d=1, b=0 -> a=0, b=0, c=1, d=1."""
    sha = np.array(["d", "c", "b", "a"], dtype=object)
    parents = np.array(["b c", "a", "a", ""], dtype=object)
    label = np.array([1, 9, 0, 9])
    assert gh.first_release(sha, parents, label).tolist() == [1, 1, 0, 0]


# --- the real exports (tests/data/real/git-history, see its SOURCE.md) ---


def read_export(repo: str, **options: object) -> gh.SourceData:
    opts = gh.Options.model_validate({"kind": "git-history", "path": repo, "format": "csv", **options})
    return gh.read(opts, ReadContext(REAL, REAL, "UTC", 0))


def exported(repo: str, name: str) -> pd.DataFrame:
    return pd.read_csv(REAL / repo / name, dtype=str, keep_default_na=False)


@pytest.mark.parametrize(("repo", "commits", "merges", "tags", "attributed", "p50", "p85"), [
    ("pallets-flask", 5572, 1729, 69, 5502, 100, 431),
    ("psf-requests", 6729, 1679, 162, 6470, 15, 91),
])
def test_real_export_matches_its_source_md(repo: str, commits: int, merges: int, tags: int, attributed: int, p50: int, p85: int) -> None:
    # every tag a release and merges counted: the export's own attribution (release_commits.csv, made by git)
    data = read_export(repo, release_pattern=".*", include_merges=True)
    notes = data.notes["git_history"]
    assert (notes["commits"], notes["merges"]) == (commits, merges)
    assert len(data.deployments) + data.skipped["release tags on an already released commit"] == tags
    released = data.changes.dropna(subset=["deploy_id"])
    assert len(released) == attributed
    expected = exported(repo, "release_commits.csv")
    assert dict(zip(released["sha"], released["deploy_id"], strict=True)) == dict(zip(expected["commit_sha"], expected["tag"], strict=True))
    lead = np.array(list(lead_days(data).values()))
    assert round(float(np.quantile(lead, 0.5))) == p50
    assert round(float(np.quantile(lead, 0.85))) == p85


@pytest.mark.parametrize("repo", ["pallets-flask", "psf-requests"])
def test_real_export_default_pattern(repo: str) -> None:
    tags = exported(repo, "tags.csv")
    pattern = re.compile(gh.DEFAULT_RELEASE_PATTERN)
    not_releases = [t for t in tags["tag"] if not pattern.search(t)]
    data = read_export(repo)
    w231 = [p for p in data.problems if p.code == "W231"]
    assert len(w231) == 1 and w231[0].count == len(not_releases)
    assert data.skipped["tags not matching release_pattern"] == len(not_releases)
    releases = tags[tags["tag"].map(lambda t: bool(pattern.search(t)))]
    assert len(data.deployments) == releases["commit_sha"].nunique()
    assert not data.changes.loc[data.changes["change"], "is_merge"].any()
    commits = exported(repo, "commits.csv")
    assert data.changes["change"].sum() == (commits["is_merge"] == "0").sum()


def test_flask_branch_tags_and_prereleases_are_not_releases() -> None:
    data = read_export("pallets-flask")
    ids = set(data.deployments["deploy_id"])
    assert not ids & {"2.0.0rc1", "2.0.0rc2", "0.12.x", "1.0.x", "1.1.x", "2.0.x", "2.1.x", "2.2.x", "2.3.x"}
    assert {"0.1", "3.1.3"} <= ids


def test_requests_invalid_offset_commit() -> None:
    data = read_export("psf-requests")
    w230 = [p for p in data.problems if p.code == "W230"]
    assert len(w230) == 1
    assert w230[0].location.path == "psf-requests/commits.csv" and w230[0].location.line == 6175
    assert "5e6ecdad9f69" in w230[0].message
    row = data.changes.set_index("sha").loc["5e6ecdad9f69b1ff789a17733b8edc6fd7091bd8"]
    assert row["ts"] == 1313584730 * 10**9 and row["author_ts"] == 1313584730 * 10**9
    assert "v2.34.0.dev1" not in set(data.deployments["deploy_id"])
    assert data.notes["git_history"]["unreleased_after_last_release"] > 0


def test_real_export_reads_fast() -> None:
    started = time.perf_counter()
    read_export("psf-requests")
    assert time.perf_counter() - started < 3.0  # ~0.1 s measured


@pytest.mark.slow
def test_synthetic_7000_commits_100_tags_matches_git_rev_list(tmp_path: Path) -> None:
    """A fast-import repository of 7,000 commits and 100 release tags: attribution equals
    `git rev-list TAG` in release order minus what earlier tags shipped; reading is fast."""
    import random

    rng = random.Random(7)
    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", "-b", "main", str(repo))
    stream, mark, main, t = [], 0, 0, 1_600_000_000
    while mark < 7000:
        base, feat = main, main
        for _ in range(rng.randint(1, 4)):
            mark += 1
            t += rng.randint(60, 20_000)
            stream.append(f"commit refs/heads/feature\nmark :{mark}\nauthor A <a@x> {t - 300} +0200\ncommitter C <c@x> {t} +0100\ndata 1\nc\n"
                          + (f"from :{feat}\n" if feat else "") + "\n")
            feat = mark
        if not base:
            main = feat
            continue
        mark += 1
        t += 100
        stream.append(f"commit refs/heads/main\nmark :{mark}\nauthor A <a@x> {t} +0000\ncommitter C <c@x> {t} +0000\ndata 1\nm\nfrom :{main}\nmerge :{feat}\n\n")
        main = mark
    for j, m in enumerate(sorted(rng.sample(range(2, mark), 100))):
        if j % 2:
            stream.append(f"tag v1.{j}.0\nfrom :{m}\ntagger T <t@x> {1_600_000_000 + m * 2_000} +0000\ndata 2\nt\n\n")
        else:
            stream.append(f"reset refs/tags/v1.{j}.0\nfrom :{m}\n\n")
    stream.append(f"reset refs/heads/main\nfrom :{main}\n\n")
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input="".join(stream).encode(), check=True, env=GIT_ENV)
    git(repo, "branch", "-D", "feature")
    started = time.perf_counter()
    data = read(tmp_path, include_merges=True)
    elapsed = time.perf_counter() - started
    assert data.notes["git_history"]["commits"] == 7000 and len(data.deployments) == 100
    expected: dict[str, str] = {}
    for tag in data.deployments.sort_values(["ts", "deploy_id"])["deploy_id"]:
        for sha in git(repo, "rev-list", tag).split():
            expected.setdefault(sha, tag)
    released = data.changes.dropna(subset=["deploy_id"])
    assert dict(zip(released["sha"], released["deploy_id"], strict=True)) == expected
    assert elapsed < 5.0  # ~0.25 s measured (git log + for-each-ref ~0.12 s, graph walk ~0.02 s)


def test_a_commit_listed_twice_in_a_csv_export_is_skipped_not_a_crash(tmp_path: Path) -> None:
    # before: pandas' InvalidIndexError ("Reindexing only valid with uniquely valued Index objects")
    # ended the build. Lines: header 1, c1 on 2, c2 on 3, c1 again on 4, a row without a sha on 5.
    export = tmp_path / "export"
    export.mkdir()
    c1, c2 = "1" * 40, "2" * 40
    (export / "commits.csv").write_text(
        "sha,parent_shas,is_merge,author_date,committer_date\n"
        f"{c2},{c1},0,2026-01-02T10:00:00Z,2026-01-02T10:00:00Z\n"
        f"{c1},,0,2026-01-01T10:00:00Z,2026-01-01T10:00:00Z\n"
        f"{c2},{c1},0,2026-01-02T11:00:00Z,2026-01-02T11:00:00Z\n"
        ",,0,2026-01-03T10:00:00Z,2026-01-03T10:00:00Z\n"
    )
    (export / "tags.csv").write_text(f"tag,commit_sha,tagger_date\nv1,{c2},2026-01-05T10:00:00Z\n")
    data = gh.read(
        gh.Options(kind="git-history", path="export", format="csv"),
        ReadContext(tmp_path, tmp_path, "UTC", 0),
    )
    w235 = [(p.location.path, p.location.line, p.message) for p in data.problems if p.code == "W235"]
    assert w235 == [
        ("export/commits.csv", 4, f"commit {c2} is listed again; this row is skipped"),
        ("export/commits.csv", 5, "commit without a sha; row skipped"),
    ]
    assert sorted(data.changes["sha"]) == [c1, c2]
    # the first row of c2 is used: committed 2026-01-02T10:00Z
    row = data.changes.set_index("sha").loc[c2]
    assert row["deploy_id"] == "v1" and row["line"] == 2
