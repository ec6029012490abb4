"""The stream.yaml schema (STREAM_YAML.md), as frozen pydantic models.

Field-level rules live here; rules that relate fields to each other (stage
order, state listed twice, commitment) live in validate/rules.py so that each
gets its own error code.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9_-]*$"
STREAM_ID_RE = re.compile(r"^[a-z][a-z0-9-]*$")
FlowType = Literal["feature", "defect", "risk", "debt", "other"]
FLOW_TYPES: tuple[str, ...] = ("feature", "defect", "risk", "debt", "other")
StageKind = Literal["wait", "active", "done", "cancelled"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Stage(Strict):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str | None = None
    states: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], Field(min_length=1)]
    kind: StageKind
    wip_limit: Annotated[int, Field(gt=0)] | None = None

    @property
    def label(self) -> str:
        return self.name or self.id


class Blocked(Strict):
    states: tuple[Annotated[str, Field(min_length=1)], ...] = ()


class Exclude(Strict):
    types: tuple[str, ...] = ()


class Period(Strict):
    start: dt.date
    end: dt.date
    label: str | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
        return value


class Targets(Strict):
    lead_time_p50_days: Annotated[float, Field(gt=0)] | None = None
    lead_time_p85_days: Annotated[float, Field(gt=0)] | None = None
    cycle_time_p50_days: Annotated[float, Field(gt=0)] | None = None
    cycle_time_p85_days: Annotated[float, Field(gt=0)] | None = None
    flow_efficiency: Annotated[float, Field(ge=0, le=1)] | None = None
    throughput_per_week: Annotated[float, Field(gt=0)] | None = None
    wip_mean: Annotated[float, Field(gt=0)] | None = None


class ProcessEvent(Strict):
    date: dt.date
    label: Annotated[str, Field(min_length=1)]
    stage: str | None = None


class HowMany(Strict):
    """One "how many items by this date" forecast: a date, or a horizon in weeks or days."""

    date: dt.date | None = None
    weeks: Annotated[int, Field(gt=0, le=156)] | None = None
    days: Annotated[int, Field(gt=0, le=1096)] | None = None
    label: str | None = None

    @field_validator("date", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        if isinstance(value, dt.datetime):
            raise ValueError("expected a date (YYYY-MM-DD), got a date and time")
        return value


ForecastScope = Literal["committed", "all"]


class WhenDone(Strict):
    """One "when will N items be done" forecast: N, or the open items of a scope at as_of."""

    items: Annotated[int, Field(gt=0, le=10_000_000)] | None = None
    scope: ForecastScope | None = None  # None: "committed" (unless items is given)
    label: str | None = None


class Backtest(Strict):
    every_days: Annotated[int, Field(ge=1, le=182)] = 14
    horizon_days: Annotated[int, Field(ge=1, le=365)] = 28
    trials: Annotated[int, Field(ge=100, le=100_000)] = 1_000


class ForecastDef(Strict):
    """`forecast:` in stream.yaml (docs/forecast.md); every key optional."""

    window_weeks: Annotated[int, Field(ge=2, le=104)] = 12
    trials: Annotated[int, Field(ge=100, le=100_000)] = 10_000
    how_many: tuple[HowMany, ...] = (HowMany(weeks=4),)
    when: tuple[WhenDone, ...] = (WhenDone(),)
    sle_days: Annotated[float, Field(gt=0)] | None = None
    backtest: Backtest = Backtest()


class StageCut(Strict):
    """A share of one stage's time (`wait`) or of its send-backs (`rework`) taken away."""

    stage: Annotated[str, Field(min_length=1)]
    cut: Annotated[float, Field(gt=0, le=1)]


class WipCap(Strict):
    """A WIP limit on one stage (`wip_limit` change of a scenario)."""

    stage: Annotated[str, Field(min_length=1)]
    limit: Annotated[int, Field(gt=0)]


CHANGE_KINDS: tuple[str, ...] = ("wait", "remove_stage", "rework", "wip_limit")


class Change(Strict):
    """One change of a scenario: exactly one of its keys is set (rules.py checks it, E161)."""

    wait: StageCut | None = None
    remove_stage: Annotated[str, Field(min_length=1)] | None = None
    rework: StageCut | None = None
    wip_limit: WipCap | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The change keys given in this entry (one when valid)."""
        return tuple(k for k in CHANGE_KINDS if getattr(self, k) is not None)

    @property
    def kind(self) -> str:
        return self.kinds[0]

    @property
    def stage(self) -> str:
        """The stage id the change names."""
        value = getattr(self, self.kind)
        return value if isinstance(value, str) else str(value.stage)


class Scenario(Strict):
    """A what-if future state (docs/scenarios.md): changes applied to the current period's items."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    changes: tuple[Change, ...]

    @field_validator("changes")
    @classmethod
    def _some(cls, value: tuple[Change, ...]) -> tuple[Change, ...]:
        # not Field(min_length=1): that also fires, spuriously, when an entry fails to validate
        if not value:
            raise ValueError("a scenario needs at least one change")
        return value


class StreamDef(Strict):
    """One validated streams/<id>/stream.yaml."""

    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    owner: str | None = None
    group: str | None = None
    timezone: str = "UTC"
    as_of: dt.datetime | None = None
    sources: Annotated[tuple[dict[str, object], ...], Field(min_length=1)]
    stages: Annotated[tuple[Stage, ...], Field(min_length=1)]
    commitment: str
    blocked: Blocked = Blocked()
    item_types: dict[str, FlowType] = Field(default_factory=dict)
    exclude: Exclude = Exclude()
    periods: dict[Annotated[str, Field(pattern=ID_PATTERN)], Period] = Field(default_factory=dict)
    targets: Targets = Targets()
    events: tuple[ProcessEvent, ...] = ()
    forecast: ForecastDef = ForecastDef()
    scenarios: tuple[Scenario, ...] = ()

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        return value

    @field_validator("group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = [p.strip() for p in value.split("/")]
        if not all(parts):
            raise ValueError("a group is a path like 'Portfolio/Program' with no empty parts")
        return "/".join(parts)

    @model_validator(mode="after")
    def _nothing(self) -> StreamDef:
        return self

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)


MEMORY_PATTERN = r"^(auto|\d+(\.\d+)?\s*(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB))$"


class Engine(Strict):
    """vsm.yaml `engine:`: what computes the metrics (docs/scale.md)."""

    kind: Literal["pandas", "dask"] = "pandas"
    scheduler: str | None = None  # a running dask scheduler (tcp://host:8786); none: a LocalCluster
    workers: Annotated[int, Field(gt=0)] | None = None  # LocalCluster only (default: the cores)
    memory_limit: Annotated[str, Field(pattern=MEMORY_PATTERN)] | None = None  # per worker
    partition_events: Annotated[int, Field(gt=0)] = 1_000_000  # events per partition (about)

    @model_validator(mode="after")
    def _local_only(self) -> Engine:
        if self.scheduler and (self.workers is not None or self.memory_limit is not None):
            raise ValueError(
                "workers and memory_limit size the local cluster; a cluster at `scheduler` has its own"
            )
        return self


class ProjectDef(Strict):
    """The optional vsm.yaml at the project root."""

    title: str = "Value streams"
    privacy: bool = False
    noindex: bool = False
    base_url: str | None = None
    engine: Engine = Engine()

    @field_validator("engine", mode="before")
    @classmethod
    def _engine_name(cls, value: object) -> object:
        return {"kind": value} if isinstance(value, str) else value
