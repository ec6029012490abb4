"""What every source kind shares: its options model and what reading it returns.

A source module defines an options model (a pydantic model with a literal
`kind`) and a `read(options, ctx)` function returning a SourceData. The
canonical frames it fills are described here once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import BaseModel, ConfigDict

from generator.errors import Problem

# Canonical event frame: one row per state change.
#   item_id  string   the item's key
#   ts       int64    UTC instant in nanoseconds
#   state    string   the tracker state from this instant on (may be empty when only blocked changes)
#   blocked  int8     1 blocked from here on, 0 not blocked, -1 unchanged
#   actor    string   who made the change, or <NA>
#   source   int16    index of the source in stream.yaml (set by the loader)
#   file     string   project-relative path of the file the row came from
#   line     int64    line of the row in that file (0 when not line-based)
EVENT_COLUMNS = ["item_id", "ts", "state", "blocked", "actor", "source", "file", "line"]

# Canonical item frame: one row per item.
#   item_id string; type string|<NA>; title string|<NA>; created int64 ns|<NA>;
#   url string|<NA>; file string; line int64
ITEM_COLUMNS = ["item_id", "type", "title", "created", "url", "file", "line"]

# Deployment frame: deploy_id, ts (ns), environment, status (success|failure|...), sha, file, line
DEPLOYMENT_COLUMNS = ["deploy_id", "ts", "environment", "status", "sha", "file", "line"]
# Change frame (commits): sha, ts (commit time ns), is_merge (bool), file, line
CHANGE_COLUMNS = ["sha", "ts", "is_merge", "file", "line"]
# Incident frame: incident_id, opened (ns), resolved (ns|<NA>), deploy_id|<NA>, file, line
INCIDENT_COLUMNS = ["incident_id", "opened", "resolved", "deploy_id", "file", "line"]


class SourceOptions(BaseModel):
    """Options shared by every source kind; kinds subclass it with a literal `kind`."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    path: str
    path_fields: ClassVar[tuple[str, ...]] = ("path",)


@dataclass(frozen=True)
class ReadContext:
    """What a reader needs besides its options."""

    project: Path  # absolute project root
    stream_dir: Path  # absolute stream folder
    timezone: str  # IANA zone for naive timestamps
    source_index: int  # position of the source in stream.yaml

    def rel(self, path: Path) -> str:
        """A project-relative POSIX path for messages."""
        try:
            return path.resolve().relative_to(self.project.resolve()).as_posix()
        except ValueError:
            return path.name


def empty_frame(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="object") for c in columns})


@dataclass
class SourceData:
    """What a source contributes: canonical frames, problems, and counts of what was skipped."""

    events: pd.DataFrame | None = None
    items: pd.DataFrame | None = None
    deployments: pd.DataFrame | None = None
    changes: pd.DataFrame | None = None
    incidents: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    # reason -> number of rows skipped (shown on the data-quality page)
    skipped: dict[str, int] = field(default_factory=dict)
    # facts the pages need to say what is unavailable (e.g. "no state history")
    notes: dict[str, Any] = field(default_factory=dict)
    # files read (project-relative), for the build cache and the watcher
    inputs: list[str] = field(default_factory=list)


def check_base_url(value: str | None) -> str | None:
    """Only http(s) base urls: anything else would become a link on every page."""
    if value is None:
        return None
    if not re.match(r"^https?://[^\s/]+", value.strip(), re.I):
        raise ValueError("base_url must start with http:// or https:// and name a host")
    return value.strip().rstrip("/")
