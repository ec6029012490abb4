"""`git-history`: commits as changes and release tags as production deployments.

`path` is a git repository inside the project (`format: git`, the default), read with
`git log` and `git for-each-ref` in a fixed environment (LC_ALL=C, no pager, no optional
locks, no discovery above `path`); the repository is never modified. With `format: csv`,
`path` is a folder holding the exported `commits.csv` and `tags.csv` (columns as in
tests/data/real/git-history/SOURCE.md; `commits`/`tags` name other files); `release_commits.csv`
is not needed: attribution is recomputed with the same code, so `release_pattern` applies.

Rules:
  * commits = history reachable from HEAD, local and remote branches and tags (not stash,
    notes or other refs); instants from the epoch seconds (`%at`/`%ct`, `*_epoch`), so an invalid
    UTC offset (git accepts e.g. `+051800`) cannot break it: W230, the offset is dropped;
  * a release is a tag whose name matches `release_pattern` (re.search; default semver-ish,
    pre-releases such as `2.0.0rc1`, `v2.34.0.dev1`, `1.0b2` and branch tags `2.0.x` excluded);
    other tags are counted once (W231 with a count, and in skipped); a second release tag on an
    already released commit (`2.0`, `v2.0`, `v2.0.0`) is not another deployment (skipped);
  * release time = tagger date of an annotated tag, else the tagged commit's committer date;
    releases are ordered by (release time, tag name);
  * each commit's release = the first release whose history contains it: the minimum release
    rank over the commit and its descendants, one pass over the graph in topological order
    (children before parents; O(commits + parent links));
  * changes = non-merge commits (`include_merges: true` counts merges too); a change's time is
    the committer date (`time: author` uses the author date); changes in no release are W234
    (one warning with the count; notes `git_history.unreleased`).

Change frame (extends CHANGE_COLUMNS of base.py), one row per commit (merges included):
  sha string; ts int64 UTC ns (per `time`); is_merge bool; change bool (counts as a DORA
  change); author_ts int64 ns; committer_ts int64 ns; deploy_id string|<NA> (the tag of the
  first release containing it = a deploy_id of this source's deployments); file string; line int64
Deployment frame: as in deployments_csv.py, one row per release (environment `production`,
status `success`, sha = tagged commit, deploy_id = tag name).
Codes: E122 missing, E200 not a git repository / unreadable, E201 missing column,
W230 invalid UTC offset, W231 tags not matching the release pattern, W234 unreleased changes.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import field_validator

from generator.errors import Location, Problem
from generator.load.timestamps import END_NS, FIRST_NS, NAT, parse_instants
from generator.sources.base import ReadContext, SourceData, SourceOptions
from generator.sources.csv_common import open_csv
from generator.sources.deployments_csv import SUCCESS, deployment_frame
from generator.sources.rows import bad_row_problems, require_columns, row_problems, text_column

DEFAULT_RELEASE_PATTERN = r"^v?\d+(\.\d+)*$"
_VALID_OFFSET = r"^[+-](?:0\d|1[0-4])[0-5]\d$"
_VALID_ISO_OFFSET = r"(?:[Zz]|[+-](?:0\d|1[0-4]):?[0-5]\d)$"
NS = 1_000_000_000
CHANGE_DTYPES = {
    "sha": "string",
    "ts": "int64",
    "is_merge": "bool",
    "change": "bool",
    "author_ts": "int64",
    "committer_ts": "int64",
    "deploy_id": "string",
    "file": "string",
    "line": "int64",
}


class Options(SourceOptions):
    kind: Literal["git-history"]
    format: Literal["git", "csv"] = "git"
    release_pattern: str = DEFAULT_RELEASE_PATTERN
    include_merges: bool = False
    time: Literal["committer", "author"] = "committer"
    commits: str | None = None  # format csv: default <path>/commits.csv
    tags: str | None = None  # format csv: default <path>/tags.csv
    path_fields = ("path", "commits", "tags")

    @field_validator("release_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value


@dataclass
class History:
    """Commits and tags as read, before any rule is applied (one array entry per commit / tag)."""

    sha: np.ndarray  # object
    parents: np.ndarray  # object: space-separated parent shas
    author_ns: np.ndarray  # int64, NAT when unknown
    committer_ns: np.ndarray  # int64, NAT when unknown
    line: np.ndarray  # int64 (0 for git)
    file: str
    tag: np.ndarray  # object
    tag_sha: np.ndarray  # object: the commit a tag points to ('' when not a commit)
    tagger_ns: np.ndarray  # int64, NAT for lightweight tags
    tag_line: np.ndarray  # int64
    tag_file: str


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        LC_ALL="C",
        LANG="C",
        GIT_PAGER="cat",
        PAGER="cat",
        GIT_TERMINAL_PROMPT="0",
        GIT_OPTIONAL_LOCKS="0",
    )
    return env


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    env = _git_env()
    env["GIT_CEILING_DIRECTORIES"] = str(
        repo.resolve().parent
    )  # never use a repository above `path`
    cmd = [
        "git",
        "--no-pager",
        "-c",
        "core.quotepath=off",
        "-c",
        "log.showSignature=false",
        "-C",
        str(repo),
        *args,
    ]
    return subprocess.run(cmd, env=env, capture_output=True, timeout=600, check=False)


def _lines(out: bytes) -> list[list[str]]:
    return [row.split("\t") for row in out.decode("utf-8", errors="replace").splitlines() if row]


def read_git(
    repo: Path, file: str, notes: dict[str, object]
) -> tuple[History | None, list[Problem]]:
    """Run git (read-only) and collect commits and tags."""
    try:
        shallow = _git(repo, "rev-parse", "--is-shallow-repository")
    except FileNotFoundError:
        return None, [
            Problem(
                "E200",
                "error",
                Location(file),
                "git is not installed",
                "install git, or export the history as CSV (format: csv)",
            )
        ]
    if shallow.returncode != 0:
        reason = shallow.stderr.decode("utf-8", errors="replace").strip().splitlines()[:1]
        return None, [
            Problem(
                "E200",
                "error",
                Location(file),
                f"not a git repository ({reason[0] if reason else 'git failed'})",
                "point `path` at the folder that holds the repository's .git",
            )
        ]
    notes["shallow"] = shallow.stdout.strip() == b"true"
    head = _git(repo, "rev-parse", "-q", "--verify", "HEAD^{commit}").returncode == 0
    log = _git(
        repo,
        "log",
        "--branches",
        "--tags",
        "--remotes",
        *(["HEAD"] if head else []),
        "--no-color",
        "--date=raw",
        "--format=%H%x09%P%x09%at%x09%ct%x09%ad%x09%cd",
    )
    refs = _git(
        repo,
        "for-each-ref",
        "refs/tags",
        "--format=%(refname:strip=2)%09%(objecttype)%09%(objectname)%09%(*objecttype)%09%(*objectname)%09%(taggerdate:raw)",
    )
    for result in (log, refs):
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", errors="replace").strip()[:200]
            return None, [
                Problem(
                    "E200",
                    "error",
                    Location(file),
                    f"git failed: {message}",
                    "check that the repository is not damaged",
                )
            ]
    commits = pd.DataFrame(
        _lines(log.stdout), columns=["sha", "parents", "at", "ct", "ad", "cd"], dtype=object
    )
    tags = pd.DataFrame(
        _lines(refs.stdout),
        columns=["tag", "type", "object", "peeled_type", "peeled", "tagger"],
        dtype=object,
    )
    problems = _offset_problems(
        commits["ad"].str.split(" ").str[-1],
        commits["cd"].str.split(" ").str[-1],
        commits["sha"],
        file,
        None,
    )
    nested = tags["peeled_type"].eq("tag")
    for i in np.flatnonzero(nested.to_numpy()):  # a tag of a tag: peel fully (rare)
        peeled = _git(repo, "rev-parse", "-q", "--verify", str(tags.at[i, "object"]) + "^{commit}")
        tags.at[i, "peeled"], tags.at[i, "peeled_type"] = (
            (peeled.stdout.decode().strip(), "commit") if peeled.returncode == 0 else ("", "")
        )
    is_commit = tags["type"].eq("commit")
    tag_sha = np.where(
        is_commit, tags["object"], np.where(tags["peeled_type"].eq("commit"), tags["peeled"], "")
    )
    tagger_epoch = pd.to_numeric(tags["tagger"].str.split(" ").str[0], errors="coerce")
    n = len(commits)
    history = History(
        commits["sha"].to_numpy(dtype=object),
        commits["parents"].to_numpy(dtype=object),
        commits["at"].astype(np.int64).to_numpy() * NS,
        commits["ct"].astype(np.int64).to_numpy() * NS,
        np.zeros(n, dtype=np.int64),
        file,
        tags["tag"].to_numpy(dtype=object),
        np.asarray(tag_sha, dtype=object),
        np.where(tagger_epoch.notna(), tagger_epoch.fillna(0).astype(np.int64) * NS, NAT).astype(
            np.int64
        ),
        np.zeros(len(tags), dtype=np.int64),
        file,
    )
    return history, problems


def _offset_problems(
    author: pd.Series,
    committer: pd.Series,
    sha: pd.Series,
    file: str,
    lines: np.ndarray | None,
    pattern: str = _VALID_OFFSET,
) -> list[Problem]:
    bad = ~(
        author.fillna("").str.contains(pattern) & committer.fillna("").str.contains(pattern)
    ).to_numpy(dtype=bool)
    shas = sha.to_numpy(dtype=object)
    out = row_problems(
        "W230",
        file,
        bad,
        lines if lines is not None else np.zeros(len(bad), dtype=np.int64),
        lambda i: (
            f"commit {shas[i][:12]} has an invalid UTC offset (author '{author.iat[i]}', committer '{committer.iat[i]}'); its instant is taken from the epoch seconds"
        ),
        "nothing to do: the instant is exact; only the local time of day is unknown",
    )
    return out if lines is not None else [replace(p, location=Location(file)) for p in out]


def read_csv_export(
    commits_path: Path, tags_path: Path, ctx: ReadContext
) -> tuple[History | None, list[Problem]]:
    """Read commits.csv and tags.csv of an export (see tests/data/real/git-history/SOURCE.md)."""
    problems: list[Problem] = []
    tables = {}
    for name, path, required, optional in (
        (
            "commits",
            commits_path,
            ("sha", "parent_shas"),
            ("author_epoch", "committer_epoch", "author_date", "committer_date"),
        ),
        ("tags", tags_path, ("tag", "commit_sha"), ("tag_object_type", "tagger_date")),
    ):
        table, found = open_csv(path, ctx)
        problems += found
        if table is None:
            continue
        cols, found = require_columns(table, ctx.rel(path), required, optional)
        problems += found + bad_row_problems(table, ctx.rel(path))
        tables[name] = (
            table,
            {k: text_column(table, v).to_numpy(zero_copy_only=False) for k, v in cols.items()},
        )
    if any(p.severity == "error" for p in problems):
        return None, problems
    (ctab, c), (ttab, t) = tables["commits"], tables["tags"]
    cfile, tfile = ctx.rel(commits_path), ctx.rel(tags_path)
    clines = ctab.lines
    shas = pd.Series(c["sha"], dtype=object).fillna("")
    no_sha = (shas == "").to_numpy()
    again = (shas.duplicated() & ~no_sha).to_numpy()
    if no_sha.any() or again.any():
        problems += row_problems(
            "W235",
            cfile,
            no_sha | again,
            clines,
            lambda i: (
                "commit without a sha; row skipped"
                if no_sha[i]
                else f"commit {shas.iloc[i]} is listed again; this row is skipped"
            ),
            "export the history once, one row per commit",
        )
        keep = ~(no_sha | again)
        c = {k: v[keep] for k, v in c.items()}
        clines = clines[keep]
    times = {}
    for who in ("author", "committer"):
        if f"{who}_epoch" in c:
            epoch = pd.to_numeric(pd.Series(c[f"{who}_epoch"]), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan
            )
            # an epoch that is not a number, infinite ("1e309") or outside the years the tool
            # reads is missing (the commit then has no time: W202 from the date column or W230)
            ok = np.isfinite(epoch) & (epoch >= FIRST_NS // NS) & (epoch < END_NS // NS)
            times[who] = np.where(ok, np.where(ok, epoch, 0).astype(np.int64) * NS, NAT)
        elif f"{who}_date" in c:
            times[who] = parse_instants(pd.Series(c[f"{who}_date"]), ctx.timezone).ns
        else:
            return None, [
                *problems,
                Problem(
                    "E201",
                    "error",
                    Location(cfile, 1),
                    f"required column '{who}_epoch' (or '{who}_date') is missing",
                    f"add a '{who}_epoch' column",
                ),
            ]
    if "author_date" in c and "committer_date" in c:
        problems += _offset_problems(
            pd.Series(c["author_date"]),
            pd.Series(c["committer_date"]),
            pd.Series(c["sha"]),
            cfile,
            clines,
            _VALID_ISO_OFFSET,
        )
    tagger = parse_instants(
        pd.Series(t.get("tagger_date", np.full(ttab.num_rows, "", dtype=object))), ctx.timezone
    )
    problems += row_problems(
        "W202",
        tfile,
        tagger.invalid,
        ttab.lines,
        lambda i: "tagger_date is not an ISO 8601 instant; the commit date is used",
        "write it like 2024-05-01T12:00:00+02:00",
    )
    return History(
        c["sha"].astype(object),
        c["parent_shas"].astype(object),
        times["author"],
        times["committer"],
        clines,
        cfile,
        t["tag"].astype(object),
        t["commit_sha"].astype(object),
        tagger.ns,
        ttab.lines,
        tfile,
    ), problems


def first_release(sha: np.ndarray, parents: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Per commit: the minimum `label` over the commit and all its descendants.

    `label[i]` is the rank of the first release tagging commit i (a large sentinel when none).
    One pass in topological order (children before parents), O(commits + parent links);
    parent shas that are not in `sha` (shallow or partial history) are ignored.
    """
    n = len(sha)
    split = pd.Series(parents, dtype=object).fillna("").str.split()
    counts = split.map(len).to_numpy(dtype=np.int64)
    flat = np.array(" ".join(split.str.join(" ")).split(), dtype=object)
    child = np.repeat(np.arange(n), counts)
    parent = pd.Index(sha).get_indexer(flat) if len(flat) else np.array([], dtype=np.int64)
    known = parent >= 0
    child, parent = child[known], parent[known]
    indptr = np.concatenate([[0], np.cumsum(np.bincount(child, minlength=n))]).tolist()
    targets = parent.tolist()
    waiting = np.bincount(parent, minlength=n).tolist()  # children not yet processed
    best = label.astype(np.int64).tolist()
    stack = [i for i in range(n) if waiting[i] == 0]
    while stack:  # a graph walk: one visit per commit and per parent link
        c = stack.pop()
        value = best[c]
        for k in range(indptr[c], indptr[c + 1]):
            p = targets[k]
            if value < best[p]:
                best[p] = value
            waiting[p] -= 1
            if waiting[p] == 0:
                stack.append(p)
    return np.asarray(best, dtype=np.int64)


def assemble(history: History, options: Options, data: SourceData) -> None:
    """Apply the release and change rules to a History and fill `data`."""
    n = len(history.sha)
    sha_index = pd.Index(history.sha)
    tags = pd.DataFrame(
        {
            "tag": history.tag,
            "sha": history.tag_sha,
            "tagger": history.tagger_ns,
            "line": history.tag_line,
        }
    )
    tags["pos"] = sha_index.get_indexer(tags["sha"].fillna(""))
    on_commit = tags["pos"].to_numpy() >= 0
    pattern = re.compile(options.release_pattern)
    release = np.array([bool(pattern.search(str(t))) for t in tags["tag"]], dtype=bool) & on_commit
    not_release = on_commit & ~release
    others = tags.loc[not_release, "tag"].tolist()
    if others:
        shown = ", ".join(others[:6]) + (", ..." if len(others) > 6 else "")
        data.problems.append(
            Problem(
                "W231",
                "warning",
                Location(history.tag_file),
                f"{len(others)} tags do not match release_pattern '{options.release_pattern}' and are not releases ({shown})",
                "adjust release_pattern in stream.yaml if some of them are releases",
                count=len(others),
            )
        )
    rel = tags.loc[release].copy()
    commit_time = history.committer_ns[rel["pos"].to_numpy()]
    rel["ts"] = np.where(rel["tagger"].to_numpy() != NAT, rel["tagger"].to_numpy(), commit_time)
    rel = rel.sort_values(["ts", "tag"], kind="stable")
    repeat = rel["pos"].duplicated(keep="first").to_numpy()
    rel = rel.loc[~repeat].reset_index(drop=True)
    data.skipped.update(
        {
            "tags not matching release_pattern": int(not_release.sum()),
            "tags not pointing to a commit of the history": int((~on_commit).sum()),
            "release tags on an already released commit": int(repeat.sum()),
        }
    )
    label = np.full(n, len(rel), dtype=np.int64)
    np.minimum.at(label, rel["pos"].to_numpy(dtype=np.int64), np.arange(len(rel), dtype=np.int64))
    rank = first_release(history.sha, history.parents, label)
    released = rank < len(rel)
    deploy_id = np.full(n, None, dtype=object)
    deploy_id[released] = rel["tag"].to_numpy(dtype=object)[rank[released]]

    is_merge = (
        pd.Series(history.parents, dtype=object)
        .fillna("")
        .str.strip()
        .str.contains(" ", regex=False)
        .to_numpy(dtype=bool)
    )
    ts = history.author_ns if options.time == "author" else history.committer_ns
    timed = (ts != NAT) & (history.committer_ns != NAT) & (history.author_ns != NAT)
    change = (~is_merge | options.include_merges) & timed
    data.skipped["commits without a valid time"] = int((~timed).sum())
    data.changes = pd.DataFrame(
        {
            "sha": history.sha[timed],
            "ts": ts[timed],
            "is_merge": is_merge[timed],
            "change": change[timed],
            "author_ts": history.author_ns[timed],
            "committer_ts": history.committer_ns[timed],
            "deploy_id": pd.Series(deploy_id[timed], dtype="string"),
            "file": history.file,
            "line": history.line[timed],
        }
    ).astype(CHANGE_DTYPES)
    last = int(rel["ts"].max()) if len(rel) else NAT
    unreleased = change & ~released
    newer = unreleased & (history.committer_ns > last)
    if unreleased.any():
        data.problems.append(
            Problem(
                "W234",
                "warning",
                Location(history.file),
                f"{int(unreleased.sum())} of {int(change.sum())} changes are in no release yet ({int(newer.sum())} newer than the last release)",
                "nothing to do if this is work in progress; they count as not yet deployed",
                count=int(unreleased.sum()),
            )
        )
    data.notes["git_history"] = {
        **data.notes.get("git_history", {}),
        "commits": n,
        "merges": int(is_merge.sum()),
        "changes": int(change.sum()),
        "releases": len(rel),
        "released_changes": int((change & released).sum()),
        "unreleased": int(unreleased.sum()),
        "unreleased_after_last_release": int(newer.sum()),
        "time": options.time,
    }
    m = len(rel)
    data.deployments = deployment_frame(
        {
            "deploy_id": rel["tag"].to_numpy(dtype=object),
            "ts": rel["ts"].to_numpy(dtype=np.int64),
            "environment": np.full(m, "production", dtype=object),
            "status": np.full(m, SUCCESS, dtype=object),
            "sha": rel["sha"].to_numpy(dtype=object),
            "production": np.ones(m, dtype=bool),
            "file": np.full(m, history.tag_file, dtype=object),
            "line": rel["line"].to_numpy(dtype=np.int64),
        }
    )


def read(options: Options, ctx: ReadContext) -> SourceData:
    path = ctx.stream_dir / options.path
    file = ctx.rel(path)
    if options.format == "csv":
        commits = ctx.stream_dir / options.commits if options.commits else path / "commits.csv"
        tags = ctx.stream_dir / options.tags if options.tags else path / "tags.csv"
        data = SourceData(inputs=[ctx.rel(commits), ctx.rel(tags)])
        history, problems = read_csv_export(commits, tags, ctx)
    else:
        data = SourceData(inputs=[file])
        if not path.is_dir():
            data.problems.append(
                Problem(
                    "E122",
                    "error",
                    Location(file),
                    "the repository folder does not exist",
                    "check the path; it is relative to the stream's folder",
                )
            )
            return data
        notes: dict[str, object] = {}
        history, problems = read_git(path, file, notes)
        data.notes["git_history"] = notes
    data.problems += problems
    if history is not None:
        assemble(history, options, data)
    return data
