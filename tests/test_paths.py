"""validate/paths.py: a path in stream.yaml is relative to the stream folder and stays in the project."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from generator.validate.paths import unsafe_reason


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """tmp_path/proj/streams/demo/data/events.csv, plus tmp_path/outside/secret.csv beside the project."""
    root = tmp_path / "proj"
    (root / "streams" / "demo" / "data" / "nested" / "deeper").mkdir(parents=True)
    (root / "streams" / "demo" / "data" / "events.csv").write_text("item_id\n")
    (root / "streams" / "other" / "data").mkdir(parents=True)
    (root / "shared").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("item_id\n")
    return root


def stream(project: Path) -> Path:
    return project / "streams" / "demo"


@pytest.mark.parametrize(
    "raw",
    [
        "data/events.csv",
        "data/nested/deeper/file.csv",  # nested, need not exist yet
        "./data/events.csv",
        "data/../data/events.csv",  # '..' that stays inside the stream folder
        "../other/data/events.csv",  # '..' to a sibling stream: still inside the project
        "../../shared/events.csv",  # up to the project root and down again
        "data",
    ],
)
def test_safe_paths(project: Path, raw: str) -> None:
    assert unsafe_reason(raw, stream(project), project) is None


@pytest.mark.parametrize(
    "raw",
    [
        "/etc/passwd",
        "/",
        "C:\\data\\events.csv",
        "C:/data/events.csv",
        "c:events.csv",
        "\\\\server\\share\\events.csv",
    ],
    ids=[
        "posix",
        "posix-root",
        "windows-backslash",
        "windows-slash",
        "windows-drive-relative",
        "unc",
    ],
)
def test_absolute_paths(project: Path, raw: str) -> None:
    assert unsafe_reason(raw, stream(project), project) == "absolute paths are not allowed"


@pytest.mark.parametrize(
    "raw",
    [
        "../../../outside/secret.csv",
        "../../..",
        "data/../../../../etc/passwd",
        "../../../../../../../../../../etc/passwd",
    ],
)
def test_dotdot_escaping_the_project(project: Path, raw: str) -> None:
    assert unsafe_reason(raw, stream(project), project) == "the path leads outside the project"


@pytest.mark.parametrize("raw", ["~/events.csv", "~", "~root/events.csv"])
def test_home_paths(project: Path, raw: str) -> None:
    assert unsafe_reason(raw, stream(project), project) == "paths starting with '~' are not allowed"


@pytest.mark.parametrize("raw", ["", "   "])
def test_empty_path(project: Path, raw: str) -> None:
    assert unsafe_reason(raw, stream(project), project) == "the path is empty"


def test_nul_character(project: Path) -> None:
    assert (
        unsafe_reason("data/ev\x00ents.csv", stream(project), project)
        == "the path contains a NUL character"
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_file_escaping_the_project(project: Path, tmp_path: Path) -> None:
    link = stream(project) / "data" / "linked.csv"
    link.symlink_to(tmp_path / "outside" / "secret.csv")
    assert (
        unsafe_reason("data/linked.csv", stream(project), project)
        == "the path leads outside the project"
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinked_folder_escaping_the_project(project: Path, tmp_path: Path) -> None:
    (stream(project) / "ext").symlink_to(tmp_path / "outside", target_is_directory=True)
    assert (
        unsafe_reason("ext/secret.csv", stream(project), project)
        == "the path leads outside the project"
    )


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlink_inside_the_project_is_fine(project: Path) -> None:
    (stream(project) / "data" / "alias.csv").symlink_to(stream(project) / "data" / "events.csv")
    assert unsafe_reason("data/alias.csv", stream(project), project) is None


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_project_reached_through_a_symlink(tmp_path: Path, project: Path) -> None:
    # the project root itself is a symlink (e.g. a checkout under a linked home): inner paths stay safe
    alias = tmp_path / "alias"
    alias.symlink_to(project, target_is_directory=True)
    assert unsafe_reason("data/events.csv", alias / "streams" / "demo", alias) is None
    assert (
        unsafe_reason("../../../outside/secret.csv", alias / "streams" / "demo", alias)
        == "the path leads outside the project"
    )
