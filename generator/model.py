"""Frozen types passed between the pipeline's stages."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from generator.errors import Problem
from generator.validate.schema import ProjectDef, Stage, StreamDef

UNMAPPED = "unmapped"


def normalize_state(name: str) -> str:
    """The loose form states are matched in: NFKC, case folded, all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


@dataclass(frozen=True)
class StageMap:
    """How tracker states map to stages: exact names first, then normalized names."""

    exact: dict[str, str]
    loose: dict[str, str]
    blocked_exact: frozenset[str]
    blocked_loose: frozenset[str]

    @classmethod
    def build(cls, definition: StreamDef) -> StageMap:
        exact: dict[str, str] = {}
        loose: dict[str, str] = {}
        for stage in definition.stages:
            for state in stage.states:
                exact.setdefault(state, stage.id)
                loose.setdefault(normalize_state(state), stage.id)
        blocked = definition.blocked.states
        return cls(exact, loose, frozenset(blocked), frozenset(normalize_state(s) for s in blocked))

    def stage_of(self, state: str) -> str | None:
        """The stage id a state maps to, '' for a blocked state, None when unmapped."""
        if state in self.exact:
            return self.exact[state]
        if state in self.blocked_exact:
            return ""
        norm = normalize_state(state)
        if norm in self.loose:
            return self.loose[norm]
        if norm in self.blocked_loose:
            return ""
        return None


@dataclass(frozen=True)
class StreamConfig:
    """A validated stream definition and where it lives."""

    id: str
    folder: str  # project-relative, e.g. streams/checkout
    definition: StreamDef
    sources: tuple[Any, ...]  # SourceOptions subclasses, in stream.yaml order
    yaml_path: str
    notes_path: str | None
    reports: tuple[Any, ...]  # validate.reports.ReportDef, one per reports/*.md
    stage_map: StageMap

    @property
    def stages(self) -> tuple[Stage, ...]:
        return self.definition.stages

    @property
    def timezone(self) -> str:
        return self.definition.timezone


@dataclass(frozen=True)
class Project:
    """The project: its root, its settings and its streams (valid ones only)."""

    root: str
    settings: ProjectDef
    streams: tuple[StreamConfig, ...]


@dataclass
class StreamData:
    """Everything read for one stream, merged across its sources (canonical frames)."""

    events: pd.DataFrame
    items: pd.DataFrame
    deployments: pd.DataFrame | None
    changes: pd.DataFrame | None
    incidents: pd.DataFrame | None
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    # (items, events) when the events are not held in `events` (the dask engine reads them on its workers)
    counts: tuple[int, int] | None = None
