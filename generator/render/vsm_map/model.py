"""What the map shows, as data: the stages, their figures (current, baseline, verdict) and the totals, built from a period's summary (MAP.md)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from generator.render.format import day

Unit = Literal["days", "share", "count", "rate", "per_item"]

# What each figure measures, from which event to which (shown on hover/focus and in the table).
DEFINITIONS = {
    "mean": "mean time in the stage per completed item of the period: from entering the stage to leaving it, every visit counted, blocked time included (0 for items that skipped it)",
    "p50": "median time in the stage, over the completed items that visited it (entering to leaving, all visits summed)",
    "p85": "85th percentile of the time in the stage, over the completed items that visited it",
    "items_through": "completed items of the period that entered the stage at least once",
    "hand_offs": "mean changes of actor credited to this stage per completed item (a change counts for the stage the item is in after it)",
    "pct_complete_accurate": "among the completed items that visited the stage, the share not sent back to it or an earlier stage from a later one after first entering it",
    "wip": "items in the stage at the period's as_of (blocked items count in the stage they stay in)",
    "lead_time_mean": "created to done, mean over the period's completed items (the sum of the ladder)",
    "lead_time_p50": "created to done, median over the period's completed items",
    "lead_time_p85": "created to done, 85th percentile over the period's completed items",
    "process_days_mean": "time in active stages while not blocked, mean per completed item",
    "flow_efficiency": "sum of process time / sum of lead time over the completed items (a ratio of sums)",
    "rolled_pct_complete_accurate": "the product of the %C&A of the active stages that completed items visited",
    "throughput_per_week": "completed items / weeks of the period (up to its as_of)",
    "wip_now": "items past the commitment point, not done or cancelled, at the period's as_of",
    "wip_mean": "mean of the WIP counted at the end of each day of the period",
    "cycle_time_p85": "commitment to done, 85th percentile over the period's completed items",
    "cancelled": "items cancelled in the period (by the instant they entered a cancelled stage)",
    "created_per_week": "items created in the period per week: the demand (lead time starts at creation)",
    "committed_per_week": "items that passed the commitment point in the period per week",
}


@dataclass(frozen=True)
class Figure:
    """One number on the map. `key` is its metrics.json comparison key; `better` the direction of good."""

    key: str
    label: str
    value: float | None
    unit: Unit
    baseline: float | None = None
    # a baseline period was given: show 'was ...' even when its value is missing
    has_baseline: bool = False
    # the comparison's verdict for `key`, when there is one
    verdict: str | None = None
    better: Literal["lower", "higher"] | None = None
    definition: str = ""
    # a future-state map's figure: the baseline is the measured value, shown under the box when the
    # projection changes it (there is no test, so no verdict)
    projected: bool = False


@dataclass(frozen=True)
class MapStage:
    """An active (process box) or wait (queue) stage. `figures`: mean, p50, p85, items_through, then
    hand_offs and pct_complete_accurate for active stages (keys `stage:<id>:<name>`)."""

    id: str
    label: str
    kind: Literal["active", "wait"]
    mean_days: float | None
    figures: tuple[Figure, ...]
    wip_limit: int | None = None

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.key == f"stage:{self.id}:{name}"), None)


@dataclass(frozen=True)
class ProcessMark:
    """A stream `events:` entry drawn as a burst: on its stage's column, or in the header when stage is None."""

    date: str
    label: str
    stage: str | None = None


@dataclass(frozen=True)
class Rung:
    """One rung of the timeline ladder: `days` is a mean per completed item."""

    anchor: str  # "start" (unmapped), a stage id, or "end" (done/cancelled stages before the final done)
    level: Literal["wait", "process"]
    days: float
    tag: str = ""  # "", "unmapped", "blocked", "before done"


@dataclass(frozen=True)
class MapModel:
    """Everything the map shows, already computed (see docs/map.md for each field's meaning)."""

    stream_name: str
    period_label: str
    period_dates: str = ""
    as_of_text: str = ""
    owner: str | None = None
    baseline_label: str | None = None
    completed: int = 0
    stages: tuple[MapStage, ...] = ()
    entry_label: str = ""
    # the drawn stage the commitment marker precedes; None: before the customer
    commitment: str | None = None
    bottleneck: str | None = None
    arrivals: Figure | None = None
    committed_arrivals: Figure | None = None
    throughput: Figure | None = None
    lead_mean: Figure | None = None
    lead_p50: Figure | None = None
    lead_p85: Figure | None = None
    totals: tuple[Figure, ...] = ()
    unmapped_days: float = 0.0
    unmapped_items: int = 0
    end_stage_days: tuple[tuple[str, float], ...] = ()
    process_events: tuple[ProcessMark, ...] = ()
    items_link: str | None = None
    quality_link: str | None = None
    wip_by_stage: Mapping[str, int] = field(default_factory=dict)
    blocked_by_stage: Mapping[str, float] = field(default_factory=dict)
    rework: tuple[tuple[str, str, float], ...] = ()
    rework_min_share: float = 0.02
    # done stage ids: a move back from one of them starts at the customer
    customer_ids: tuple[str, ...] = ()
    # a future-state map: the scenario's name. Marked as a projection (a label, dashed outlines),
    # the baseline is the measured current state, and WIP now (which a projection has no "now"
    # for) gives way to the scenario's WIP limits
    projection: str | None = None

    def ladder(self) -> tuple[Rung, ...]:
        """Rungs in stream order; they add up to the mean lead time of the period's completed items."""
        out = (
            [Rung("start", "wait", self.unmapped_days, "unmapped")]
            if self.unmapped_days > 0
            else []
        )
        for s in self.stages:
            mean = max(s.mean_days or 0.0, 0.0)
            if s.kind == "wait":
                out.append(Rung(s.id, "wait", mean))
                continue
            blocked = min(max(float(self.blocked_by_stage.get(s.id) or 0.0), 0.0), mean)
            out.append(Rung(s.id, "process", mean - blocked))
            if blocked > 0:
                out.append(Rung(s.id, "wait", blocked, "blocked"))
        out += [Rung("end", "wait", d, "before done") for _, d in self.end_stage_days if d > 0]
        return tuple(out)

    def ladder_sums(self) -> tuple[float, float]:
        """(waiting, working): the high and the low rungs added up."""
        rungs = self.ladder()
        wait = sum(r.days for r in rungs if r.level == "wait")
        return wait, sum(r.days for r in rungs if r.level == "process")


# ---------------------------------------------------------------- model


def get_path(data: Mapping[str, Any] | None, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


# (name in the summary's stage entry, label, unit, direction of good) for each stage figure
STAGE_FIGURES: tuple[tuple[str, str, Unit, Any], ...] = (
    ("mean_days", "mean", "days", "lower"),
    ("p50_days", "median", "days", "lower"),
    ("p85_days", "p85", "days", "lower"),
    ("items_through", "items through", "count", None),
)
STAGE_KEYS = {
    "mean_days": "mean",
    "p50_days": "p50",
    "p85_days": "p85",
    "items_through": "items_through",
}
# (comparison key, label, path in the summary, unit, direction of good) for the summary box
TOTALS: tuple[tuple[str, str, tuple[str, ...], Unit, Any], ...] = (
    ("lead_time_mean", "Lead time, mean", ("lead_time", "mean"), "days", "lower"),
    ("lead_time_p50", "Lead time, median", ("lead_time", "p50"), "days", "lower"),
    ("lead_time_p85", "Lead time, p85", ("lead_time", "p85"), "days", "lower"),
    ("process_days_mean", "Process time, mean", ("process_days_mean",), "days", None),
    ("flow_efficiency", "Flow efficiency", ("flow_efficiency",), "share", "higher"),
    (
        "rolled_pct_complete_accurate",
        "Rolled %C&A",
        ("rolled_pct_complete_accurate",),
        "share",
        "higher",
    ),
    ("throughput_per_week", "Throughput", ("throughput_per_week",), "rate", "higher"),
    ("wip_now", "WIP now", ("wip_now",), "count", "lower"),
    ("wip_mean", "WIP mean", ("wip_mean",), "count", "lower"),
    ("cycle_time_p85", "Cycle time, p85", ("cycle_time", "p85"), "days", "lower"),
)


def map_model(
    definition: Any,
    summary: Mapping[str, Any],
    baseline_summary: Mapping[str, Any] | None = None,
    comparison: Mapping[str, Any] | None = None,
    *,
    stream_name: str,
    owner: str | None = None,
    period_label: str,
    period_dates: str | tuple[Any, Any] = "",
    as_of_text: str = "",
    items_link: str | None = None,
    quality_link: str | None = None,
    process_events: Iterable[Mapping[str, Any]] = (),
    wip_by_stage: Mapping[str, int] | None = None,
    blocked_by_stage: Mapping[str, float] | None = None,
    rework: Iterable[tuple[str, str, float]] = (),
    rework_min_share: float = 0.02,
    projection: str | None = None,
) -> MapModel:
    """Pick the map's figures out of a period summary (and baseline, comparison); see docs/map.md.

    With `projection` (a scenario's name) the summary is a projected one and the map a future state.
    """
    base = baseline_summary

    def fig(
        key: str, label: str, path: tuple[str, ...], unit: Unit, better: Any, meaning: str
    ) -> Figure:
        verdict = get_path(comparison, key, "verdict")
        value, was = get_path(summary, *path), get_path(base, *path)
        return Figure(
            key,
            label,
            value,
            unit,
            was,
            base is not None,
            verdict if isinstance(verdict, str) else None,
            better,
            meaning,
            projection is not None,
        )

    stages: list[MapStage] = []
    for s in definition.stages:
        if s.kind not in ("active", "wait"):
            continue
        at, name = ("stages", s.id), s.label
        figs = [
            fig(
                f"stage:{s.id}:{STAGE_KEYS[k]}",
                label,
                (*at, k),
                unit,
                good,
                DEFINITIONS[STAGE_KEYS[k]],
            )
            for k, label, unit, good in STAGE_FIGURES
        ]
        if s.kind == "active":
            if isinstance(summary.get("hand_offs"), Mapping):
                meaning = DEFINITIONS["hand_offs"]
                figs.append(
                    fig(
                        f"stage:{s.id}:hand_offs",
                        "hand-offs",
                        ("hand_offs", "by_stage", s.id),
                        "per_item",
                        None,
                        meaning,
                    )
                )
            meaning = DEFINITIONS["pct_complete_accurate"]
            figs.append(
                fig(
                    f"stage:{s.id}:pct_complete_accurate",
                    "%C&A",
                    (*at, "pct_complete_accurate"),
                    "share",
                    "higher",
                    meaning,
                )
            )
        stages.append(
            MapStage(
                s.id, name, s.kind, get_path(summary, *at, "mean_days"), tuple(figs), s.wip_limit
            )
        )

    totals = [
        fig(key, label, path, unit, good, DEFINITIONS[key])
        for key, label, path, unit, good in TOTALS
    ]
    if projection:  # only what the projection computes (no WIP now, no cancelled items)
        totals = [f for f in totals if f.value is not None]
    if get_path(summary, "cancelled", "count") is not None:
        totals.append(
            fig(
                "cancelled",
                "Cancelled",
                ("cancelled", "count"),
                "count",
                "lower",
                DEFINITIONS["cancelled"],
            )
        )
    baseline_label = None
    if base is not None:
        dates = (
            f" ({day(base['start'])} – {day(base['end'])})"
            if base.get("start") and base.get("end")
            else ""
        )
        baseline_label = f"{base.get('label') or 'baseline'}{dates}"
    if isinstance(period_dates, tuple):
        period_dates = f"{day(period_dates[0])} – {day(period_dates[1])}"
    kinds = {s.id: s.kind for s in definition.stages}
    end_means = [
        (s.label, get_path(summary, "stages", s.id, "mean_days") or 0.0)
        for s in definition.stages
        if s.kind in ("done", "cancelled")
    ]
    return MapModel(
        stream_name=stream_name,
        period_label=period_label,
        period_dates=str(period_dates),
        as_of_text=as_of_text,
        owner=owner,
        baseline_label=baseline_label,
        completed=int(get_path(summary, "lead_time", "count") or 0),
        stages=tuple(stages),
        entry_label=definition.stages[0].label,
        commitment=definition.commitment
        if kinds.get(definition.commitment) in ("active", "wait")
        else None,
        bottleneck=summary.get("bottleneck"),
        arrivals=fig(
            "created_per_week",
            "created",
            ("arrivals", "created_per_week"),
            "rate",
            None,
            DEFINITIONS["created_per_week"],
        ),
        committed_arrivals=fig(
            "committed_per_week",
            "committed",
            ("arrivals", "committed_per_week"),
            "rate",
            None,
            DEFINITIONS["committed_per_week"],
        ),
        throughput=fig(
            "throughput_per_week",
            "done",
            ("throughput_per_week",),
            "rate",
            "higher",
            DEFINITIONS["throughput_per_week"],
        ),
        lead_mean=totals[0],
        lead_p50=totals[1],
        lead_p85=totals[2],
        totals=tuple(totals),
        unmapped_days=float(get_path(summary, "stages", "unmapped", "mean_days") or 0.0),
        unmapped_items=int(get_path(summary, "stages", "unmapped", "items_through") or 0),
        end_stage_days=tuple((label, float(d)) for label, d in end_means if d > 0),
        process_events=tuple(process_mark(e) for e in process_events),
        items_link=items_link,
        quality_link=quality_link,
        wip_by_stage=dict(wip_by_stage or {}),
        blocked_by_stage=dict(blocked_by_stage or {}),
        rework=tuple((str(a), str(b), float(share)) for a, b, share in rework),
        rework_min_share=rework_min_share,
        customer_ids=tuple(s.id for s in definition.stages if s.kind == "done"),
        projection=projection,
    )


def process_mark(event: Mapping[str, Any]) -> ProcessMark:
    when = event.get("date")
    return ProcessMark(
        day(when) if when is not None else "",
        str(event.get("label") or ""),
        str(event["stage"]) if event.get("stage") else None,
    )
