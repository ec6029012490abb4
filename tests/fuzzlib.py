"""Fuzzing the product's inputs: seed files, mutations, and the invariant every run must keep.

Shared by the bounded suite (tests/test_fuzz.py, part of `make test`) and the long run
(`make fuzz MINUTES=n`, scripts/fuzz.py). Nothing here runs at import time except reading
docs/errors.md for the documented codes.

A *target* is one entry point: a source kind's `read(options, ctx)` (every kind of
generator/sources), `load_project` on a stream.yaml or a vsm.yaml, or a report (front matter
and references, validated and rendered against a computed stream). Each has seeds: the real
exports in tests/data/real, the hand-made ones in tests/data/sources and tests/data/foundation,
and the example streams, cut to at most SEED_BYTES at a line end.

The invariant (`check`): the call returns; it raises nothing; nothing is printed by Python's
"Exception ignored" machinery; every problem has a code documented in docs/errors.md, a severity,
a message, and a location in a file the target was given, at a line inside that file; the
peak memory of the process grows by less than MEMORY_MB; the call ends within HANG_SECONDS.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import random
import re
import resource
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "fuzz"
SEED_BYTES = 48 * 1024
HANG_SECONDS = 30
MEMORY_MB = 768
STREAM = "streams/s"

DOCUMENTED = frozenset(re.findall(r"^\| ([EW]\d{3}) \|", (ROOT / "docs" / "errors.md").read_text(encoding="utf-8"), re.M))


# ---------------------------------------------------------------- seeds and targets


def _head(path: Path, limit: int = SEED_BYTES) -> bytes:
    """The start of a file, cut at the last line end before `limit` (whole when smaller)."""
    raw = path.read_bytes()
    if len(raw) <= limit:
        return raw
    cut = raw.rfind(b"\n", 0, limit)
    return raw[: cut + 1] if cut > 0 else raw[:limit]


def _devlake_json(name: str, limit: int = 12) -> bytes:
    """A JSON array of the first `limit` payloads of a DevLake raw table (the `data` column)."""
    import csv

    csv.field_size_limit(2**31 - 1)
    with open(DATA / "real" / "devlake-e2e" / name, encoding="utf-8", newline="") as f:
        rows = [json.loads(r["data"]) for _, r in zip(range(limit), csv.DictReader(f), strict=False)]
    return json.dumps(rows, ensure_ascii=False, indent=1).encode("utf-8")


@dataclass(frozen=True)
class Seed:
    """One input of a target: files by name (relative to the stream folder) and the options."""

    name: str
    files: dict[str, bytes]
    options: dict[str, Any] = field(default_factory=dict)
    mutable: tuple[str, ...] = ()  # files a mutation may change (default: all)

    def targets(self) -> tuple[str, ...]:
        return self.mutable or tuple(self.files)


def _source_seeds() -> dict[str, list[Seed]]:
    ex = ROOT / "streams"
    src = DATA / "sources"
    real = DATA / "real"
    found = DATA / "foundation"
    git = real / "git-history"
    milestones = {"created": "Open", "started": "In Progress", "finished": "Done"}
    return {
        "events-csv": [
            Seed("support", {"events.csv": _head(ex / "support/data/events.csv")}),
            Seed("development", {"events.csv": _head(ex / "development/data/events.csv")}),
            Seed("bad-rows", {"events.csv": _head(found / "events_bad_rows.csv")}),
            Seed("quoted-newline", {"events.csv": _head(found / "events_quoted_newline.csv")}),
            Seed("dst", {"events.csv": _head(found / "events_dst_berlin.csv")}),
        ],
        "items-csv": [
            Seed("support", {"items.csv": _head(ex / "support/data/items.csv")}),
            Seed("attributes", {"items.csv": _head(found / "items_attributes.csv")}),
        ],
        "dates-csv": [
            Seed("milestones", {"dates.csv": _head(src / "dates_milestones.csv")},
                 {"columns": milestones, "type_column": "type", "title_column": "title", "url_column": "url"}),
            Seed("dmy", {"dates.csv": _head(src / "dates_dmy.csv")},
                 {"id_column": "key", "columns": {"opened": "Open", "done": "Done"}, "date_format": "%d.%m.%Y %H:%M"}),
            Seed("agile-project-dataset", {"dates.csv": _head(real / "agile-project-dataset/jira.csv")},
                 {"id_column": "Key", "columns": {"Created": "Open", "Resolved": "Done"}, "date_format": "%Y-%m-%d %H:%M:%S"}),
        ],
        "jira-json": [
            Seed("small", {"issues.json": _head(src / "jira_small.json", 1 << 20)}),
            Seed("drill-1", {"issue.json": (real / "issueshark-fixtures/jira/drill_1_issue.json").read_bytes()}),
            Seed("drill-38", {"issue.json": (real / "issueshark-fixtures/jira/drill_38_issue.json").read_bytes()}),
            Seed("devlake-cloud", {"issues.json": _devlake_json("jira/_raw_jira_api_issues.csv", 6)}),
        ],
        "jira-csv": [
            Seed("ampm", {"jira.csv": _head(src / "jira_export_ampm.csv")}),
            Seed("de", {"jira.csv": _head(src / "jira_export_de.csv")}, {"locale_months": {"Mär": "Mar", "Okt": "Oct", "Dez": "Dec", "Mai": "May"}}),
            Seed("hadoop", {"jira.csv": _head(real / "gitbugs-jira-csv/hadoop_bugs.csv")}),
        ],
        "github-issues": [
            Seed("small", {"issues.json": (src / "github_issues.json").read_bytes(),
                           "events.json": (src / "github_events.json").read_bytes()}, {"events": "events.json"}),
            Seed("issueshark-6131", {"issues.json": b"[" + (real / "issueshark-fixtures/github/issue_6131.json").read_bytes() + b"]",
                                     "events.json": (real / "issueshark-fixtures/github/issue_6131_events.json").read_bytes()},
                 {"events": "events.json"}),
            Seed("devlake", {"issues.json": _devlake_json("github/_raw_github_api_issues.csv", 8)}),
        ],
        "gitlab-issues": [
            Seed("small", {"issues.json": (src / "gitlab_issues.json").read_bytes(),
                           "state.json": (src / "gitlab_state_events.json").read_bytes(),
                           "labels.json": (src / "gitlab_label_events.json").read_bytes()},
                 {"state_events": "state.json", "label_events": "labels.json"}),
            Seed("devlake", {"issues.json": _devlake_json("gitlab/_raw_gitlab_api_issues.csv", 8)}),
        ],
        "azure-devops-updates": [
            Seed("5120", {"ado/workitem_5120_updates.json": (src / "ado/workitem_5120_updates.json").read_bytes(),
                          "ado/workitem_5121_updates.json": (src / "ado/workitem_5121_updates.json").read_bytes()},
                 {"path": "ado"}),
        ],
        "git-history": [
            Seed("flask", {"git/commits.csv": _head(git / "pallets-flask/commits.csv"),
                           "git/tags.csv": _head(git / "pallets-flask/tags.csv")}, {"path": "git", "format": "csv"}),
            Seed("example", {"git/commits.csv": _head(ex / "development/data/delivery/commits.csv"),
                             "git/tags.csv": _head(ex / "development/data/delivery/tags.csv")},
                 {"path": "git", "format": "csv"}),
        ],
        "deployments-csv": [
            Seed("example-5.1", {"deployments.csv": (
                b"deploy_id,timestamp,environment,status,sha,rollback_of,hotfix\n"
                b"r1,2026-03-02T10:00:00Z,production,success,a1,,false\n"
                b"r2,2026-03-03T16:00:00Z,production,failure,,,false\n"
                b"r3,2026-03-03T17:00:00Z,production,success,,r2,false\n"
                b"r4,2026-03-05T09:00:00Z,production,success,,,\n"
                b"r5,2026-03-06T09:00:00+01:00,Production,success,,,true\n"
                b"r6,2026-03-07 09:00,staging,success,,,no\n")}),
        ],
        "incidents-csv": [
            Seed("example", {"incidents.csv": _head(ex / "development/data/delivery/incidents.csv")}),
        ],
        "github-deployments": [
            Seed("devlake-graphql", {"deployments.csv": _head(real / "devlake-e2e/github_graphql/_raw_github_graphql_deployment.csv")},
                 {"environment": "github-pages"}),
        ],
        "gitlab-deployments": [
            Seed("devlake", {"deployments.csv": _head(real / "devlake-e2e/gitlab/_raw_gitlab_api_deployments.csv")}),
        ],
    }


def _yaml_seeds() -> dict[str, list[Seed]]:
    files = [ROOT / "streams/support/stream.yaml", ROOT / "streams/development/stream.yaml",
             DATA / "foundation/stream_full.yaml", DATA / "golden_project/streams/golden/stream.yaml"]
    vsm = (b"title: Value streams\nbase_url: https://example.org/vsm/\nprivacy:\n  hide: [title, url]\n"
           b"noindex: true\n")
    return {
        "stream-yaml": [Seed(p.parent.name, {"stream.yaml": p.read_bytes()}) for p in files],
        "vsm-yaml": [Seed("settings", {"vsm.yaml": vsm})],
    }


def _report_seeds() -> dict[str, list[Seed]]:
    reports = sorted((ROOT / "streams").glob("*/reports/*.md")) + sorted((DATA / "golden_project").rglob("reports/*.md"))
    return {"report": [Seed(p.stem, {"reports/fuzz.md": p.read_bytes()}) for p in reports]}


_SEEDS: dict[str, list[Seed]] | None = None


def seeds() -> dict[str, list[Seed]]:
    global _SEEDS
    if _SEEDS is None:
        _SEEDS = {**_source_seeds(), **_yaml_seeds(), **_report_seeds()}
    return _SEEDS


SOURCE_KINDS = (
    "events-csv", "items-csv", "dates-csv", "jira-json", "jira-csv", "github-issues", "gitlab-issues",
    "azure-devops-updates", "git-history", "deployments-csv", "incidents-csv", "github-deployments",
    "gitlab-deployments",
)
TARGETS = (*SOURCE_KINDS, "stream-yaml", "vsm-yaml", "report")


# ---------------------------------------------------------------- mutations

INTERESTING = [
    "", " ", "0", "-1", "1e309", "NaN", "null", "true", "9" * 40, "-" + "9" * 25,
    "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0000-00-00", "2026-02-30", "2026-03-29T02:30:00",
    "2026-10-25T02:30:00", "2026-03-29 02:30", "1970-01-01", "2262-04-12T00:00:00Z", "1677-09-21T00:00:00Z",
    "24:00", "T", "Z", "+25:00", "2026-01-01T00:00:00+99:99", "12/Jan/26 9:00 AM", "31/Dec/99 11:59 PM",
    "<script>alert(1)</script>", "javascript:alert(1)", "=HYPERLINK(\"http://x\")", "../../../etc/passwd",
    "\u202eevil", "🙂", "é", "\u0000", "\ufeff", "\r", "\n", "\t", '"', '""', "\\", "{", "}", "[", "]",
    "{{ metric lead_time.p85 }}", "{{ chart nope }}", "{{", "}}", "{{ map }}", "&amp;", "%s%n",
    "In Progress", "Done", "Blocked", "Won't Do", "x" * 5000,
]
SPECIAL_BYTES = [b"\x00", b"\xfd", b"\xff", b"\xc3", b"\xe9", b"\xef\xbb\xbf", b"\r\n", b"\r", b"\n", b",", b";",
                 b'"', b"\t", b"{", b"}", b"[", b"]", b":", b"&", b"*", b"#", b"---\n", b"\\u0000", b"\\ud800"]


def _pos(r: random.Random, data: bytes) -> int:
    return r.randrange(len(data) + 1)


def _byte_mutation(r: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    kind = r.randrange(9)
    if not data:
        return r.choice(SPECIAL_BYTES) + r.choice(INTERESTING).encode()
    a = _pos(r, data)
    b = min(len(data), a + r.randint(1, 64))
    if kind == 0:  # flip bytes
        out = bytearray(data)
        for _ in range(r.randint(1, 8)):
            out[r.randrange(len(out))] = r.randrange(256)
        return bytes(out)
    if kind == 1:  # insert a special byte sequence
        return data[:a] + r.choice(SPECIAL_BYTES) * r.randint(1, 3) + data[a:]
    if kind == 2:  # delete a range
        return data[:a] + data[b:]
    if kind == 3:  # duplicate a range
        return data[:b] + data[a:b] * r.randint(1, 4) + data[b:]
    if kind == 4:  # truncate
        return data[:a]
    if kind == 5:  # insert an interesting value
        return data[:a] + r.choice(INTERESTING).encode("utf-8", "surrogatepass") + data[a:]
    if kind == 6:  # splice the tail of another seed of the same target
        other = r.choice(pool) if pool else data
        c = _pos(r, other)
        return data[:a] + other[c:]
    if kind == 7:  # swap or shuffle lines
        lines = data.split(b"\n")
        if len(lines) > 2:
            i, j = r.randrange(1, len(lines)), r.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    # repeat a line many times (row counts, long files)
    lines = data.split(b"\n")
    i = r.randrange(len(lines))
    return b"\n".join(lines[:i] + [lines[i]] * r.randint(2, 200) + lines[i:])


def _csv_mutation(r: random.Random, data: bytes) -> bytes:
    """Replace one field of one row (naive comma split) with an interesting value."""
    lines = data.split(b"\n")
    i = r.randrange(len(lines))
    fields = lines[i].split(b",")
    j = r.randrange(len(fields))
    fields[j] = r.choice(INTERESTING).encode("utf-8", "surrogatepass")
    if r.random() < 0.2:
        fields.insert(j, b"extra")
    lines[i] = b",".join(fields)
    return b"\n".join(lines)


def _random_json(r: random.Random, depth: int = 0) -> Any:
    choice = r.randrange(10 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return r.choice([True, False])
    if choice == 2:
        return r.choice([0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30])
    if choice == 3:
        return r.choice([0.5, -0.0, 1e308, -1e308, 1e-320])
    if choice in (4, 5):
        return r.choice(INTERESTING)
    if choice in (6, 7):
        return [_random_json(r, depth + 1) for _ in range(r.randint(0, 3))]
    return {r.choice(["id", "key", "fields", "status", "created", "items", "field", "toString", "state",
                      "label", "number", "created_at", "closed_at", "value", "histories", "changelog",
                      "event", "name", "revisedDate", "System.State", "newValue"]): _random_json(r, depth + 1)
            for _ in range(r.randint(0, 3))}


def _walk(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _walk(v, (*path, i))


def _json_mutation(r: random.Random, data: bytes) -> bytes | None:
    """Change one node of the JSON document: a new value, a deleted key, a duplicated element,
    a deep nesting; None when the bytes are not JSON any more."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None
    nodes = list(_walk(doc))
    path, _ = r.choice(nodes)
    kind = r.randrange(5)
    if not path or kind == 4:
        if kind == 4 and r.random() < 0.3:
            depth = r.choice([50, 500, 5000])
            return b"[" * depth + json.dumps(r.choice(INTERESTING)).encode() + b"]" * depth
        if not path:
            return json.dumps(_random_json(r)).encode()
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if kind in (0, 1, 4):
        parent[last] = _random_json(r)
    elif kind == 2:
        del parent[last]
    elif isinstance(parent, list):
        parent.insert(last, parent[last])
    else:
        parent[str(last) + "_"] = parent[last]
    return json.dumps(doc, ensure_ascii=r.random() < 0.5, allow_nan=True).encode("utf-8", "surrogatepass")


def _yaml_mutation(r: random.Random, data: bytes) -> bytes | None:
    import yaml

    try:
        doc = yaml.safe_load(data)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict | list):
        return None
    nodes = list(_walk(doc))
    path, _ = r.choice(nodes)
    if not path:
        return None
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    kind = r.randrange(4)
    if kind == 0:
        del parent[path[-1]]
    elif kind == 1 and isinstance(parent, dict):
        parent[r.choice(["stages", "kind", "states", "commitment", "timezone", "as_of", "periods",
                         "sources", "path", "wip_limit", "targets", "item_types", "blocked", "exclude",
                         "unknown_key", "forecast"])] = _random_json(r)
    else:
        parent[path[-1]] = _random_json(r)
    try:
        return yaml.safe_dump(doc, allow_unicode=r.random() < 0.5, sort_keys=False).encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, UnicodeError):
        return None


def mutate(r: random.Random, target: str, seed: Seed, pool: list[bytes]) -> dict[str, bytes]:
    """The seed's files with 1 to 4 stacked mutations applied to one of its mutable files."""
    files = dict(seed.files)
    name = r.choice(seed.targets())
    data = files[name]
    for _ in range(r.randint(1, 4)):
        structured: bytes | None = None
        roll = r.random()
        if roll < 0.35 and name.endswith(".json"):
            structured = _json_mutation(r, data)
        elif roll < 0.35 and name.endswith(".yaml"):
            structured = _yaml_mutation(r, data)
        elif roll < 0.35 and name.endswith(".csv"):
            structured = _csv_mutation(r, data)
        data = structured if structured is not None else _byte_mutation(r, data, pool)
    files[name] = data[: 4 * SEED_BYTES] if len(data) > 4 * SEED_BYTES and r.random() < 0.5 else data
    return files


# ---------------------------------------------------------------- running a target and the invariant


@dataclass
class Outcome:
    target: str
    violations: list[str]
    codes: frozenset[str]
    seconds: float


class Hang(Exception):
    pass


@contextlib.contextmanager
def _deadline(seconds: int) -> Iterator[None]:
    """Raise Hang in the main thread after `seconds` (no guard in other threads)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise Hang(f"no result after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _write(project: Path, files: dict[str, bytes], prefix: str) -> None:
    if project.exists():
        shutil.rmtree(project)
    for name, data in files.items():
        path = project / prefix / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _run_source(kind: str, project: Path, seed: Seed, files: dict[str, bytes]) -> list[Any]:
    from generator.sources import KINDS
    from generator.sources.base import ReadContext

    _write(project, files, STREAM)
    options = {"path": next(iter(files)), **seed.options}
    model = KINDS[kind].Options(kind=kind, **options)
    ctx = ReadContext(project, project / STREAM, "Europe/Berlin", 0)
    data = KINDS[kind].read(model, ctx)
    for frame in (data.events, data.items, data.deployments, data.changes, data.incidents):
        if frame is not None and "ts" in frame and len(frame):
            assert str(frame["ts"].dtype) in ("int64", "Int64"), f"ts column is {frame['ts'].dtype}"
    return list(data.problems)


MINIMAL_DATA = b"item_id,timestamp,state\nA-1,2026-01-05T09:00:00Z,Open\nA-1,2026-01-06T09:00:00Z,Done\n"


def _yaml_project(project: Path, files: dict[str, bytes]) -> None:
    _write(project, {}, STREAM)
    (project / STREAM / "data").mkdir(parents=True, exist_ok=True)
    for name in ("events.csv", "items.csv"):
        (project / STREAM / "data" / name).write_bytes(MINIMAL_DATA if name == "events.csv" else b"item_id\nA-1\n")


def _run_stream_yaml(project: Path, files: dict[str, bytes]) -> list[Any]:
    from generator.validate.stream import load_project

    _yaml_project(project, files)
    (project / STREAM / "stream.yaml").write_bytes(files["stream.yaml"])
    _, problems = load_project(project)
    return list(problems)


GOOD_STREAM = (ROOT / "tests/data/golden_project/streams/golden/stream.yaml").read_bytes


def _run_vsm_yaml(project: Path, files: dict[str, bytes]) -> list[Any]:
    from generator.validate.stream import load_project

    _write(project, {}, STREAM)
    shutil.copytree(DATA / "golden_project" / "streams", project / "streams", dirs_exist_ok=True)
    (project / "vsm.yaml").write_bytes(files["vsm.yaml"])
    _, problems = load_project(project)
    return list(problems)


_REPORT_METRICS: dict[str, Any] = {}


def _golden_metrics(project: Path) -> Any:
    """The golden project's stream, loaded and computed once per process (report targets)."""
    if "metrics" not in _REPORT_METRICS:
        from generator.metrics.stream import compute_stream
        from generator.sources.collect import read_stream
        from generator.validate.stream import load_project

        base = project.parent / "golden-base"
        if base.exists():
            shutil.rmtree(base)
        shutil.copytree(DATA / "golden_project", base)
        loaded, problems = load_project(base)
        assert not [p for p in problems if p.severity == "error"], problems
        config = loaded.streams[0]
        _REPORT_METRICS.update(metrics=compute_stream(config, read_stream(base, config)), base=base, project=loaded)
    return _REPORT_METRICS["metrics"]


def _run_report(project: Path, files: dict[str, bytes]) -> list[Any]:
    """Validate the report (front matter, references) and, when valid, render its page."""
    from dataclasses import replace

    from generator.render.context import SiteContext, SiteOptions, stream_nav
    from generator.render.env import make_env
    from generator.render.pages import report_page
    from generator.validate.reports import load_report

    metrics = _golden_metrics(project)
    base: Path = _REPORT_METRICS["base"]
    rel = "streams/golden/reports/fuzz.md"
    (base / rel).write_bytes(files["reports/fuzz.md"])
    report, problems = load_report(base, rel, metrics.config.definition)
    if report is not None and not [p for p in problems if p.severity == "error"]:
        one = replace(metrics, config=replace(metrics.config, reports=(report,)))
        if "assets" not in _REPORT_METRICS:
            from generator.render.env import TEMPLATES
            from generator.render.site import _assets

            _REPORT_METRICS["assets"] = _assets({}, TEMPLATES / "static")
        out: dict[str, bytes] = {}
        ctx = SiteContext(make_env(), SiteOptions(), _REPORT_METRICS["project"], [one], "fuzz",
                          _REPORT_METRICS["assets"], out)
        for each in one.config.reports:
            report_page.render_one(ctx, one, stream_nav(one), each)
        for name, page in out.items():
            lowered = page.lower()
            assert b"<script>alert" not in lowered, f"{name}: a <script> from the report reached the page"
            assert b'href="javascript:' not in lowered, f"{name}: a javascript: link reached the page"
            assert b"<iframe" not in lowered, f"{name}: an <iframe> reached the page"
    return list(problems)


def _line_count(files: dict[str, bytes], path: str) -> int | None:
    """Lines of the file a problem names (a lone CR ends a line too, as in CSV readers and editors)."""
    for name, data in files.items():
        if path.endswith(name):
            return len(re.split(rb"\r\n|\r|\n", data))
    return None


def check(target: str, seed: Seed, files: dict[str, bytes], workdir: Path) -> Outcome:
    """Run one input through its target and list every breach of the invariant."""
    if target == "report":
        _golden_metrics(workdir / "project")  # once per process, outside the deadline and memory
    violations: list[str] = []
    unraisable: list[str] = []
    old_hook = sys.unraisablehook
    sys.unraisablehook = lambda u: unraisable.append(f"{u.exc_type.__name__}: {u.exc_value} in {u.object!r}")
    before = _peak_mb()
    start = time.perf_counter()
    problems: list[Any] = []
    err = io.StringIO()
    project = workdir / "project"
    try:
        with _deadline(HANG_SECONDS), contextlib.redirect_stderr(err):
            if target in SOURCE_KINDS:
                problems = _run_source(target, project, seed, files)
            elif target == "stream-yaml":
                problems = _run_stream_yaml(project, files)
            elif target == "vsm-yaml":
                problems = _run_vsm_yaml(project, files)
            else:
                problems = _run_report(project, files)
    except Hang as exc:
        violations.append(f"hang: {exc}")
    except BaseException as exc:  # the point: nothing may escape
        violations.append("uncaught " + "".join(traceback.format_exception_only(type(exc), exc)).strip()
                          + "\n" + "".join(traceback.format_tb(exc.__traceback__)[-4:]))
    finally:
        sys.unraisablehook = old_hook
    seconds = time.perf_counter() - start
    grown = _peak_mb() - before
    if grown > MEMORY_MB:
        violations.append(f"peak memory grew by {grown:.0f} MB")
    violations += [f"unraisable exception printed: {u}" for u in unraisable]
    if "Traceback" in err.getvalue() or "Exception ignored" in err.getvalue():
        violations.append("a traceback was printed: " + err.getvalue()[-400:])
    for p in problems:
        where = f"{p.code} at {p.location.path}:{p.location.line}"
        if p.code not in DOCUMENTED:
            violations.append(f"{where}: code not documented in docs/errors.md")
        if p.severity not in ("error", "warning") or not p.message:
            violations.append(f"{where}: no severity or message")
        if "Traceback" in p.message or "Traceback" in (p.hint or ""):
            violations.append(f"{where}: a traceback in the message")
        path = p.location.path or ""
        if target in ("stream-yaml", "report") or target in SOURCE_KINDS:
            lines = _line_count(files, path)
            if path and lines is None and not path.endswith((".yaml", ".md")) and "/" + STREAM.split("/")[-1] + "/" not in "/" + path:
                violations.append(f"{where}: located in a file the target was not given")
            if lines is not None and p.location.line is not None and not 1 <= p.location.line <= lines:
                violations.append(f"{where}: line outside the file (it has {lines})")
    return Outcome(target, violations, frozenset(p.code for p in problems), seconds)


def digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()[:16]


# ---------------------------------------------------------------- the corpus (tests/data/fuzz)


def save(target: str, seed: Seed, files: dict[str, bytes], label: str) -> Path:
    """Store an input under tests/data/fuzz/<target>/<label>-<digest>/ (files + seed.json)."""
    folder = CORPUS / target / f"{label}-{digest(files)}"
    folder.mkdir(parents=True, exist_ok=True)
    meta = {"seed": seed.name, "options": seed.options, "files": sorted(files)}
    (folder / "seed.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    for name, data in files.items():
        path = folder / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return folder


def corpus() -> Iterator[tuple[str, Seed, dict[str, bytes], Path]]:
    """Every stored input: (target, seed with its options, files, folder)."""
    if not CORPUS.exists():
        return
    for folder in sorted(CORPUS.glob("*/*/seed.json")):
        target = folder.parent.parent.name
        meta = json.loads(folder.read_text(encoding="utf-8"))
        files = {name: (folder.parent / "files" / name).read_bytes() for name in meta["files"]}
        yield target, Seed(meta["seed"], files, meta["options"]), files, folder.parent


def run_random(target: str, r: random.Random, workdir: Path) -> tuple[Seed, dict[str, bytes], Outcome]:
    """One random input for a target: a seed, mutated, checked."""
    all_seeds = seeds()[target]
    seed = r.choice(all_seeds)
    pool = [data for s in all_seeds for data in s.files.values()]
    files = mutate(r, target, seed, pool)
    return seed, files, check(target, seed, files, workdir)


Runner = Callable[[str, random.Random, Path], tuple[Seed, dict[str, bytes], Outcome]]
