"""Contract tests: what users and tools rely on is documented in docs/.

- every error and warning code used in generator/ has a row in docs/errors.md (and every row is used);
- every column of items.csv and every key of metrics.json (recursively) is named in docs/metrics.md,
  and the columns come in the documented order;
- every key of the stream.yaml and vsm.yaml schemas is in docs/stream-yaml.md, every option of every
  source kind in docs/sources*.md, every source kind too;
- every report reference (metric path, comparison key, chart name, front-matter key) is in docs/reports.md;
- every CLI command has --help (exit 0) and is named in README.md or docs/;
- docs/README.md links every page, and every relative link between docs resolves (anchors included).

The output keys come from one small build (tests/data/foundation/project, extended with actors,
rework, a cancelled stage, an extra period and delivery data so that every optional key appears;
about a second). The example streams' output is checked too, in the slow suite.
"""

from __future__ import annotations

import argparse
import ast
import csv
import io
import json
import re
import shutil
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from generator.build import BuildOptions, build
from generator.cli import main, parser
from generator.sources import _MODULES, KINDS
from generator.validate.reports import CHARTS, FrontMatter, comparison_keys, metric_paths
from generator.validate.schema import ProjectDef, StreamDef

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATOR = ROOT / "generator"
FOUNDATION = ROOT / "tests" / "data" / "foundation" / "project"
CODE = re.compile(r"^[EW]\d{3}$")


def doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def backticked(text: str, name: str) -> bool:
    """`name` appears in backticks, alone or as a part of a dotted or bracketed path (`stages[].id`)."""
    return (
        re.search(r"`[^`\n]*(?<![\w-])" + re.escape(name) + r"(?![\w-])[^`\n]*`", text) is not None
    )


# ---------------------------------------------------------------- error codes


@cache
def codes_in_generator() -> dict[str, str]:
    """Every string literal that is a code (`"W201"`) anywhere in generator/, with the first file using it."""
    found: dict[str, str] = {}
    for path in sorted(GENERATOR.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and CODE.match(node.value)
            ):
                found.setdefault(node.value, path.relative_to(ROOT).as_posix())
    return found


def documented_codes() -> set[str]:
    return set(re.findall(r"^\|\s*([EW]\d{3})\s*\|", doc("errors.md"), flags=re.M))


def test_the_source_uses_codes() -> None:
    # guards the scan itself: it must see the codes raised through helpers (row_problems("W205", ...))
    codes = codes_in_generator()
    assert {"E100", "E103", "E141", "W201", "W205", "W223", "W232", "W301"} <= set(codes)


def test_every_code_in_the_source_has_a_row_in_errors_md() -> None:
    missing = {
        code: where
        for code, where in codes_in_generator().items()
        if code not in documented_codes()
    }
    assert not missing, f"add a row to docs/errors.md for: {missing}"


def test_every_documented_code_is_used() -> None:
    stale = documented_codes() - set(codes_in_generator())
    assert not stale, f"docs/errors.md documents codes the code never uses: {sorted(stale)}"


def test_errors_md_example_matches_the_real_e103_message(tmp_path: Path) -> None:
    from generator.validate.stream import load_project

    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION, root)
    path = root / "streams" / "demo" / "stream.yaml"
    path.write_text(path.read_text().replace("states: [In Progress]", "states: In Progress"))
    _, problems = load_project(root)
    e103 = [p for p in problems if p.code == "E103"]
    assert len(e103) == 1, [p.format() for p in problems]
    message = e103[0].message.split(": ", 1)[1]  # without the stages[i].states prefix
    text = doc("errors.md")
    assert message.replace("In Progress", "In Review") in text
    assert e103[0].hint.replace("In Progress", "In Review") in text


# ---------------------------------------------------------------- items.csv and metrics.json

STREAM_YAML = """\
name: Demo
timezone: UTC
as_of: 2026-03-01T00:00:00Z
sources:
  - kind: events-csv
    path: data/events.csv
  - kind: items-csv
    path: data/items.csv
  - kind: deployments-csv
    path: data/deployments.csv
  - kind: incidents-csv
    path: data/incidents.csv
stages:
  - id: backlog
    states: [Open]
    kind: wait
  - id: dev
    states: [In Progress]
    kind: active
  - id: review
    states: [In Review]
    kind: active
  - id: done
    states: [Done]
    kind: done
  - id: dropped
    states: [Dropped]
    kind: cancelled
commitment: dev
blocked:
  states: [Blocked]
item_types:
  Story: feature
  Bug: defect
periods:
  baseline:
    start: 2026-01-01
    end: 2026-01-31
  current:
    start: 2026-02-01
    end: 2026-02-28
  january:
    start: 2026-01-01
    end: 2026-01-15
scenarios:
  - id: every-change
    name: Every kind of change
    description: one of each, so that every key of a scenario appears
    changes:
      - wait: {stage: backlog, cut: 0.5}
      - rework: {stage: review, cut: 1}
      - wip_limit: {stage: dev, limit: 1}
  - id: no-backlog
    name: No backlog
    changes:
      - remove_stage: backlog
"""

EVENTS_CSV = """\
item_id,timestamp,state,blocked,actor
A-1,2026-01-05T09:00:00Z,Open,,ann
A-1,2026-01-06T09:00:00Z,In Progress,true,bob
A-1,2026-01-07T09:00:00Z,,false,bob
A-1,2026-01-08T09:00:00Z,Done,,bob
A-2,2026-01-12T10:00:00Z,Open,,ann
A-2,2026-01-13T10:00:00Z,Triage,,ann
A-2,2026-01-14T10:00:00Z,In Progress,,bob
A-2,2026-01-15T10:00:00Z,In Review,,cat
A-2,2026-01-16T10:00:00Z,In Progress,,bob
A-2,2026-01-17T10:00:00Z,In Review,,cat
A-2,2026-01-19T10:00:00Z,Done,,cat
A-3,2026-02-02T09:00:00Z,Open,,ann
A-3,2026-02-03T09:00:00Z,In Progress,,bob
A-3,2026-02-04T09:00:00Z,Done,,bob
A-4,2026-02-09T09:00:00Z,Open,,ann
A-4,2026-02-10T09:00:00Z,In Progress,,bob
A-4,2026-02-13T09:00:00Z,Dropped,,ann
"""

DEPLOYMENTS_CSV = """\
deploy_id,timestamp,environment,status,sha,rollback_of,hotfix
r1,2026-01-08T10:00:00Z,production,success,abc,,false
r2,2026-02-04T10:00:00Z,production,failure,def,,
r3,2026-02-04T11:00:00Z,production,success,abc,r2,
"""

INCIDENTS_CSV = """\
incident_id,opened,resolved,deploy_id,severity
I1,2026-02-04T10:30:00Z,2026-02-04T11:00:00Z,r2,high
"""


@pytest.fixture(scope="module")
def small_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The foundation project, extended so that every optional key of the output appears; built once."""
    root = tmp_path_factory.mktemp("docs-contract") / "proj"
    shutil.copytree(FOUNDATION, root)
    stream = root / "streams" / "demo"
    (stream / "stream.yaml").write_text(STREAM_YAML)
    (stream / "data" / "events.csv").write_text(EVENTS_CSV)
    (stream / "data" / "deployments.csv").write_text(DEPLOYMENTS_CSV)
    (stream / "data" / "incidents.csv").write_text(INCIDENTS_CSV)
    out = root.parent / "_site"
    report = build(BuildOptions(project=root, out=out))
    assert report.written, "\n".join(p.format() for p in report.problems)
    return out / "streams" / "demo" / "data"


# Objects whose keys are names (periods, quarters, stage ids, comparison keys, skip reasons), not
# documented keys; "*" stands for any one key. Their values' keys are checked.
NAMED = (
    ("periods",),
    ("quarters",),
    ("littles_law",),
    ("comparison",),
    ("dora", "periods"),
    ("dora", "quarters"),
    ("periods", "*", "stages"),
    ("quarters", "*", "stages"),
    ("periods", "*", "hand_offs", "by_stage"),
    ("quarters", "*", "hand_offs", "by_stage"),
    ("quality", "skipped"),
    ("forecast", "sle", "periods"),
    ("scenarios",),
    ("scenarios", "*", "stages"),
)


def _named(path: tuple[str, ...]) -> bool:
    return any(
        len(p) == len(path) and all(a in ("*", b) for a, b in zip(p, path, strict=True))
        for p in NAMED
    )


def json_keys(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """(path, key) for every key of every object, skipping the keys of NAMED objects (not their values)."""
    if isinstance(value, dict):
        named = _named(path)
        for key, child in value.items():
            if not named:
                yield path, key
            yield from json_keys(child, (*path, "*" if named else key))
    elif isinstance(value, list):
        for child in value:
            yield from json_keys(child, path)


def generic_comparison_key(key: str) -> str:
    """stage:review:mean -> stage:<id>:mean; fixed keys stay as they are."""
    return re.sub(r"^stage:.+:(mean|p50)$", r"stage:<id>:\1", key)


def generic_column(column: str) -> str:
    return (
        column
        if column == "stage_days:unmapped"
        else re.sub(r"^stage_days:.+$", "stage_days:<id>", column)
    )


def documented_item_columns() -> list[str]:
    """The column names of the items.csv table in docs/metrics.md, in order."""
    text = doc("metrics.md")
    section = text[text.index("### items.csv") : text.index("### metrics.json")]
    return re.findall(r"^\| `([^`]+)` \|", section, flags=re.M)


def check_items_csv(path: Path) -> None:
    header = next(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    generic = list(dict.fromkeys(generic_column(c) for c in header))
    text = doc("metrics.md")
    missing = [c for c in generic if f"`{c}`" not in text]
    assert not missing, f"items.csv columns not in docs/metrics.md: {missing}"
    assert generic == documented_item_columns(), (
        "docs/metrics.md lists items.csv's columns in another order"
    )


def check_metrics_json(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    text = doc("metrics.md")
    missing = sorted(
        {(".".join(p) or "(top)", k) for p, k in json_keys(document) if f"`{k}`" not in text}
    )
    assert not missing, f"metrics.json keys not in docs/metrics.md: {missing}"
    comparison = {generic_comparison_key(k) for k in document["comparison"]}
    assert comparison, "the build compared nothing"
    assert not [k for k in comparison if f"`{k}`" not in text], (
        "comparison keys not in docs/metrics.md"
    )
    for name in document["periods"]:
        if name in ("baseline", "current"):
            assert f"`{name}`" in text


def test_items_csv_columns_are_documented(small_site: Path) -> None:
    check_items_csv(small_site / "items.csv")


def test_metrics_json_keys_are_documented(small_site: Path) -> None:
    document = json.loads((small_site / "metrics.json").read_text(encoding="utf-8"))
    # the build must exercise the optional parts, or the check below proves little
    current = document["periods"]["current"]
    assert document["dora"] is not None and "january" in document["periods"]
    assert (
        current["hand_offs"] is not None
        and document["problems"]
        and document["quality"]["unmapped_states"]
    )
    assert document["periods"]["baseline"]["rework_moves"]
    assert {c["kind"] for s in document["scenarios"].values() for c in s["changes"]} == {
        "wait", "rework", "wip_limit", "remove_stage"}
    check_metrics_json(small_site / "metrics.json")


def test_the_walk_sees_nested_keys(small_site: Path) -> None:
    document = json.loads((small_site / "metrics.json").read_text(encoding="utf-8"))
    seen = {(".".join(p), k) for p, k in json_keys(document)}
    assert ("periods.*.stages.*", "pct_complete_accurate") in seen
    assert ("comparison.*", "ci_low") in seen
    assert ("dora.periods.*.change_failure_rate.by_signal", "hotfix") in seen
    assert ("problems", "hint") in seen
    assert not [k for p, k in seen if k in ("baseline", "current") and p == "periods"]


@pytest.mark.slow
def test_example_streams_output_is_documented(example_site: Path) -> None:
    data = example_site / "streams" / "development" / "data"
    check_items_csv(data / "items.csv")
    check_metrics_json(data / "metrics.json")


# ---------------------------------------------------------------- stream.yaml, vsm.yaml, sources


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models(arg)


def schema_keys(model: type[BaseModel], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, key) of every field of a model and of the models inside it."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield path, name
        for inner in _models(field.annotation):
            yield from schema_keys(inner, path + ".")


def test_every_stream_yaml_key_is_documented() -> None:
    text = doc("stream-yaml.md")
    keys = list(schema_keys(StreamDef)) + list(schema_keys(ProjectDef, "vsm.yaml:"))
    assert ("stages.wip_limit", "wip_limit") in keys and ("targets.wip_mean", "wip_mean") in keys
    missing = [path for path, key in keys if not backticked(text, key)]
    assert not missing, f"keys not in docs/stream-yaml.md: {missing}"


def sources_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("sources*.md")))


def test_every_source_kind_is_documented() -> None:
    text = sources_text()
    missing = [kind for kind in _MODULES if f"`{kind}`" not in text]
    assert not missing, f"source kinds not in docs/sources*.md: {missing}"
    index = doc("sources.md")
    assert not [kind for kind in _MODULES if f"`{kind}`" not in index], (
        "docs/sources.md must list every kind"
    )


def test_every_source_option_is_documented() -> None:
    text = sources_text()
    missing = [
        f"{kind}.{name}"
        for kind, module in KINDS.items()
        for name in module.Options.model_fields
        if not backticked(text, name)
    ]
    assert not missing, f"source options not in docs/sources*.md: {missing}"


# ---------------------------------------------------------------- reports


def test_every_report_reference_is_documented() -> None:
    from generator.validate.stream import load_project

    project, problems = load_project(FOUNDATION)
    assert project.streams, [p.format() for p in problems]
    definition = project.streams[0].definition
    ids = sorted((s.id for s in definition.stages), key=len, reverse=True)
    text = doc("reports.md")

    def generic(name: str) -> str:
        for sid in ids:
            name = name.replace(f"stages.{sid}.", "stages.<id>.").replace(
                f"stage:{sid}:", "stage:<id>:"
            )
        return name

    names = {generic(p) for p in metric_paths(definition)} | {
        generic(k) for k in comparison_keys(definition)
    }
    missing = sorted(n for n in names if f"`{n}`" not in text)
    missing += [c for c in CHARTS if f"`{c}`" not in text]
    missing += [k for k in FrontMatter.model_fields if f"`{k}`" not in text]
    assert not missing, f"not in docs/reports.md: {missing}"


# ---------------------------------------------------------------- command line


def commands() -> list[str]:
    for action in parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def test_there_are_commands() -> None:
    assert {"build", "check"} <= set(commands())


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code in (0, None)
    assert f"usage: vsm {command}" in capsys.readouterr().out


@pytest.mark.parametrize("command", commands())
def test_every_command_is_documented(command: str) -> None:
    pages = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages if p.is_file())
    assert re.search(rf"`vsm {command}\b", text), (
        f"`vsm {command}` is in neither README.md nor docs/"
    )


# ---------------------------------------------------------------- the docs map and links


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", text, flags=re.M)}


def test_the_docs_map_lists_every_page() -> None:
    listed = set(re.findall(r"\]\(([\w.-]+\.md)\)", doc("README.md")))
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert not pages - listed, f"docs/README.md does not list: {sorted(pages - listed)}"


def test_links_between_docs_resolve() -> None:
    broken = []
    for page in sorted(DOCS.glob("*.md")):
        text = re.sub(r"^```.*?^```", "", page.read_text(encoding="utf-8"), flags=re.M | re.S)
        for target, anchor in re.findall(
            r"\]\((?!https?:|mailto:)([^)#\s]*)(?:#([^)\s]+))?\)", text
        ):
            path = (page.parent / target) if target else page
            if not path.is_file():
                broken.append(f"{page.name}: {target}")
            elif anchor and path.suffix == ".md" and anchor not in anchors(path):
                broken.append(f"{page.name}: {target}#{anchor}")
    assert not broken, f"broken links: {broken}"


def test_contributing_maps_every_folder_and_module_of_the_package() -> None:
    """CONTRIBUTING.md's package map names every folder and top-level module of generator/, and only real ones."""
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    section = text[text.index("## Map of the package") :]
    section = section[: section.index("\n## ", 1)]
    listed = set(re.findall(r"^\| `(generator/[^`]+)` \|", section, re.M))
    package = ROOT / "generator"
    present = {
        f"generator/{p.name}" + ("/" if p.is_dir() else "")
        for p in package.iterdir()
        if (p.is_dir() and p.name != "__pycache__") or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert listed == present
