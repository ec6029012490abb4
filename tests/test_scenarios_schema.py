"""One invalid `scenarios:` block per error code: the code, the exact location and a useful hint.

Every case appends a scenarios block to test_schema.BASE (stages: backlog wait, dev active,
done done; lines 1-15), so the block's lines are:

    16  scenarios:
    17    - id: a
    18      name: A
    19      changes:
    20        - <the change under test>
    21        - <a second change, when the case has one>

Columns are 1-based. On line 20, `      - wait: {stage: X, cut: 0.5}` puts X at column 23
(6 spaces, '- ' up to column 8, 'wait: ' to 14, '{' at 15, 'stage: ' to 22).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_schema import BASE, YAML, make_project, problems_for

from generator.validate.stream import load_project


def block(*changes: str, head: str = "  - id: a\n    name: A\n") -> str:
    return BASE + "scenarios:\n" + head + "    changes:\n" + "".join(f"      - {c}\n" for c in changes)


WAIT = "wait: {stage: backlog, cut: 0.5}"

# (case id, stream.yaml text, code, line, col, text the hint must contain, text the message must contain)
# fmt: off
CASES = [
    # E160: the second scenario reuses id 'a'; its id value is on line 21 (after line 20's change), column 9.
    ("E160", block(WAIT) + "  - id: a\n    name: B\n    changes:\n      - " + WAIT + "\n",
     "E160", 21, 9, "its own id", "'a' is used twice"),
    # E161: an entry with no change at all; located at the entry (line 20, column 9).
    ("E161-none", block("{}"), "E161", 20, 9, "one change per list entry", "given: none"),
    # E161: two changes in one entry.
    ("E161-two", block("{wait: {stage: backlog, cut: 0.5}, wip_limit: {stage: dev, limit: 3}}"),
     "E161", 20, 9, "one change per list entry", "given: wait, wip_limit"),
    # E162: a typo in the stage id; column 23, the closest id suggested.
    ("E162", block("wait: {stage: backlg, cut: 0.5}"), "E162", 20, 23, "did you mean 'backlog'?", "'backlg' is not a stage id"),
    # E162: remove_stage's value is the stage itself: column 23 too ('remove_stage: ' is 14 wide).
    ("E162-remove", block("remove_stage: nowhere"), "E162", 20, 23, "use one of: backlog, dev, done", "'nowhere'"),
    # E163: a wait cut on an active stage.
    ("E163-wait", block("wait: {stage: dev, cut: 0.5}"), "E163", 20, 23, "name a stage of kind wait", "'dev' is a active stage"),
    # E163: only a queue can be removed.
    ("E163-remove", block("remove_stage: dev"), "E163", 20, 23, "only a queue", "'dev' is a active stage"),
    # E163: the first stage sends nothing back; 'rework: {stage: ' puts the id at column 25.
    ("E163-rework-first", block("rework: {stage: backlog, cut: 0.5}"), "E163", 20, 25, "sends work back", "the first stage"),
    # E163: a WIP limit on a done stage; 'wip_limit: {stage: ' puts the id at column 28.
    ("E163-wip-done", block("wip_limit: {stage: done, limit: 3}"), "E163", 20, 28, "wait or an active stage", "'done' is a done stage"),
    # E164: the same queue removed after being cut; located at the second entry (line 21, column 9).
    ("E164-removed", block(WAIT, "remove_stage: backlog"), "E164", 21, 9, "once per scenario", "contradicts changes[0]"),
    # E164: the same change twice on one stage.
    ("E164-twice", block("wip_limit: {stage: dev, limit: 3}", "wip_limit: {stage: dev, limit: 4}"),
     "E164", 21, 9, "once per scenario", "wip_limit on 'dev'"),
    # E104: a cut above 1 (after 'backlog, cut: ' the value is at column 37), a zero cut, and a
    # zero limit ('wip_limit: {stage: dev, limit: ' puts it at column 40).
    ("E104-cut-high", block("wait: {stage: backlog, cut: 1.5}"), "E104", 20, 37, "allowed values", "less than or equal to 1"),
    ("E104-cut-zero", block("wait: {stage: backlog, cut: 0}"), "E104", 20, 37, "allowed values", "greater than 0"),
    ("E104-limit", block("wip_limit: {stage: dev, limit: 0}"), "E104", 20, 40, "allowed values", "greater than 0"),
    # E104: an id that is not an id (line 17, column 9), and an empty changes list (line 19, column 14).
    ("E104-id", BASE + "scenarios:\n  - id: Rota!\n    name: A\n    changes:\n      - " + WAIT + "\n",
     "E104", 17, 9, "lowercase letters", "scenarios[0].id"),
    ("E104-empty", BASE + "scenarios:\n  - id: a\n    name: A\n    changes: []\n", "E104", 19, 14, "allowed values", "at least one change"),
    # E101: an unknown key beside the right ones, at the key (column 42); the hint names the closest.
    ("E101", block("wait: {stage: backlog, cut: 0.5, cutt: 0.5}"), "E101", 20, 42, "did you mean 'cut'?", "unknown key 'cutt'"),
    # E102: a scenario without a name, located at the scenario mapping (line 17, column 5).
    ("E102", block(WAIT, head="  - id: a\n"), "E102", 17, 5, "add 'name:'", "required key 'name'"),
    # E103: changes given as a mapping instead of a list (line 19, column 14).
    ("E103", BASE + "scenarios:\n  - id: a\n    name: A\n    changes: {wait: {stage: backlog, cut: 0.5}}\n",
     "E103", 19, 14, "expected form", "expected a list"),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "code", "line", "col", "hint", "message"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_each_scenario_error(
    tmp_path: Path, text: str, code: str, line: int, col: int, hint: str, message: str
) -> None:
    problems = problems_for(tmp_path, text)
    assert [p.code for p in problems] == [code], [p.format() for p in problems]
    (p,) = problems
    assert p.severity == "error"
    assert (p.location.path, p.location.line, p.location.col) == (YAML, line, col), p.format()
    assert hint in p.hint, p.format()
    assert message in p.message, p.format()


def test_valid_scenarios_load(tmp_path: Path) -> None:
    text = block(
        WAIT,
        "wip_limit: {stage: dev, limit: 3}",
        "rework: {stage: done, cut: 1}",
        head="  - id: a\n    name: A\n    description: Why *this* helps\n",
    )
    text += "  - id: b\n    name: B\n    changes:\n      - remove_stage: backlog\n"
    project, problems = load_project(make_project(tmp_path / "proj", text))
    assert problems == []
    (stream,) = project.streams
    a, b = stream.definition.scenarios
    assert [c.kind for c in a.changes] == ["wait", "wip_limit", "rework"]
    assert [c.stage for c in a.changes] == ["backlog", "dev", "done"]
    assert (b.id, b.changes[0].kind, b.changes[0].stage) == ("b", "remove_stage", "backlog")


def test_every_problem_of_a_block_at_once(tmp_path: Path) -> None:
    text = block("wait: {stage: dev, cut: 0.5}", "remove_stage: nowhere", "{}")
    codes = sorted(p.code for p in problems_for(tmp_path, text))
    assert codes == ["E161", "E162", "E163"]
