"""`vsm new`: a scaffolded stream passes `vsm check` and `vsm build` at once; never overwrites; ids are validated.

Also `vsm check` on report files (it validates them through load_project).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from generator.cli import main
from generator.scaffold import kinds

REPO = Path(__file__).resolve().parent.parent
JIRA = REPO / "tests" / "data" / "sources" / "jira_small.json"


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    return code, capsys.readouterr().err


def tree(folder: Path) -> dict[str, bytes | None]:
    return {p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def test_scaffold_then_check_and_build_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "proj"
    project.mkdir()  # no streams/ yet: `vsm new` creates it
    code, err = run(["new", "checkout", "--project", str(project)], capsys)
    assert code == 0, err
    stream = project / "streams" / "checkout"
    assert sorted(tree(stream)) == ["data", "data/events.csv", "data/items.csv", "notes.md", "reports", "reports/.gitkeep", "stream.yaml"]
    text = (stream / "stream.yaml").read_text()
    assert text.count("\n#") >= 5 and "docs/stream-yaml.md" in text  # commented
    for csv in ("events.csv", "items.csv"):
        rows = (stream / "data" / csv).read_text().splitlines()
        assert len(rows) >= 3 and rows[0].startswith("item_id,")  # a header and example rows
    code, err = run(["check", "--project", str(project), "--strict"], capsys)
    assert code == 0, err
    assert "0 warning(s), 0 error(s)" in err
    code, err = run(["build", "--project", str(project), "--out", str(tmp_path / "site"), "--quiet", "--strict"], capsys)
    assert code == 0, err
    assert (tmp_path / "site" / "streams" / "checkout" / "index.html").is_file()


def test_refuses_to_overwrite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["new", "checkout", "--project", str(tmp_path)], capsys)[0] == 0
    (tmp_path / "streams" / "checkout" / "notes.md").write_text("Our own notes.\n")
    before = tree(tmp_path)
    code, err = run(["new", "checkout", "--project", str(tmp_path), "--from", "jira-json"], capsys)
    assert code == 1
    assert re.search(r"^streams/checkout: error\[E123\]: streams/checkout already exists; nothing was written$", err, re.M), err
    assert "  hint: " in err
    assert tree(tmp_path) == before


@pytest.mark.parametrize("bad", ["Checkout", "1st", "team_a", "-x", "a.b", "a b", "../up", "ünï"])
def test_a_bad_id_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], bad: str) -> None:
    code, err = run(["new", "--project", str(tmp_path), "--", bad], capsys)  # `--`: '-x' is an id here, not an option
    assert code == 1
    assert f"streams/{bad}: error[E121]: '{bad}' is not a valid stream id" in err
    assert "  hint: " in err
    assert not (tmp_path / "streams").exists()


@pytest.mark.parametrize("kind", kinds())
def test_from_every_kind_writes_a_valid_definition(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str) -> None:
    """Every kind's scaffold is a valid stream.yaml: the only complaint is the export that is not there yet."""
    code, err = run(["new", "s", "--project", str(tmp_path), "--from", kind], capsys)
    assert code == 0, err
    text = (tmp_path / "streams" / "s" / "stream.yaml").read_text()
    assert f"  - kind: {kind}\n" in text
    code, err = run(["check", "--project", str(tmp_path)], capsys)
    codes = set(re.findall(r"(?:error|warning)\[(\w+)\]", err))
    if kind in ("events-csv", "items-csv"):
        assert code == 0 and not codes, err
    else:
        assert code == 1 and codes == {"E122"}, err  # put the export in place and it checks


def test_from_kind_lists_its_options_commented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["new", "s", "--project", str(tmp_path), "--from", "github-issues"], capsys)[0] == 0
    text = (tmp_path / "streams" / "s" / "stream.yaml").read_text()
    for option in ("events", "label_prefix", "label_states", "open_state", "closed_state", "blocked_label", "include_pull_requests", "id_prefix"):
        assert re.search(rf"^    # {option}:", text, re.M), option


def test_from_jira_json_with_an_export_proposes_stages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["new", "payments", "--project", str(tmp_path), "--from", "jira-json", "--input", str(JIRA)], capsys)
    assert code == 0, err
    stream = tmp_path / "streams" / "payments"
    assert (stream / "data" / JIRA.name).read_bytes() == JIRA.read_bytes()
    text = (stream / "stream.yaml").read_text()
    assert "states: [To Do]\n    kind: wait" in text
    assert "states: [In Progress]\n    kind: active" in text
    assert "states: [Done]\n    kind: done" in text
    assert re.search(r"^commitment: in-progress\b", text, re.M)
    code, err = run(["check", "--project", str(tmp_path)], capsys)
    assert code == 0, err
    code, err = run(["build", "--project", str(tmp_path), "--out", str(tmp_path / "site"), "--quiet"], capsys)
    assert code == 0, err


def test_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = run(["new", "s", "--project", str(tmp_path), "--from", "jira-jsn"], capsys)
    assert code == 2 and "unknown source kind 'jira-jsn'" in err and "did you mean 'jira-json'?" in err
    code, err = run(["new", "s", "--project", str(tmp_path), "--input", str(JIRA)], capsys)
    assert code == 2 and "--input needs --from" in err
    assert not (tmp_path / "streams").exists()


@pytest.mark.parametrize(("argv", "expected"), [
    (["new", "--help"], ["usage: vsm new", "STREAM_ID", "--from", "--input", "--project"]),
    (["serve", "--help"], ["usage: vsm serve", "--project", "--port", "--poll", "--base"]),
    (["build", "--help"], ["--no-cache"]),
])
def test_help(argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for text in expected:
        assert text in out


def test_check_validates_report_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["new", "checkout", "--project", str(tmp_path)], capsys)[0] == 0
    reports = tmp_path / "streams" / "checkout" / "reports"
    (reports / "2026-q1.md").write_text("# Q1\n\nLead time was {{ metric lead_time.p85 }}.\n")
    code, err = run(["check", "--project", str(tmp_path)], capsys)
    assert code == 0, err
    (reports / "2026-q1.md").write_text("# Q1\n\nLead time was {{ metric lead_tme.p85 }}.\n")
    (reports / "Bad Name.md").write_text("# no\n")
    code, err = run(["check", "--project", str(tmp_path)], capsys)
    assert code == 1
    assert re.search(r"^streams/checkout/reports/2026-q1\.md:3(:\d+)?: error\[E141\]: ", err, re.M), err
    assert re.search(r"^streams/checkout/reports/Bad Name\.md: error\[E140\]: ", err, re.M), err
