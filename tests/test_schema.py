"""One invalid stream.yaml per E1xx code: the code, the exact location and a useful hint.

Every case starts from BASE, a minimal valid stream, and changes one thing.
BASE's lines (1-based), which the expected locations below refer to:

     1  name: Demo
     2  sources:
     3    - kind: events-csv
     4      path: data/events.csv
     5  stages:
     6    - id: backlog
     7      states: [Open]
     8      kind: wait
     9    - id: dev
    10      states: [In Progress]
    11      kind: active
    12    - id: done
    13      states: [Done]
    14      kind: done
    15  commitment: dev

Columns are 1-based and point at the value (or at the key for unknown and
duplicate keys). Keys appended after line 15 start on line 16.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.errors import Problem
from generator.validate.schema import FLOW_TYPES
from generator.validate.stream import load_project

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation"
YAML = "streams/demo/stream.yaml"

BASE = """\
name: Demo
sources:
  - kind: events-csv
    path: data/events.csv
stages:
  - id: backlog
    states: [Open]
    kind: wait
  - id: dev
    states: [In Progress]
    kind: active
  - id: done
    states: [Done]
    kind: done
commitment: dev
"""

DEV_STAGE = """\
  - id: dev
    states: [In Progress]
    kind: active
"""
DONE_STAGE = """\
  - id: done
    states: [Done]
    kind: done
"""


def make_project(root: Path, text: str | bytes | None, folder: str = "demo") -> Path:
    """A project with one stream folder holding `text` as stream.yaml (None: no stream.yaml)."""
    stream = root / "streams" / folder
    (stream / "data").mkdir(parents=True)
    (stream / "data" / "events.csv").write_text(
        "item_id,timestamp,state\nA-1,2026-01-05T09:00:00Z,Open\n"
    )
    if isinstance(text, bytes):
        (stream / "stream.yaml").write_bytes(text)
    elif text is not None:
        (stream / "stream.yaml").write_text(text, encoding="utf-8")
    return root


def problems_for(tmp_path: Path, text: str | bytes | None, folder: str = "demo") -> list[Problem]:
    project, problems = load_project(make_project(tmp_path / "proj", text, folder))
    if any(p.severity == "error" for p in problems):
        assert project.streams == (), "a stream with errors must not be loaded"
    return problems


def replace(old: str, new: str, text: str = BASE) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def test_base_is_valid(tmp_path: Path) -> None:
    project, problems = load_project(make_project(tmp_path / "proj", BASE))
    assert problems == []
    assert [s.id for s in project.streams] == ["demo"]


# (case id, stream.yaml text, code, line, col, text the hint must contain, text the message must contain)
# fmt: off
CASES = [
    # E100: YAML syntax. ': ' inside a plain value; PyYAML points at the second ':' (line 1, col 11).
    ("E100-syntax", replace("name: Demo", "name: Demo: again"), "E100", 1, 11, "quote values", "not valid YAML"),
    # E100: a tab where indentation is expected; the scanner stops on line 7.
    ("E100-tab", replace("    states: [Open]", "\tstates: [Open]"), "E100", 7, 1, "indentation", "not valid YAML"),
    # E101: unknown nested key on line 12 (after the dev stage's kind); column of the key.
    (
        "E101-nested",
        replace("    kind: active\n", "    kind: active\n    wip_limt: 3\n"),
        "E101", 12, 5, "did you mean 'wip_limit'?", "stages[1].wip_limt",
    ),
    # E102: a stage without kind; located at the stage mapping (line 9, col 5 = its first key).
    ("E102-stage-kind", replace("    kind: active\n", ""), "E102", 9, 5, "add 'kind:'", "stages[1]: required key 'kind'"),
    # E102: a source without kind (checked by the sources pass), located at the source entry.
    ("E102-source-kind", replace("  - kind: events-csv\n    path:", "  - path:"), "E102", 3, 5, "kind: one of", "sources[0]"),
    # E103: a string where a list is expected (the STYLE.md example); col 13 is where the value starts.
    (
        "E103-states-string",
        replace("states: [In Progress]", "states: In Progress"),
        "E103", 10, 13, 'write states: ["In Progress"]', "stages[1].states",
    ),
    # E103: a list where a string is expected.
    ("E103-name-list", replace("name: Demo", "name: [a, b]"), "E103", 1, 7, "docs/stream-yaml.md", "name"),
    # E104: an enum value with a typo; did-you-mean from the allowed kinds.
    ("E104-kind", replace("kind: active", "kind: activ"), "E104", 11, 11, "did you mean 'active'?", "stages[1].kind"),
    # E104: a stage id that breaks the pattern (the commitment follows it so only E104 fires).
    (
        "E104-id-pattern",
        replace("commitment: dev", "commitment: Dev", replace("id: dev", "id: Dev")),
        "E104", 9, 9, "lowercase letters", "stages[1].id",
    ),
    # E104: out of range (wip_limit must be > 0): value at line 12, col 16.
    ("E104-range", replace("    kind: active\n", "    kind: active\n    wip_limit: 0\n"), "E104", 12, 16, "docs/stream-yaml.md", "wip_limit"),
    # E104: flow type not in feature|defect|risk|debt; lines 16-17 appended.
    ("E104-flow-type", BASE + "item_types:\n  Story: featur\n", "E104", 17, 10, "did you mean 'feature'?", "item_types.Story"),
    # E104: a period bound given as a date and time instead of a date (line 18, col 12).
    (
        "E104-datetime-for-date",
        BASE + "periods:\n  current:\n    start: 2026-01-01T00:00:00Z\n    end: 2026-12-31\n",
        "E104", 18, 12, "docs/stream-yaml.md", "periods.current.start",
    ),
    # E105: unknown source kind, with the closest known kind.
    ("E105", replace("kind: events-csv", "kind: events-cvs"), "E105", 3, 11, "did you mean 'events-csv'?", "events-cvs"),
    # E110: duplicate stage id ('dev' used by stages[0] and stages[1]); points at the second.
    ("E110-duplicate", replace("id: backlog", "id: dev"), "E110", 9, 9, "own id", "used twice"),
    # E110: the reserved id 'unmapped'.
    ("E110-reserved", replace("id: backlog", "id: unmapped"), "E110", 6, 9, "another id", "reserved"),
    # E111: no done stage (the last one becomes cancelled); points at the stages list (line 6, col 3).
    ("E111", replace("kind: done", "kind: cancelled"), "E111", 6, 3, "kind: done", "no stage has kind 'done'"),
    # E112: done before dev; dev is now stages[2] on line 12.
    ("E112", replace(DEV_STAGE + DONE_STAGE, DONE_STAGE + DEV_STAGE), "E112", 12, 5, "last", "stages[2] 'dev'"),
    # E113: unknown commitment with did-you-mean.
    ("E113-unknown", replace("commitment: dev", "commitment: devv"), "E113", 15, 13, "did you mean 'dev'?", "'devv' is not a stage id"),
    # E113: commitment at a done stage.
    ("E113-done", replace("commitment: dev", "commitment: done"), "E113", 15, 13, "commitment is where work starts", "done stage"),
    # E114: same state in two stages, differing in case and spacing; points at the second listing.
    ("E114-stages", replace("states: [Done]", "states: [Done, in  progress]"), "E114", 13, 20, "remove one", "also in stage 'dev'"),
    # E114: twice in one stage.
    ("E114-same-stage", replace("states: [Open]", "states: [Open, OPEN]"), "E114", 7, 20, "remove one", "also in stage 'backlog'"),
    # E114: a blocked state that a stage also lists (line 17, col 21 = 'open').
    ("E114-blocked", BASE + "blocked:\n  states: [Blocked, open]\n", "E114", 17, 21, "remove it from the stage", "stage 'backlog'"),
    # E115: process event naming an unknown stage (line 19, col 12).
    (
        "E115",
        BASE + "events:\n  - date: 2026-05-04\n    label: Review rota\n    stage: deev\n",
        "E115", 19, 12, "did you mean 'dev'?", "events[0].stage",
    ),
    # E116: end before start; points at end (line 19, col 10).
    (
        "E116",
        BASE + "periods:\n  current:\n    start: 2026-03-01\n    end: 2026-02-28\n",
        "E116", 19, 10, "on or after start", "end 2026-02-28 is before start 2026-03-01",
    ),
    # E117: a misspelt zone, with the closest IANA name.
    ("E117", replace("name: Demo\n", "name: Demo\ntimezone: Europe/Berln\n"), "E117", 2, 11, "did you mean 'Europe/Berlin'?", "Europe/Berln"),
    # E118: 'name' again on line 16; the message names the first line.
    ("E118", BASE + "name: Again\n", "E118", 16, 1, "keep one", "first on line 1"),
    # E120: absolute, '..' escaping, '~'.
    ("E120-absolute", replace("data/events.csv", "/etc/passwd"), "E120", 4, 11, "relative to the stream's folder", "absolute"),
    ("E120-dotdot", replace("data/events.csv", "../../../outside.csv"), "E120", 4, 11, "relative to the stream's folder", "outside the project"),
    ("E120-tilde", replace("data/events.csv", "~/events.csv"), "E120", 4, 11, "relative to the stream's folder", "'~'"),
    ("E120-windows", replace("data/events.csv", "'C:\\data\\events.csv'"), "E120", 4, 11, "relative to the stream's folder", "absolute"),
    # E122: a source path that does not exist.
    ("E122-source", replace("data/events.csv", "data/evnts.csv"), "E122", 4, 11, "relative to the stream's folder", "data/evnts.csv"),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "code", "line", "col", "hint", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_error_code(
    tmp_path: Path, text: str, code: str, line: int, col: int, hint: str, message: str
) -> None:
    problems = problems_for(tmp_path, text)
    # exactly one problem: the one this case is about, nothing spurious
    assert [p.code for p in problems] == [code], [p.format() for p in problems]
    (p,) = problems
    assert p.severity == "error"
    assert (p.location.path, p.location.line, p.location.col) == (YAML, line, col), p.format()
    assert hint in p.hint, p.format()
    assert message in p.message, p.format()
    text_form = p.format()
    assert text_form.startswith(f"{YAML}:{line}:{col}: error[{code}]: ")
    assert "\n  hint: " in text_form


def test_e101_top_level_typo_suggests_the_key(tmp_path: Path) -> None:
    # 'stagse' on line 5: unknown key, and so 'stages' is missing too (reported at the document, 1:1)
    problems = problems_for(tmp_path, replace("stages:", "stagse:"))
    by_code = {p.code: p for p in problems}
    assert sorted(by_code) == ["E101", "E102"]
    e101 = by_code["E101"]
    assert (e101.location.line, e101.location.col) == (5, 1)
    assert e101.hint.startswith("did you mean 'stages'?")
    assert "allowed here:" in e101.hint and "commitment" in e101.hint
    assert "'stages'" in by_code["E102"].message


def test_e102_missing_top_level_key(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, replace("commitment: dev\n", ""))
    assert [p.code for p in problems] == ["E102"]
    assert problems[0].location == problems[0].location.__class__(YAML, 1, 1)
    assert "'commitment'" in problems[0].message
    assert "add 'commitment:'" in problems[0].hint


def test_e104_impossible_date(tmp_path: Path) -> None:
    text = BASE + "periods:\n  current:\n    start: 2026-13-01\n    end: 2026-12-31\n"
    problems = problems_for(tmp_path, text)
    assert [p.code for p in problems] in (["E104"], ["E100"])
    assert (problems[0].location.line, problems[0].location.col) == (18, 12)


def test_e100_recursive_alias(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, BASE + "x: &a [*a]\n")
    assert "E100" in [p.code for p in problems]


def test_e100_not_utf8(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, replace("name: Demo", "name: D\xe9mo").encode("latin-1"))
    assert [p.code for p in problems] == ["E100"]
    assert problems[0].location.path == YAML
    assert "UTF-8" in problems[0].message and "UTF-8" in problems[0].hint


@pytest.mark.parametrize(
    "text", ["", "- just\n- a list\n", "just text\n"], ids=["empty", "list", "scalar"]
)
def test_not_a_mapping(tmp_path: Path, text: str) -> None:
    problems = problems_for(tmp_path, text)
    assert [p.code for p in problems] == ["E103"]
    assert (problems[0].location.path, problems[0].location.line) == (YAML, 1)


@pytest.mark.parametrize("folder", ["Bad_Stream", "9lives", "with_underscore"])
def test_e121_invalid_stream_id(tmp_path: Path, folder: str) -> None:
    problems = problems_for(tmp_path, BASE, folder=folder)
    assert [p.code for p in problems] == ["E121"]
    assert problems[0].location.path == f"streams/{folder}"
    assert "lowercase letters" in problems[0].hint


def test_e122_stream_yaml_missing(tmp_path: Path) -> None:
    problems = problems_for(tmp_path, None)
    assert [p.code for p in problems] == ["E122"]
    assert problems[0].location.path == YAML
    assert "vsm new" in problems[0].hint


def test_e130_no_streams_folder(tmp_path: Path) -> None:
    project, problems = load_project(tmp_path)
    assert [p.code for p in problems] == ["E130"]
    assert problems[0].location.path == "streams"
    assert "--project" in problems[0].hint
    assert project.streams == ()


def test_e130_empty_streams_folder(tmp_path: Path) -> None:
    (tmp_path / "streams").mkdir()
    (tmp_path / "streams" / ".hidden").mkdir()  # hidden folders are not streams
    _, problems = load_project(tmp_path)
    assert [p.code for p in problems] == ["E130"]
    assert "vsm new" in problems[0].hint


def test_every_problem_at_once_schema_and_sources(tmp_path: Path) -> None:
    # three different errors in one file, found by the schema pass and the sources pass:
    #   line 2:  'ownr'  -> E101 (did you mean 'owner')
    #   line 4:  kind: events-cvs -> E105 (sources are checked even when the schema failed)
    #   line 12: kind: activ -> E104
    text = replace("name: Demo\n", "name: Demo\nownr: Team\n")
    text = replace("kind: events-csv", "kind: events-cvs", text)
    text = replace("kind: active", "kind: activ", text)
    problems = problems_for(tmp_path, text)
    found = sorted((p.code, p.location.line) for p in problems)
    assert found == [("E101", 2), ("E104", 12), ("E105", 4)], [p.format() for p in problems]
    e101 = next(p for p in problems if p.code == "E101")
    assert "did you mean 'owner'?" in e101.hint


def test_every_problem_at_once_rules(tmp_path: Path) -> None:
    # four rule violations in one otherwise schema-valid file:
    #   line 2:  timezone Mars/Olympus -> E117
    #   line 14: 'Open' listed again in done -> E114
    #   line 16: commitment devv -> E113
    #   line 20: events[0].stage nope -> E115
    text = replace("name: Demo\n", "name: Demo\ntimezone: Mars/Olympus\n")
    text = replace("states: [Done]", "states: [Done, Open]", text)
    text = replace("commitment: dev", "commitment: devv", text)
    text += "events:\n  - date: 2026-05-04\n    label: x\n    stage: nope\n"
    problems = problems_for(tmp_path, text)
    found = sorted((p.code, p.location.line) for p in problems)
    assert found == [("E113", 16), ("E114", 14), ("E115", 20), ("E117", 2)], [
        p.format() for p in problems
    ]


def test_every_stream_is_checked(tmp_path: Path) -> None:
    # problems in two streams are all reported; a valid third stream still loads
    root = tmp_path / "proj"
    make_project(root, replace("commitment: dev", "commitment: devv"), folder="one")
    make_project(tmp_path / "tmp2", replace("kind: active", "kind: activ"), folder="two")
    shutil.move(str(tmp_path / "tmp2" / "streams" / "two"), str(root / "streams" / "two"))
    make_project(tmp_path / "tmp3", BASE, folder="three")
    shutil.move(str(tmp_path / "tmp3" / "streams" / "three"), str(root / "streams" / "three"))
    project, problems = load_project(root)
    assert sorted((p.location.path, p.code) for p in problems) == [
        ("streams/one/stream.yaml", "E113"),
        ("streams/two/stream.yaml", "E104"),
    ]
    assert [s.id for s in project.streams] == ["three"]


def test_spec_example_with_every_optional_key_loads(tmp_path: Path) -> None:
    # tests/data/foundation/stream_full.yaml is STREAM_YAML.md's example, verbatim
    root = tmp_path / "proj"
    stream = root / "streams" / "checkout"
    (stream / "data").mkdir(parents=True)
    shutil.copy(FOUNDATION / "stream_full.yaml", stream / "stream.yaml")
    (stream / "data" / "events.csv").write_text("item_id,timestamp,state\n")
    (stream / "data" / "items.csv").write_text("item_id\n")
    project, problems = load_project(root)
    assert problems == []
    (config,) = project.streams
    d = config.definition
    assert config.id == "checkout"
    assert d.name == "Feature delivery"
    assert d.owner == "Checkout team" and d.group == "Payments/Checkout"
    assert d.timezone == "Europe/Berlin"
    assert d.as_of is not None and d.as_of.isoformat() == "2026-10-01T00:00:00+00:00"
    assert [s.kind for s in config.sources] == ["events-csv", "items-csv"]
    assert [s.id for s in d.stages] == [
        "backlog",
        "dev",
        "review-queue",
        "review",
        "done",
        "dropped",
    ]
    assert d.stage("dev").wip_limit == 6
    assert d.stage("dropped").states == ("Won't Do", "Duplicate", "Cancelled")
    assert d.commitment == "dev"
    assert d.blocked.states == ("Blocked",)
    assert d.item_types == {"Story": "feature", "Bug": "defect"}
    assert d.exclude.types == ("Sub-task", "Epic")
    assert (
        str(d.periods["baseline"].start) == "2026-01-01" and d.periods["current"].label == "Q3 2026"
    )
    assert d.targets.lead_time_p85_days == 30 and d.targets.flow_efficiency == 0.25
    assert d.events[0].stage == "review-queue"


def test_item_types_may_map_a_tracker_type_to_other(tmp_path: Path) -> None:
    """`other` is one of the five flow types (METRICS.md flow distribution): mapping a tracker
    type to it explicitly is accepted, and an item of that type counts as `other`, like an
    unlisted type. Before, `{Task: other}` was rejected with E104."""
    from generator.metrics.prepare import prepare
    from generator.sources.collect import read_stream

    root = make_project(tmp_path / "proj", BASE + "item_types:\n  Task: other\n  Story: feature\n")
    stream = root / "streams" / "demo"
    (stream / "data" / "items.csv").write_text("item_id,type\nA-1,Task\nA-2,Story\nA-3,Bug\n")
    text = (stream / "stream.yaml").read_text().replace(
        "    path: data/events.csv\n",
        "    path: data/events.csv\n  - kind: items-csv\n    path: data/items.csv\n",
    )
    (stream / "stream.yaml").write_text(text)
    project, problems = load_project(root)
    assert problems == [], [p.format() for p in problems]
    (config,) = project.streams
    assert config.definition.item_types == {"Task": "other", "Story": "feature"}
    data = read_stream(root, config)
    prep = prepare(data.events, data.items, config.definition, config.stage_map)
    flows = dict(zip(prep.items["item_id"].astype(str), prep.items["flow"], strict=True))
    # Task -> other (listed), Story -> feature (listed), Bug -> other (not listed)
    assert {k: FLOW_TYPES[v] for k, v in flows.items()} == {"A-1": "other", "A-2": "feature", "A-3": "other"}
