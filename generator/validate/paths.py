"""Paths in stream.yaml stay inside the project: relative, no escaping with '..'."""

from __future__ import annotations

from pathlib import Path, PurePosixPath, PureWindowsPath


def unsafe_reason(raw: str, base: Path, project: Path) -> str | None:
    """Why `raw` (relative to `base`) is not allowed, or None when it stays in the project."""
    if not raw.strip():
        return "the path is empty"
    if "\x00" in raw:
        return "the path contains a NUL character"
    if (
        PurePosixPath(raw).is_absolute()
        or PureWindowsPath(raw).is_absolute()
        or PureWindowsPath(raw).drive
    ):
        return "absolute paths are not allowed"
    if raw.startswith("~"):
        return "paths starting with '~' are not allowed"
    target = (base / raw).resolve()
    root = project.resolve()
    if target != root and root not in target.parents:
        return "the path leads outside the project"
    return None
