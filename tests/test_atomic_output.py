"""write.py: the site folder is replaced all at once, and only when everything was written."""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from generator.cli import main
from generator.write import UnsafeOutputPath, write_site

FOUNDATION = Path(__file__).resolve().parent / "data" / "foundation"


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) under `folder`, by relative path, hidden ones included."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None)
        for p in sorted(folder.rglob("*"))
    }


def leftovers(parent: Path, name: str) -> list[str]:
    """Staging or backup folders write_site may have left beside `name`."""
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f".{name}."))


OLD = {
    "index.html": b"<html>old home</html>",
    "streams/demo/index.html": b"<html>old stream</html>",
    "streams/gone/index.html": b"<html>a stream that no longer exists</html>",
    "assets/site.css": b"body{}",
}
NEW = {
    "index.html": b"<html>new home</html>",
    "streams/demo/index.html": b"<html>new stream</html>",
    "streams/demo/data/items.csv": b"item_id\nA-1\n",
}


@pytest.fixture
def old_site(tmp_path: Path) -> Path:
    out = tmp_path / "_site"
    write_site(OLD, out)
    return out


def test_writes_every_file(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "_site"  # parents are created
    write_site(NEW, out)
    assert {k: v for k, v in snapshot(out).items() if v is not None} == NEW
    assert leftovers(out.parent, "_site") == []


def test_success_replaces_the_whole_old_site(old_site: Path, tmp_path: Path) -> None:
    write_site(NEW, old_site)
    files = {k: v for k, v in snapshot(old_site).items() if v is not None}
    assert files == NEW  # nothing of the old site survives, e.g. streams/gone/
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_empty_site_is_allowed(old_site: Path) -> None:
    write_site({}, old_site)
    assert snapshot(old_site) == {}


def test_unchanged_files_are_linked_from_the_previous_site(tmp_path: Path) -> None:
    """vsm serve passes the files `out` holds: a file with the same bytes (the same object, or an
    equal copy) is a hard link to the previous site's (the same inode); changed and new files
    are written; the result is the same files as a plain write."""
    out = tmp_path / "_site"
    write_site(OLD, out, previous={})
    inodes = {rel: (out / rel).stat().st_ino for rel in OLD}
    css = OLD["assets/site.css"]
    site = {**NEW, "assets/site.css": bytes(bytearray(css)), "streams/gone/index.html": OLD["streams/gone/index.html"]}
    write_site(site, out, previous=OLD)
    assert {k: v for k, v in snapshot(out).items() if v is not None} == site
    assert (out / "assets/site.css").stat().st_ino == inodes["assets/site.css"]  # an equal copy: linked
    assert (out / "streams/gone/index.html").stat().st_ino == inodes["streams/gone/index.html"]  # the same object
    assert (out / "index.html").stat().st_ino != inodes["index.html"]  # changed: written
    assert leftovers(tmp_path, "_site") == []


class FailingMapping(Mapping[str, bytes]):
    """A files mapping that breaks after `good` files were read (a render bug, a full disk)."""

    def __init__(self, files: dict[str, bytes], good: int, *, in_iter: bool = False) -> None:
        self.files = files
        self.good = good
        self.in_iter = in_iter
        self.reads = 0

    def __getitem__(self, key: str) -> bytes:
        if self.reads >= self.good:
            raise RuntimeError("rendering failed midway")
        self.reads += 1
        return self.files[key]

    def __iter__(self) -> Iterator[str]:
        if self.in_iter:
            yield next(iter(self.files))
            raise RuntimeError("iteration failed midway")
        yield from self.files

    def __len__(self) -> int:
        return len(self.files)


@pytest.mark.parametrize(
    "mapping",
    [FailingMapping(NEW, 2), FailingMapping(NEW, 0), FailingMapping(NEW, 99, in_iter=True)],
    ids=["after-two-files", "first-file", "iteration"],
)
def test_failure_midway_leaves_old_site_untouched(
    old_site: Path, tmp_path: Path, mapping: FailingMapping
) -> None:
    before = snapshot(old_site)
    with pytest.raises(RuntimeError, match="midway"):
        write_site(mapping, old_site)
    assert snapshot(old_site) == before
    assert leftovers(tmp_path, "_site") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]


def test_failure_without_old_site_creates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "_site"
    with pytest.raises(RuntimeError):
        write_site(FailingMapping(NEW, 1), out)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["../x", "../../etc/cron.d/x", "/tmp/x", "a/../../x", ""])
def test_unsafe_output_path(old_site: Path, tmp_path: Path, bad: str) -> None:
    before = snapshot(old_site)
    # 'zzz' sorts after the bad key so some files are already staged when it is reached
    files = {**NEW, bad: b"escaped", "zzz.html": b"late"}
    with pytest.raises(UnsafeOutputPath):
        write_site(files, old_site)
    assert snapshot(old_site) == before
    # no 'x' beside it, no temp folders
    assert sorted(p.name for p in tmp_path.iterdir()) == ["_site"]
    assert not (tmp_path / "x").exists()


def test_out_given_relative_or_with_trailing_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write_site(OLD, Path("site"))
    write_site(NEW, Path("site/../site"))
    assert {k: v for k, v in snapshot(tmp_path / "site").items() if v is not None} == NEW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]


# ---------------------------------------------------------------- end to end


def copy_project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    shutil.copytree(FOUNDATION / "project", root)
    return root


def test_failed_builds_keep_the_previous_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # one good build, then two failing ones (a broken definition, an unreadable data file)
    root = copy_project(tmp_path)
    assert main(["build", "--project", str(root), "--quiet"]) == 0
    site = root / "_site"
    assert (site / "index.html").is_file()
    assert (site / "streams" / "demo" / "index.html").is_file()
    before = snapshot(site)
    capsys.readouterr()

    yaml_path = root / "streams" / "demo" / "stream.yaml"
    good_yaml = yaml_path.read_text()
    yaml_path.write_text(good_yaml.replace("commitment: dev", "commitment: nowhere"))
    assert main(["build", "--project", str(root), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "streams/demo/stream.yaml:" in err and "error[E113]" in err
    assert "the previous site is unchanged" in err
    assert snapshot(site) == before
    assert leftovers(root, "_site") == []

    yaml_path.write_text(good_yaml)
    (root / "streams" / "demo" / "data" / "events.csv").write_bytes(b"")
    assert main(["build", "--project", str(root), "--quiet"]) == 1
    assert "streams/demo/data/events.csv:1: error[E200]" in capsys.readouterr().err
    assert snapshot(site) == before
    assert leftovers(root, "_site") == []
