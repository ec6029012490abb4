"""What-if scenarios (docs/scenarios.md): the current period's completed items, replayed with changes.

Each scenario of stream.yaml's `scenarios:` changes how the period's completed items flowed: a wait
stage's time cut by a share, a queue removed, a share of one stage's send-backs avoided (their round
trips taken out of the items' paths), or a WIP limit on a stage (Little's law at unchanged throughput
scales the time in it by limit / mean WIP). The per-item result has the shape of the period's own
figures, so the value stream map draws the future state with the same renderer; lead and cycle time
percentiles and flow efficiency get 95% bootstrap intervals over the items, seeded from a hash of
(stream, scenario, figure, period bounds). With nothing changed, every figure equals the period's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from generator.forecast.paths import (
    ItemPaths,
    Moves,
    complete_accurate,
    item_paths,
    moves_back,
    per_item_stage,
    round_trips,
    stage_wip,
)
from generator.forecast.scenario_text import change_text, sentence
from generator.metrics.aggregates import PeriodResult, days, distribution
from generator.metrics.compare import quantile_interval, ratio_interval
from generator.metrics.engine import ItemResult
from generator.parallel import run_jobs
from generator.validate.schema import Change, Scenario, StreamDef

RESAMPLES = 2000
# each scenario's bootstrap intervals (interval_jobs), in metrics.json's order
INTERVALS = (
    "lead_time_p50",
    "lead_time_p85",
    "cycle_time_p50",
    "cycle_time_p85",
    "flow_efficiency",
)


@dataclass(frozen=True)
class Projection:
    """One scenario's per-item figures for the period's completed items (int64 ns).

    stage, blocked: item x (stages + unmapped); lead, process, wait: per item; cycle: per committed
    item; moves: the moves back left; ca: per active stage index, the per-item %C&A flag.
    """

    stage: np.ndarray
    blocked: np.ndarray
    lead: np.ndarray
    process: np.ndarray
    wait: np.ndarray
    cycle: np.ndarray
    moves: Moves
    ca: dict[int, np.ndarray]


@dataclass
class ScenarioResult:
    """A scenario computed for one period: `figures` is its metrics.json entry, `summary` the
    projected period summary the map draws, `lead_days` the projected lead times (for the chart)."""

    scenario: Scenario
    figures: dict[str, Any]
    summary: dict[str, Any]
    lead_days: np.ndarray = field(repr=False)
    current_lead_days: np.ndarray = field(repr=False)


def seed_for(stream_id: str, scenario_id: str, key: str, period: PeriodResult) -> int:
    """A figure's bootstrap seed: SHA-256 of (stream, scenario, figure, the period's bounds)."""
    text = "\x1f".join(
        [stream_id, scenario_id, key, str(int(period.span.start)), str(int(period.span.end))]
    )
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


def _scaled(matrix: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Columns multiplied by their factor, rounded to whole ns; factor-1 columns stay exact."""
    out = matrix.copy()
    for j in np.flatnonzero(factors != 1.0):  # a loop over the few changed stages
        out[:, j] = np.rint(matrix[:, j] * factors[j]).astype(np.int64)
    return out


def spared_items(trip_ns: np.ndarray, cut: float) -> np.ndarray:
    """Which of the items with a round trip avoid it: a share `cut` of them, evenly spread over
    their round-trip times (ascending, ties in item order), so short and long trips are cut alike.

    The item at rank r (0-based) is spared when floor((r + 1) cut + 1/2) > floor(r cut + 1/2):
    round(k cut) of k items, half up, every second one for a cut of 0.5.
    """
    had = np.flatnonzero(trip_ns > 0)
    ranked = had[np.argsort(trip_ns[had], kind="stable")]
    r = np.arange(len(ranked), dtype=np.float64)
    pick = np.floor((r + 1) * cut + 0.5) > np.floor(r * cut + 0.5)
    out = np.zeros(len(trip_ns), dtype=bool)
    out[ranked[pick]] = True
    return out


def project(
    paths: ItemPaths,
    definition: StreamDef,
    changes: tuple[Change, ...],
    wip: np.ndarray | None,
) -> tuple[Projection, list[dict[str, Any]]]:
    """Apply a scenario's changes to the paths: remove round trips and queues, scale stage times.

    Returns the projection and one entry per change saying what it did (metrics.json `changes`).
    """
    ids = [s.id for s in definition.stages]
    kinds = np.array([s.kind for s in definition.stages] + ["unmapped"])
    factors = np.ones(paths.width)
    removed = np.zeros(len(paths.item), dtype=bool)
    effects: list[dict[str, Any]] = []
    for change in changes:  # a loop over a scenario's few changes
        j = ids.index(change.stage)
        entry: dict[str, Any] = {"kind": change.kind, "stage": change.stage}
        if change.wait is not None:
            factors[j] *= 1 - change.wait.cut
            entry.update(cut=change.wait.cut, factor=1 - change.wait.cut)
        elif change.remove_stage is not None:
            factors[j] = 0.0
            removed |= paths.code == j
            entry.update(factor=0.0)
        elif change.rework is not None:
            trip = round_trips(paths, j)
            trip_ns = np.bincount(
                paths.item[trip], weights=paths.length[trip], minlength=paths.n_items
            )
            spared = spared_items(trip_ns, change.rework.cut)
            removed |= trip & spared[paths.item]
            had = trip_ns > 0
            entry.update(
                cut=change.rework.cut,
                items_sent_back=int(had.sum()),
                items_spared=int(spared.sum()),
                round_trip_days_mean=float(days(trip_ns[had]).mean()) if had.any() else None,
            )
        elif change.wip_limit is not None:
            mean_wip = float(wip[j]) if wip is not None else 0.0
            limit = change.wip_limit.limit
            factor = min(1.0, limit / mean_wip) if mean_wip > 0 else 1.0
            factors[j] *= factor
            entry.update(limit=limit, wip_mean=mean_wip, factor=factor, binding=factor < 1.0)
        effects.append(entry)
    keep = ~removed
    stage = _scaled(per_item_stage(paths, paths.length, keep), factors)
    active = kinds == "active"
    blocked_len = np.where(paths.blocked, paths.length, 0)
    blocked = _scaled(per_item_stage(paths, blocked_len, keep), factors)
    blocked[:, ~active] = 0
    after = _scaled(per_item_stage(paths, paths.length, keep & paths.after_commit), factors)
    lead = stage.sum(axis=1)
    process = (stage[:, active] - blocked[:, active]).sum(axis=1)
    moves = moves_back(paths, keep)
    ca = complete_accurate(paths, keep, moves, [int(j) for j in np.flatnonzero(active)])
    projection = Projection(
        stage, blocked, lead, process, lead - process, after.sum(axis=1), moves, ca
    )
    return projection, effects


def projected_summary(
    projection: Projection,
    definition: StreamDef,
    current: dict[str, Any],
    committed: np.ndarray,
) -> dict[str, Any]:
    """The projection in the shape of aggregates.period_metrics' summary (the keys the map reads),
    computed exactly as aggregates.py computes them; throughput and arrivals are the period's."""
    n = len(projection.lead)
    stages: dict[str, Any] = {}
    ca_values: list[float] = []
    ids = [*(s.id for s in definition.stages), "unmapped"]
    kinds = [*(s.kind for s in definition.stages), "unmapped"]
    for j, (sid, kind) in enumerate(zip(ids, kinds, strict=True)):
        col = projection.stage[:, j]
        visited = col > 0
        entry: dict[str, Any] = {
            "kind": kind,
            "mean_days": float(days(col).mean()) if n else None,
            "p50_days": float(np.quantile(days(col[visited]), 0.5)) if visited.any() else None,
            "p85_days": float(np.quantile(days(col[visited]), 0.85)) if visited.any() else None,
            "items_through": int(visited.sum()),
        }
        if kind == "active":
            entry["blocked_mean_days"] = float(days(projection.blocked[:, j]).mean()) if n else None
            share = float(projection.ca[j][visited].mean()) if visited.any() else None
            entry["pct_complete_accurate"] = share
            if share is not None:
                ca_values.append(share)
        stages[sid] = entry
    process, wait = projection.process, projection.wait
    denominator = float(process.sum(dtype=np.float64) + wait.sum(dtype=np.float64))
    moves = projection.moves
    reworked = np.zeros(n, dtype=bool)
    reworked[moves.item] = True
    return {
        "start": current.get("start"),
        "end": current.get("end"),
        "label": current.get("label"),
        "lead_time": distribution(projection.lead),
        "cycle_time": distribution(projection.cycle[committed]),
        "throughput_per_week": current.get("throughput_per_week"),
        "arrivals": current.get("arrivals"),
        "flow_efficiency": float(process.sum(dtype=np.float64) / denominator)
        if denominator > 0
        else None,
        "process_days_mean": float(days(process).mean()) if n else None,
        "wait_days_mean": float(days(wait).mean()) if n else None,
        "rework_rate": float(reworked.mean()) if n else None,
        "stages": stages,
        "rolled_pct_complete_accurate": float(np.prod(ca_values)) if ca_values else None,
        "rework_moves": rework_moves(moves, ids, n),
        "bottleneck": bottleneck(definition, stages),
    }


def rework_moves(moves: Moves, ids: list[str], n: int) -> list[dict[str, Any]]:
    """Per (from, to) pair of stages, the items that moved back that way at least once, in the
    order of aggregates.py's (sorted by the stage ids): counted over the moves left."""
    if not n or not len(moves.item):
        return []
    w = len(ids)
    once = np.unique((moves.item * w + moves.from_stage) * w + moves.to_stage) % (w * w)
    pairs, counts = np.unique(once, return_counts=True)
    found = sorted(
        (ids[int(p) // w], ids[int(p) % w], int(c))
        for p, c in zip(pairs, counts, strict=True)  # a loop over the few pairs of stages
    )
    return [{"from": a, "to": b, "items": c, "share": float(c / n)} for a, b, c in found]


def bottleneck(definition: StreamDef, stages: dict[str, Any]) -> str | None:
    """The largest mean stage time from the commitment stage on (aggregates.py's rule)."""
    ids = [s.id for s in definition.stages]
    at = ids.index(definition.commitment)
    candidates = [s.id for s in definition.stages[at:] if s.kind in ("wait", "active")]
    means = {
        sid: stages[sid]["mean_days"] for sid in candidates if stages[sid]["mean_days"] is not None
    }
    if not means or max(means.values()) <= 0:
        return None
    return max(means, key=lambda k: (means[k], -candidates.index(k)))


def scenario_results(
    stream_id: str,
    definition: StreamDef,
    result: ItemResult,
    period: PeriodResult,
    scenarios: tuple[Scenario, ...] | None = None,
    resamples: int = RESAMPLES,
) -> dict[str, ScenarioResult]:
    """Every scenario (default: the stream's) for one period's completed items, keyed by id."""
    chosen = definition.scenarios if scenarios is None else scenarios
    if not chosen or not len(period.completed):
        return {}
    n_stages = len(definition.stages)
    paths = item_paths(result, period, n_stages)
    limits = any(c.wip_limit is not None for s in chosen for c in s.changes)
    wip = stage_wip(result, period.span.start, period.span.as_of, n_stages) if limits else None
    committed = period.completed["committed"].notna().to_numpy()
    current_lead = days(period.completed["lead_ns"].to_numpy(dtype=np.int64))
    projected = []
    for scenario in chosen:  # a loop over the stream's few scenarios
        projection, effects = project(paths, definition, scenario.changes, wip)
        summary = projected_summary(projection, definition, period.summary, committed)
        projected.append((scenario, projection, effects, summary))
    # every interval of every scenario at once, on threads: each has its own seeded generator
    jobs = {
        (scenario.id, key): job
        for scenario, projection, _, _ in projected
        for key, job in interval_jobs(
            stream_id, scenario, period, projection, committed, resamples
        ).items()
    }
    found = dict(zip(jobs, run_jobs(list(jobs.values())), strict=True))
    out = {}
    for scenario, projection, effects, summary in projected:
        intervals = {key: found[(scenario.id, key)] for key in INTERVALS}
        figures = scenario_figures(
            scenario, definition, period, projection, summary, effects, intervals, resamples
        )
        out[scenario.id] = ScenarioResult(
            scenario, figures, summary, days(projection.lead), current_lead
        )
    return out


def interval_jobs(
    stream_id: str,
    scenario: Scenario,
    period: PeriodResult,
    projection: Projection,
    committed: np.ndarray,
    resamples: int,
) -> dict[str, Callable[[], tuple[float, float] | None]]:
    """The scenario's bootstrap intervals (INTERVALS, in order) as jobs, each seeded by its key."""

    def seed(key: str) -> int:
        return seed_for(stream_id, scenario.id, key, period)

    cycle = projection.cycle[committed]
    quantiles = (
        ("lead_time_p50", projection.lead, 0.5),
        ("lead_time_p85", projection.lead, 0.85),
        ("cycle_time_p50", cycle, 0.5),
        ("cycle_time_p85", cycle, 0.85),
    )
    jobs: dict[str, Callable[[], tuple[float, float] | None]] = {
        key: partial(quantile_interval, values, q, seed(key), resamples)
        for key, values, q in quantiles
    }
    jobs["flow_efficiency"] = partial(
        ratio_interval, projection.process, projection.wait, seed("flow_efficiency"), resamples
    )
    return jobs


def scenario_figures(
    scenario: Scenario,
    definition: StreamDef,
    period: PeriodResult,
    projection: Projection,
    summary: dict[str, Any],
    effects: list[dict[str, Any]],
    intervals: dict[str, tuple[float, float] | None],
    resamples: int,
) -> dict[str, Any]:
    """The scenario's metrics.json entry: current and projected figures, intervals, sentences."""
    current = period.summary

    def interval(key: str) -> list[float] | None:
        found = intervals[key]
        return list(found) if found is not None else None

    names = {s.id: s.label for s in definition.stages} | {"unmapped": "unmapped"}
    stage_keys = ("mean_days", "p50_days", "p85_days", "items_through")
    figures: dict[str, Any] = {
        "name": scenario.name,
        "description": scenario.description,
        "period": period.span.as_dict(),
        "items": len(projection.lead),
        "changes": [
            {**e, "text": change_text(e, names, period.span.label, len(projection.lead))}
            for e in effects
        ],
        "lead_time": {
            "current": current["lead_time"],
            "projected": summary["lead_time"],
            "p50_interval": interval("lead_time_p50"),
            "p85_interval": interval("lead_time_p85"),
        },
        "cycle_time": {
            "current": current["cycle_time"],
            "projected": summary["cycle_time"],
            "p50_interval": interval("cycle_time_p50"),
            "p85_interval": interval("cycle_time_p85"),
        },
        "flow_efficiency": {
            "current": current["flow_efficiency"],
            "projected": summary["flow_efficiency"],
            "interval": interval("flow_efficiency"),
        },
        **{
            key: {"current": current.get(key), "projected": summary[key]}
            for key in (
                "process_days_mean",
                "wait_days_mean",
                "rework_rate",
                "rolled_pct_complete_accurate",
                "bottleneck",
            )
        },
        "stages": {
            sid: {
                "current": {k: current["stages"][sid][k] for k in stage_keys},
                "projected": {k: entry[k] for k in stage_keys},
            }
            for sid, entry in summary["stages"].items()
            if entry["kind"] in ("wait", "active", "unmapped")
        },
        "resamples": resamples,
    }
    figures["sentence"] = sentence(scenario.name, figures, period.span.label)
    return figures
