"""The command line: help, exit codes (0 ok, 1 invalid input, 2 usage, 3 internal), located messages."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from generator.cli import main

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation"
REPO = Path(__file__).resolve().parent.parent
LOCATED_ERROR = re.compile(r"^streams/demo/stream\.yaml:\d+:\d+: error\[E1\d\d\]: .+$", re.M)


def run(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `vsm argv` (argparse exits via SystemExit for help and usage)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of tests/data/foundation/project: one valid stream 'demo', no warnings."""
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION / "project", root)
    return root


def tree(folder: Path) -> dict[str, bytes | None]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


# ---------------------------------------------------------------- help and usage


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["usage: vsm", "build", "check"]),
        (["build", "--help"], ["usage: vsm build", "--project", "--out", "--strict", "--base-url"]),
        (["check", "--help"], ["usage: vsm check", "--project", "--strict"]),
    ],
    ids=["vsm", "build", "check"],
)
def test_help(argv: list[str], expected: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(argv, capsys)
    assert code == 0
    for text in expected:
        assert text in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--version"], capsys)
    assert code == 0
    assert out.startswith("vsm ")


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run([], capsys)
    assert code == 2
    assert "usage: vsm" in err


@pytest.mark.parametrize(
    "argv",
    [["build", "--no-such-option"], ["check", "--out", "x"], ["frobnicate"], ["--bogus"]],
    ids=["build-unknown-option", "check-has-no-out", "unknown-command", "top-unknown-option"],
)
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(argv, capsys)
    assert code == 2
    assert "usage:" in err
    assert "Traceback" not in err


def test_python_dash_m_generator() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "generator", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "usage: vsm" in result.stdout
    assert "build" in result.stdout and "check" in result.stdout


# ---------------------------------------------------------------- build


def test_build_valid_project(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one build covers --out, --strict without warnings, and progress on stderr (stdout stays empty)
    out = tmp_path / "public"
    code, stdout, err = run(
        ["build", "--project", str(project), "--out", str(out), "--strict"], capsys
    )
    assert code == 0, err
    assert stdout == ""
    assert (out / "index.html").is_file()
    assert (out / "streams" / "demo" / "data" / "items.csv").is_file()
    assert not (project / "_site").exists()
    assert "demo: reading" in err
    assert "0 warning(s), 0 error(s)" in err
    assert "wrote" in err and f"site: {out / 'index.html'}" in err


def test_invalid_stream_yaml(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # two errors: states given as a string (E103, with its hint) and an unknown key (E101)
    yaml_path = project / "streams" / "demo" / "stream.yaml"
    edit(yaml_path, "states: [In Progress]", "states: In Progress")
    edit(yaml_path, "timezone: UTC", "timezone: UTC\nownr: Team")
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert code == 1
    assert len(LOCATED_ERROR.findall(err)) == 2, err
    assert re.search(
        r"^streams/demo/stream\.yaml:\d+:\d+: error\[E103\]: stages\[1\]\.states: .*'In Progress'$",
        err,
        re.M,
    ), err
    assert '\n  hint: write states: ["In Progress"]' in err
    assert "\n  hint: did you mean 'owner'?" in err
    assert "Traceback" not in err
    assert "nothing written" in err
    assert not (project / "_site").exists()


def test_impossible_date_is_invalid_input_not_a_crash(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit(project / "streams" / "demo" / "stream.yaml", "end: 2026-02-28", "end: 2026-02-30")
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert "internal error" not in err
    assert code == 1
    assert re.search(r"^streams/demo/stream\.yaml:\d+:\d+: error\[E10\d\]", err, re.M)


def test_vsm_yaml_not_utf8(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "vsm.yaml").write_bytes("title: Caf\xe9\n".encode("latin-1"))
    code, _, err = run(["check", "--project", str(project)], capsys)
    assert "internal error" not in err
    assert code == 1
    assert "vsm.yaml" in err and "error[E100]" in err


def test_no_streams_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["build", "--project", str(tmp_path), "--quiet"], capsys)
    assert code == 1
    assert "streams: error[E130]" in err
    assert "hint:" in err
    assert not (tmp_path / "_site").exists()


def test_unreadable_csv(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "streams" / "demo" / "data" / "events.csv").write_bytes(b"\x00\x01\x02binary")
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert code == 1
    assert "streams/demo/data/events.csv:1: error[E200]: cannot read this CSV file" in err
    assert "\n  hint: " in err
    assert "Traceback" not in err
    assert not (project / "_site").exists()


def test_missing_csv_column(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(
        project / "streams" / "demo" / "data" / "events.csv",
        "item_id,timestamp,state",
        "item_id,timestamp,stat",
    )
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert code == 1
    assert "streams/demo/data/events.csv:1: error[E201]: required column 'state' is missing" in err
    assert "hint: did you mean 'stat'?" in err


def add_bad_rows(project: Path) -> None:
    # events.csv has 12 rows on lines 2-13; these become lines 14-15
    with (project / "streams" / "demo" / "data" / "events.csv").open("a") as f:
        f.write("A-4,not a time,Done\n")  # line 14: W202, row skipped
        f.write("A-4,2026-02-13T10:00:00Z,Done,extra\n")  # line 15: W206, row skipped


def test_bad_rows_only_warn_and_build(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_bad_rows(project)
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert code == 0, err
    assert re.search(
        r"^streams/demo/data/events\.csv:14: warning\[W202\]: timestamp 'not a time'", err, re.M
    ), err
    assert re.search(r"^streams/demo/data/events\.csv:15: warning\[W206\]: ", err, re.M), err
    assert "error[" not in err
    assert (project / "_site" / "index.html").is_file()
    # the same warnings reach the data-quality page
    quality = (project / "_site" / "streams" / "demo" / "quality" / "index.html").read_text()
    assert "W202" in quality and "W206" in quality


def test_bad_rows_with_strict_fail_and_write_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    add_bad_rows(project)
    code, _, err = run(["build", "--project", str(project), "--quiet", "--strict"], capsys)
    assert code == 1
    assert "warning[W202]" in err
    assert "--strict" in err
    assert not (project / "_site").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".") and p.name != ".vsm-cache"] == []


def test_internal_error_exit_3_without_traceback(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("kaboom")

    import generator.build

    monkeypatch.setattr(generator.build, "build", boom)
    monkeypatch.delenv("VSM_DEBUG", raising=False)
    code, _, err = run(["build", "--project", str(project), "--quiet"], capsys)
    assert code == 3
    assert "internal error: RuntimeError: kaboom" in err and "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(RuntimeError, match="kaboom"):
        main(["build", "--project", str(project), "--quiet", "--debug"])


# ---------------------------------------------------------------- check


def test_check_valid_project_writes_nothing(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tree(project)
    code, _, err = run(["check", "--project", str(project)], capsys)
    assert code == 0, err
    assert "0 error(s)" in err
    assert tree(project) == before
    assert not (project / "_site").exists()


def test_check_reports_every_problem(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edit(project / "streams" / "demo" / "stream.yaml", "kind: active", "kind: activ")
    (project / "streams" / "demo" / "data" / "items.csv").write_bytes(b"")
    before = tree(project)
    code, _, err = run(["check", "--project", str(project)], capsys)
    assert code == 1
    # the definition error; the data files of a stream whose definition is invalid are not read
    assert re.search(
        r"^streams/demo/stream\.yaml:\d+:\d+: error\[E104\]: stages\[1\]\.kind", err, re.M
    ), err
    assert "hint: did you mean 'active'?" in err
    assert tree(project) == before


def test_check_data_errors_and_warnings(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_bad_rows(project)
    code, _, err = run(["check", "--project", str(project)], capsys)
    assert code == 0
    assert "streams/demo/data/events.csv:14: warning[W202]" in err
    code, _, err = run(["check", "--project", str(project), "--strict"], capsys)
    assert code == 1
    (project / "streams" / "demo" / "data" / "items.csv").write_bytes(b"\xff\xfe\x00\x00")
    code, _, err = run(["check", "--project", str(project)], capsys)
    assert code == 1
    assert "streams/demo/data/items.csv:1: error[E200]" in err
    assert not (project / "_site").exists()
