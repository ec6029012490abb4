"""Compute everything for one stream: timelines at as_of, every period as of its own end, problems."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from generator.errors import Location, Problem
from generator.forecast.plan import Forecast, forecast_stream
from generator.forecast.scenarios import scenario_results
from generator.metrics import trends
from generator.metrics.aggregates import (
    PeriodParts,
    PeriodResult,
    cumulative_flow,
    day_ends,
    period_parts,
    summarise,
    wip_at,
)
from generator.metrics.compare import compare_periods
from generator.metrics.delivery import delivery_arrays
from generator.metrics.dora import dora_prepared, dora_weekly_prepared
from generator.metrics.engine import ItemResult, timeline_at
from generator.metrics.little import littles_law_check
from generator.metrics.periods import PeriodSpan, local_date, named_periods, quarters, span
from generator.metrics.prepare import NAT, Prepared, PreparedFacts, prepare, prepared_facts
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
    forecast: Forecast | None = None  # forecasts, back-tests and the SLE (generator/forecast/)
    scenarios: dict[str, Any] = field(
        default_factory=dict
    )  # scenario id -> forecast.scenarios.ScenarioResult for the current period


def buckets(metrics: StreamMetrics, hist: pd.DataFrame, freq: str) -> pd.DataFrame:
    """The stream's per-week ("W") or per-month ("M") figures (metrics/trends.py per_bucket)."""
    found = metrics.buckets.get(freq)
    return found if found is not None else trends.per_bucket(hist, metrics.config.timezone, freq)


def resolve_as_of(config: StreamConfig, data: StreamData) -> int | None:
    """stream.yaml's as_of (naive: read in the stream's zone), else the latest state event."""
    return as_of_from(config, int(data.events["ts"].max()) if len(data.events) else None)


def as_of_from(config: StreamConfig, latest_event: int | None) -> int | None:
    """stream.yaml's as_of (naive: read in the stream's zone), else `latest_event`."""
    given = config.definition.as_of
    if given is not None:
        stamp = pd.Timestamp(given)
        stamp = stamp.tz_localize(config.timezone) if stamp.tzinfo is None else stamp
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    return latest_event


def nothing_to_compute(config: StreamConfig, at_as_of: bool = False) -> Problem:
    """W305: the stream has no events, or no items at its as_of."""
    if at_as_of:
        return Problem(
            "W305",
            "warning",
            Location(config.yaml_path),
            "the stream has no items at its as_of",
            "check as_of and the sources",
        )
    return Problem(
        "W305",
        "warning",
        Location(config.yaml_path),
        "the stream has no events; nothing to compute",
        "check the stream's sources and their paths",
    )


def compute_stream(config: StreamConfig, data: StreamData) -> StreamMetrics:
    definition = config.definition
    as_of = resolve_as_of(config, data)
    out = StreamMetrics(config, as_of, None, None)
    if as_of is None or (not len(data.events) and not len(data.items)):
        out.problems.append(nothing_to_compute(config))
        return out
    prep = prepare(data.events, data.items, definition, config.stage_map)
    result = timeline_at(prep, definition, as_of)
    out.prepared, out.result = prep, result
    facts = prepared_facts(prep)
    out.problems += item_problems(config, prep, result, facts)
    if not len(result.items):
        out.problems.append(nothing_to_compute(config, at_as_of=True))
        return out

    last_event = _per_item_last(prep)
    finished = np.zeros(len(prep.items), dtype=bool)
    finished[result.codes] = (result.items["status"] != "in_progress").to_numpy()
    created = np.full(len(prep.items), NAT, dtype=np.int64)
    created[result.codes] = result.items["created"].to_numpy(dtype=np.int64, na_value=NAT)
    compute = partial(
        _period,
        prep,
        result,
        definition,
        last_event=last_event,
        finished=finished,
        created=created,
    )

    named = named_periods(definition, as_of)
    first = int(result.items["created"].min())
    calendar = quarters(first, as_of, definition.timezone)
    # each distinct span is computed once, two at a time (numpy and Arrow release the GIL); the
    # results do not depend on the order
    distinct = list({(p.start, p.end, p.as_of): p for p in [*named, *calendar]}.values())
    computed: dict[tuple[int, int, int], PeriodResult] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for period, done in zip(distinct, pool.map(compute, distinct), strict=True):
            computed[(period.start, period.end, period.as_of)] = done
    ends = daily_ends(definition, first, as_of)
    daily = daily_counts(result, definition, ends)
    finish_stream(out, data, facts, len(data.events), computed, compute, named, calendar, daily)
    return out


def finish_stream(
    out: StreamMetrics,
    data: StreamData,
    facts: PreparedFacts,
    events_read: int,
    computed: dict[tuple[int, int, int], PeriodResult],
    compute: Callable[[PeriodSpan], PeriodResult],
    named: list[PeriodSpan],
    calendar: list[PeriodSpan],
    daily: pd.DataFrame,
) -> None:
    """Everything after the periods, from `out.prepared` and `out.result` (whichever engine made
    them): the named periods and quarters, the comparison, Little's law, DORA, quality, the daily
    series and the history. `computed` holds each span's figures by (start, end, as_of);
    `compute` makes any other span's (reports)."""
    config = out.config
    definition = config.definition
    prep, result = out.prepared, out.result
    assert prep is not None and result is not None
    loc = Location(config.yaml_path)
    out.period_for = partial(_period_for, computed, compute)
    for period in named:
        out.periods[period.name] = out.period_for(period)
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
        out.quarters[period.name] = out.period_for(period)
    if "baseline" in out.periods and "current" in out.periods:
        out.comparison = compare_periods(
            config.id,
            out.periods["baseline"],
            out.periods["current"],
            [s.id for s in definition.stages if s.kind in ("wait", "active")],
            stage_names={s.id: s.label for s in definition.stages},
        )
    out.littles_law = {name: littles_law_check(p) for name, p in out.periods.items()}
    if "current" in out.periods:
        out.scenarios = scenario_results(config.id, definition, result, out.periods["current"])
    if data.deployments is not None or data.changes is not None or data.incidents is not None:
        out.dora = _dora(data, out, definition.timezone)
    out.quality = _quality(prep, result, facts, events_read)
    out.daily = daily
    out.history = trends.history(out.quarters, prep.item_dtype)
    # the quarters' item rows live on in the history; keep only their figures (a third of the memory at 1M items)
    out.quarters = {
        name: replace(q, completed=q.completed.iloc[:0]) for name, q in out.quarters.items()
    }
    out.buckets = {
        freq: trends.per_bucket(out.history, definition.timezone, freq) for freq in ("W", "M")
    }
    out.forecast = forecast_stream(
        config.id, definition, config.yaml_path, result, out.periods, out.history, result.as_of
    )
    out.problems += out.forecast.problems


def _period_for(
    computed: dict[tuple[int, int, int], PeriodResult],
    compute: Callable[[PeriodSpan], PeriodResult],
    period: PeriodSpan,
) -> PeriodResult:
    """A span's figures: computed once per (start, end, as_of), labelled as asked (a named period
    that is also a calendar quarter is computed once)."""
    key = (period.start, period.end, period.as_of)
    if key not in computed:
        computed[key] = compute(period)
    known = computed[key]
    return replace(known, span=period, summary={**known.summary, **period.as_dict()})


def _dora(data: StreamData, out: StreamMetrics, timezone: str) -> dict[str, Any]:
    """METRICS.md section 5 for each period and quarter (as of its own end) and per ISO week."""
    frames = delivery_arrays(
        data.deployments, data.changes, data.incidents
    )  # once: 8+ periods use them

    def one(p: PeriodResult) -> dict[str, Any]:
        figures = dora_prepared(frames, p.span.start, p.span.as_of)
        return {
            **figures,
            "start": p.span.first_day.isoformat(),
            "end": p.span.last_day.isoformat(),
            "as_of": p.span.as_of,
        }

    periods = {name: one(p) for name, p in out.periods.items()}
    quarters = {name: one(p) for name, p in out.quarters.items()}
    first = min(p.span.start for p in out.quarters.values()) if out.quarters else 0
    weekly = dora_weekly_prepared(frames, first, int(out.as_of or 0), timezone)
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
    *,
    last_event: np.ndarray,
    finished: np.ndarray,
    created: np.ndarray,
) -> PeriodResult:
    """A period's figures from the events up to its as_of, for the items that can matter to it:
    those with events at or after its start, created in it, or never finished."""
    return summarise(
        period_parts_at(prep, result, definition, span, last_event, finished, created),
        span,
        definition,
        prep.items,
    )


def period_parts_at(
    prep: Prepared,
    result: ItemResult,
    definition: StreamDef,
    span: PeriodSpan,
    last_event: np.ndarray,
    finished: np.ndarray,
    created: np.ndarray,
    actors_from: int | None = None,
) -> PeriodParts:
    """A period's parts as of its own end, for the items that can matter to it (see _period).
    `actors_from`: the stream's first actor instant, when `prep` holds only some of its items."""
    if span.as_of == result.as_of:
        # items outside the subset ended before the period with no later events: they add nothing to it
        return period_parts(result, span, definition)
    relevant = (last_event >= span.start) | ~finished | (created >= span.start)
    res = timeline_at(prep, definition, span.as_of, subset=relevant, actors_from=actors_from)
    return period_parts(res, span, definition)


def daily_ends(definition: StreamDef, first: int, as_of: int) -> np.ndarray:
    """Every local midnight from the first item's day to as_of."""
    tz = definition.timezone
    first_day, last_day = local_date(first, tz), local_date(as_of, tz)
    return day_ends(span("history", "history", first_day, last_day, tz, as_of), tz)


def daily_counts(result: ItemResult, definition: StreamDef, ends: np.ndarray) -> pd.DataFrame:
    """WIP and cumulative flow at each of `ends` (day_end, wip, one column per stage).

    Both depend only on events up to each instant, so the full result gives them exactly; both
    are counts of items, so they add up over disjoint sets of items.
    """
    frame = cumulative_flow(result, definition, ends)
    frame.insert(1, "wip", wip_at(result, definition, ends))
    return frame


def per_item_last(prep: Prepared) -> np.ndarray:
    """Each item's last event instant (NAT without events)."""
    return _per_item_last(prep)


def _per_item_last(prep: Prepared) -> np.ndarray:
    out = np.full(len(prep.items), NAT, dtype=np.int64)
    if len(prep.item):
        np.maximum.at(out, prep.item, prep.ts) if len(prep.item) < 4096 else _max_sorted(out, prep)
    return out


def _max_sorted(out: np.ndarray, prep: Prepared) -> None:
    bounds = np.flatnonzero(np.concatenate(([True], prep.item[1:] != prep.item[:-1])))
    out[prep.item[bounds]] = np.maximum.reduceat(prep.ts, bounds)


# unmapped states warned one by one; the rest are folded into one W201 (a file can have 10^5)
UNMAPPED_LISTED = 20


def item_problems(
    config: StreamConfig, prep: Prepared, result: ItemResult, facts: PreparedFacts
) -> list[Problem]:
    out: list[Problem] = []
    stages = {s.id for s in config.stages}
    from difflib import get_close_matches

    close = [s for st in config.stages for s in st.states]
    unmapped = prep.unmapped_states
    for row in unmapped.head(UNMAPPED_LISTED).itertuples(index=False):
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
    if len(unmapped) > UNMAPPED_LISTED:
        rest = unmapped.iloc[UNMAPPED_LISTED:]
        first = rest.iloc[0]
        out.append(
            Problem(
                "W201",
                "warning",
                Location(str(first["file"]), int(first["line"])),
                f"{len(rest):,} more states are not mapped to any stage (their time is kept as unmapped)",
                "map the states the stream needs in stream.yaml; the data-quality page lists them",
                count=int(rest["rows"].sum()),
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
    has_events = facts.has_events
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
    never = prep.items.loc[has_events & ~facts.mapped, "item_id"]
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
    _ = stages
    return out


def _quality(
    prep: Prepared, result: ItemResult, facts: PreparedFacts, events_read: int
) -> dict[str, Any]:
    items = result.items
    n = len(items)

    def share(mask: pd.Series) -> float | None:
        return float(mask.sum() / n) if n else None

    return {
        "items": n,
        "events": events_read,
        "events_used": facts.events_used,
        "duplicates": prep.duplicates,
        "excluded_items": prep.excluded_items,
        "with_commitment": share(items["committed"].notna()),
        "with_done": share(items["done"].notna()),
        "with_unmapped_time": share(items["stage_ns:unmapped"] > 0),
        "unmapped_states": prep.unmapped_states.to_dict("records"),
    }
