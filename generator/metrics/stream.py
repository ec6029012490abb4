"""Compute everything for one stream: timelines at as_of, every period as of its own end, problems."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from generator.errors import Location, Problem
from generator.metrics import trends
from generator.metrics.aggregates import (
    PeriodResult,
    cumulative_flow,
    day_ends,
    period_metrics,
    wip_at,
)
from generator.metrics.compare import compare_periods
from generator.metrics.dora import dora_period, dora_weekly
from generator.metrics.engine import ItemResult, timeline_at
from generator.metrics.little import littles_law_check
from generator.metrics.periods import PeriodSpan, local_date, named_periods, quarters, span
from generator.metrics.prepare import NAT, Prepared, prepare
from generator.model import StreamConfig, StreamData
from generator.validate.schema import StreamDef


@dataclass
class StreamMetrics:
    """A stream's computed figures: the full result at as_of, each period's, and problems."""

    config: StreamConfig
    as_of: int | None
    prepared: Prepared | None
    result: ItemResult | None
    periods: dict[str, PeriodResult] = field(default_factory=dict)
    quarters: dict[str, PeriodResult] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    quality: dict[str, Any] = field(default_factory=dict)
    daily: pd.DataFrame | None = (
        None  # day_end (ns), wip, then cumulative flow per stage id, over the whole history
    )
    comparison: dict[str, Any] = field(default_factory=dict)
    littles_law: dict[str, Any] = field(default_factory=dict)
    buckets: dict[str, pd.DataFrame] = field(
        default_factory=dict
    )  # "W" / "M" -> trends.per_bucket of the history
    history: pd.DataFrame | None = (
        None  # every completed item, from the quarter it completed in (metrics/trends.py)
    )
    dora: dict[str, Any] | None = (
        None  # DORA measures per period and quarter, and the weekly series
    )
    period_for: Callable[[PeriodSpan], PeriodResult] | None = (
        None  # figures of any other span (reports)
    )


def buckets(metrics: StreamMetrics, hist: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The stream's per-week ("W") or per-month ("M") figures (metrics/trends.py per_bucket)."""
    found = metrics.buckets.get(freq)
    return found if found is not None else trends.per_bucket(hist, metrics.config.timezone, freq)


def resolve_as_of(config: StreamConfig, data: StreamData) -> int | None:
    """stream.yaml's as_of (naive: read in the stream's zone), else the latest state event."""
    given = config.definition.as_of
    if given is not None:
        stamp = pd.Timestamp(given)
        stamp = stamp.tz_localize(config.timezone) if stamp.tzinfo is None else stamp
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    if len(data.events):
        return int(data.events["ts"].max())
    return None


def compute_stream(config: StreamConfig, data: StreamData) -> StreamMetrics:
    definition = config.definition
    as_of = resolve_as_of(config, data)
    out = StreamMetrics(config, as_of, None, None)
    loc = Location(config.yaml_path)
    if as_of is None or (not len(data.events) and not len(data.items)):
        out.problems.append(
            Problem(
                "W305",
                "warning",
                loc,
                "the stream has no events; nothing to compute",
                "check the stream's sources and their paths",
            )
        )
        return out
    prep = prepare(data.events, data.items, definition, config.stage_map)
    result = timeline_at(prep, definition, as_of)
    out.prepared, out.result = prep, result
    out.problems += _item_problems(config, data, prep, result)
    if not len(result.items):
        out.problems.append(
            Problem(
                "W305",
                "warning",
                loc,
                "the stream has no items at its as_of",
                "check as_of and the sources",
            )
        )
        return out

    last_event = _per_item_last(prep)
    finished = np.zeros(len(prep.items), dtype=bool)
    finished[result.codes] = (result.items["status"] != "in_progress").to_numpy()
    created = np.full(len(prep.items), NAT, dtype=np.int64)
    created[result.codes] = result.items["created"].to_numpy(dtype=np.int64, na_value=NAT)

    computed: dict[tuple[int, int, int], PeriodResult] = {}

    def run(period: PeriodSpan) -> PeriodResult:
        # a named period that is also a calendar quarter is computed once
        key = (period.start, period.end, period.as_of)
        if key not in computed:
            computed[key] = _period(prep, result, definition, period, last_event, finished, created)
        known = computed[key]
        return replace(known, span=period, summary={**known.summary, **period.as_dict()})

    out.period_for = run
    named = named_periods(definition, as_of)
    first = int(result.items["created"].min())
    calendar = quarters(first, as_of, definition.timezone)
    # each distinct span is computed once, two at a time (numpy and Arrow release the GIL); the
    # results do not depend on the order
    distinct = list({(p.start, p.end, p.as_of): p for p in [*named, *calendar]}.values())
    with ThreadPoolExecutor(max_workers=2) as pool:
        for period, done in zip(
            distinct,
            pool.map(
                lambda p: _period(prep, result, definition, p, last_event, finished, created),
                distinct,
            ),
            strict=True,
        ):
            computed[(period.start, period.end, period.as_of)] = done
    for period in named:
        out.periods[period.name] = run(period)
        if out.periods[period.name].summary["lead_time"]["count"] == 0:
            out.problems.append(
                Problem(
                    "W304",
                    "warning",
                    loc,
                    f"period '{period.name}' ({period.label}) has no completed items",
                    "check the period's dates against the data",
                )
            )
    for period in calendar:
        out.quarters[period.name] = run(period)
    if "baseline" in out.periods and "current" in out.periods:
        out.comparison = compare_periods(
            config.id,
            out.periods["baseline"],
            out.periods["current"],
            [s.id for s in definition.stages if s.kind in ("wait", "active")],
            stage_names={s.id: s.label for s in definition.stages},
        )
    out.littles_law = {name: littles_law_check(p) for name, p in out.periods.items()}
    if data.deployments is not None or data.changes is not None or data.incidents is not None:
        out.dora = _dora(data, out, definition.timezone)
    out.quality = _quality(prep, result, data)
    out.daily = _daily(result, definition, first, as_of)
    out.history = trends.history(out.quarters, prep.item_dtype)
    # the quarters' item rows live on in the history; keep only their figures (a third of the memory at 1M items)
    out.quarters = {
        name: replace(q, completed=q.completed.iloc[:0]) for name, q in out.quarters.items()
    }
    out.buckets = {
        freq: trends.per_bucket(out.history, definition.timezone, freq) for freq in ("W", "M")
    }
    return out


def _dora(data: StreamData, out: StreamMetrics, timezone: str) -> dict[str, Any]:
    """METRICS.md section 5 for each period and quarter (as of its own end) and per ISO week."""
    frames = (data.deployments, data.changes, data.incidents)

    def one(p: PeriodResult) -> dict[str, Any]:
        figures = dora_period(*frames, p.span.start, p.span.as_of)
        return {
            **figures,
            "start": p.span.first_day.isoformat(),
            "end": p.span.last_day.isoformat(),
            "as_of": p.span.as_of,
        }

    periods = {name: one(p) for name, p in out.periods.items()}
    quarters = {name: one(p) for name, p in out.quarters.items()}
    first = min(p.span.start for p in out.quarters.values()) if out.quarters else 0
    weekly = dora_weekly(*frames, first, int(out.as_of or 0), timezone)
    return {
        "periods": periods,
        "quarters": quarters,
        "weekly": weekly,
        "level": (periods.get("current") or {}).get("level", {}).get("overall"),
    }


def _period(
    prep: Prepared,
    result: ItemResult,
    definition: StreamDef,
    span: PeriodSpan,
    last_event: np.ndarray,
    finished: np.ndarray,
    created: np.ndarray,
) -> PeriodResult:
    """A period's figures from the events up to its as_of, for the items that can matter to it:
    those with events at or after its start, created in it, or never finished."""
    if span.as_of == result.as_of:
        # items outside the subset ended before the period with no later events: they add nothing to it
        return period_metrics(result, span, definition)
    relevant = (last_event >= span.start) | ~finished | (created >= span.start)
    res = timeline_at(prep, definition, span.as_of, subset=relevant)
    return period_metrics(res, span, definition)


def _daily(result: ItemResult, definition: StreamDef, first: int, as_of: int) -> pd.DataFrame:
    """WIP and cumulative flow at every local midnight from the first item to as_of.

    Both depend only on events up to each instant, so the full result gives them exactly.
    """
    tz = definition.timezone
    first_day, last_day = local_date(first, tz), local_date(as_of, tz)
    whole = span("history", "history", first_day, last_day, tz, as_of)
    ends = day_ends(whole, tz)
    frame = cumulative_flow(result, definition, ends)
    frame.insert(1, "wip", wip_at(result, definition, ends))
    return frame


def _per_item_last(prep: Prepared) -> np.ndarray:
    out = np.full(len(prep.items), NAT, dtype=np.int64)
    if len(prep.item):
        np.maximum.at(out, prep.item, prep.ts) if len(prep.item) < 4096 else _max_sorted(out, prep)
    return out


def _max_sorted(out: np.ndarray, prep: Prepared) -> None:
    bounds = np.flatnonzero(np.concatenate(([True], prep.item[1:] != prep.item[:-1])))
    out[prep.item[bounds]] = np.maximum.reduceat(prep.ts, bounds)


def _item_problems(
    config: StreamConfig, data: StreamData, prep: Prepared, result: ItemResult
) -> list[Problem]:
    out: list[Problem] = []
    stages = {s.id for s in config.stages}
    for row in prep.unmapped_states.itertuples(index=False):
        close = [s for st in config.stages for s in st.states]
        from difflib import get_close_matches

        match = get_close_matches(str(row.state), close, n=1, cutoff=0.6)
        hint = (
            f"did you mean '{match[0]}'? Otherwise add" if match else "add"
        ) + " it to a stage's states in stream.yaml"
        out.append(
            Problem(
                "W201",
                "warning",
                Location(str(row.file), int(row.line)),  # type: ignore[arg-type]
                f"state '{row.state}' is not mapped to any stage (its time is kept as unmapped)",
                hint,
                count=int(row.rows),  # type: ignore[arg-type]
            )
        )
    if prep.duplicates:
        out.append(
            Problem(
                "W207",
                "warning",
                Location(config.yaml_path),
                f"{prep.duplicates} duplicate event rows (same item, instant, state, blocked and actor) counted once",
                "overlapping exports are fine; nothing to fix unless the count is unexpected",
                count=prep.duplicates,
            )
        )
    before = result.events_before_created
    for row in before.head(20).itertuples(index=False):
        out.append(
            Problem(
                "W301",
                "warning",
                Location(config.yaml_path),
                f"item '{row.item_id}' has an event before its created time; created moved back to the first event",
                "check the items file's created column",
            )
        )
    if len(before) > 20:
        out.append(
            Problem(
                "W301",
                "warning",
                Location(config.yaml_path),
                f"{len(before) - 20} more items with events before created",
                "",
                count=len(before) - 20,
            )
        )
    has_events = np.zeros(len(prep.items), dtype=bool)
    has_events[prep.item] = True
    no_events = prep.items.loc[~has_events, "item_id"]
    for item_id in no_events.head(20):
        out.append(
            Problem(
                "W302",
                "warning",
                Location(config.yaml_path),
                f"item '{item_id}' is listed but has no events",
                "export its history, or remove it from the items file",
            )
        )
    if len(no_events) > 20:
        out.append(
            Problem(
                "W302",
                "warning",
                Location(config.yaml_path),
                f"{len(no_events) - 20} more items with no events",
                "",
                count=len(no_events) - 20,
            )
        )
    mapped = np.zeros(len(prep.items), dtype=bool)
    mapped[prep.item[prep.stage >= 0]] = True
    never = prep.items.loc[has_events & ~mapped, "item_id"]
    for item_id in never.head(20):
        out.append(
            Problem(
                "W303",
                "warning",
                Location(config.yaml_path),
                f"item '{item_id}' never reaches a mapped stage",
                "map its states to stages in stream.yaml",
            )
        )
    if len(never) > 20:
        out.append(
            Problem(
                "W303",
                "warning",
                Location(config.yaml_path),
                f"{len(never) - 20} more items that never reach a mapped stage",
                "",
                count=len(never) - 20,
            )
        )
    if result.ignored_after_as_of:
        out.append(
            Problem(
                "W306",
                "warning",
                Location(config.yaml_path),
                f"{result.ignored_after_as_of} events after as_of were ignored",
                "move as_of later to include them",
                count=result.ignored_after_as_of,
            )
        )
    if result.ignored_created_after:
        out.append(
            Problem(
                "W307",
                "warning",
                Location(config.yaml_path),
                f"{result.ignored_created_after} items created after as_of were ignored",
                "move as_of later to include them",
                count=result.ignored_created_after,
            )
        )
    _ = stages, data
    return out


def _quality(prep: Prepared, result: ItemResult, data: StreamData) -> dict[str, Any]:
    items = result.items
    n = len(items)

    def share(mask: pd.Series) -> float | None:
        return float(mask.sum() / n) if n else None

    return {
        "items": n,
        "events": len(data.events),
        "events_used": len(prep.ts),
        "duplicates": prep.duplicates,
        "excluded_items": prep.excluded_items,
        "with_commitment": share(items["committed"].notna()),
        "with_done": share(items["done"].notna()),
        "with_unmapped_time": share(items["stage_ns:unmapped"] > 0),
        "unmapped_states": prep.unmapped_states.to_dict("records"),
    }
