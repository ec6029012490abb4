"""Write the in-memory site to its folder atomically: all of it, or nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath


class UnsafeOutputPath(ValueError):
    pass


def _target(root: Path, rel: str) -> Path:
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise UnsafeOutputPath(rel)
    return root.joinpath(*path.parts)


def write_site(files: Mapping[str, bytes], out: Path) -> None:
    """Write every file into a fresh folder beside `out`, then swap it into place.

    Until the swap the previous site stays as it was; if anything fails before
    it, the temporary folder is removed and `out` is untouched.
    """
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    staging.chmod(0o755)
    try:
        for rel in sorted(files):
            target = _target(staging, rel)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[rel])
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
