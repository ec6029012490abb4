"""What `vsm serve` watches: file events that are saves, and every path a stream's sources name."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from watchdog.events import FileSystemEvent, FileSystemEventHandler

from generator.cache import CACHE_DIR

if TYPE_CHECKING:
    from generator.serve.server import DevServer


WRITES = {
    "created",
    "modified",
    "deleted",
    "moved",
    "closed",
}  # not opened / closed_no_write: reading is no change
SCRATCH_SUFFIXES = ("~", ".swp", ".swx", ".swo", ".tmp", ".part", ".crdownload")
SKIPPED_DIRS = {
    CACHE_DIR,
    "_site",
    "__pycache__",
    ".venv",
    "node_modules",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


class FileEvents(FileSystemEventHandler):
    def __init__(self, server: DevServer) -> None:
        self.server = server

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in WRITES or (
            event.is_directory and event.event_type in ("modified", "closed")
        ):
            return
        paths = [os.fsdecode(event.src_path)] + (
            [os.fsdecode(event.dest_path)] if event.dest_path else []
        )
        self.server.notice(Path(p) for p in paths)


def declared_paths(root: Path) -> list[Path]:
    """Every path a stream.yaml's sources name, valid or not, so that creating a missing file is seen."""
    from generator.sources import KINDS

    names = {name for module in KINDS.values() for name in module.Options.path_fields}
    out = []
    for definition in sorted((root / "streams").glob("*/stream.yaml")):
        try:
            doc = yaml.safe_load(definition.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        sources = doc.get("sources") if isinstance(doc, dict) else None
        for source in sources if isinstance(sources, list) else []:
            if isinstance(source, dict):
                out += [
                    definition.parent / value
                    for key, value in source.items()
                    if key in names and isinstance(value, str) and value
                ]
    return out
