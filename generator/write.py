"""Write the in-memory site to its folder atomically: all of it, or nothing.

What a reader of `out` can see at any instant is the previous site or the new one, whole: the new
site is written into a staging folder beside `out` and then exchanged with it in one rename
(Linux renameat2 RENAME_EXCHANGE; elsewhere two renames, with a recovery at the next build when
the process died between them). Builds into the same `out` take turns through a lock on the
folder that holds it (flock on the folder itself: no lock file is left), so two at once never mix
their files. A build killed at any point
leaves `out` as it was; its staging folder is removed by the next build.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path, PurePosixPath


class UnsafeOutputPath(ValueError):
    pass


class SiteWriteError(Exception):
    """The output folder cannot be written (read-only, full, no permission); `out` is unchanged."""

    def __init__(self, out: Path, exc: OSError) -> None:
        super().__init__(f"{out}: {exc.strerror or exc}")
        self.out = out
        self.reason = exc.strerror or str(exc)
        self.errno = exc.errno


def _target(root: Path, rel: str) -> Path:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise UnsafeOutputPath(rel)
    return root.joinpath(*path.parts)


def write_site(
    files: Mapping[str, bytes], out: Path, previous: Mapping[str, bytes] | None = None
) -> None:
    """Write every file into a fresh folder beside `out`, then swap it into place.

    Until the swap the previous site stays as it was; if anything fails before it, the staging
    folder is removed, `out` is untouched and SiteWriteError says why.

    `previous` (vsm serve, whose `out` only it writes): the files `out` holds now. A file with
    the same bytes is hard-linked from `out` instead of written again (files are never changed
    in place, so the link is safe). Nothing is hashed: a page the render memo put back is the
    very object written last time, which compares equal at once.
    """
    for rel in files:
        _target(out, rel)  # refuse unsafe names before touching the disk
    out = out.resolve()
    same = {rel for rel, data in files.items() if previous and previous.get(rel) == data}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out):
            _recover(out)
            _write_and_swap(files, out, same)
    except OSError as exc:
        raise SiteWriteError(out, exc) from None


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder holding `out` (released when the process dies)."""
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _recover(out: Path) -> None:
    """Undo what a killed build left: put back a previous site moved aside (a death between the
    two renames of the fallback swap) and remove stale staging folders. Runs under the lock, so
    no other live build owns them."""
    leftovers = sorted(out.parent.glob(f".{out.name}.old-*")) + sorted(
        out.parent.glob(f".{out.name}.new-*")
    )
    for folder in leftovers:
        aside = folder / "site"
        if not out.exists() and folder.name.startswith(f".{out.name}.old-") and aside.is_dir():
            os.replace(aside, out)
        shutil.rmtree(folder, ignore_errors=True)


def _write_and_swap(files: Mapping[str, bytes], out: Path, same: set[str]) -> None:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        staging.chmod(0o755)
        for rel in sorted(files):
            target = _target(staging, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel in same:
                try:
                    os.link(_target(out, rel), target)
                    continue
                except OSError:  # gone, or a file system without hard links: write it
                    pass
            target.write_bytes(files[rel])
        if out.exists() and _exchange(staging, out):
            shutil.rmtree(staging, ignore_errors=True)  # now holds the previous site
            return
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / "site")
        os.replace(staging, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_renameat2 = getattr(_libc, "renameat2", None)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename; False where the system cannot (then the caller
    falls back to two renames)."""
    if _renameat2 is None:
        return False
    rc = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))
