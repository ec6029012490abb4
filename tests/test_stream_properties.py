"""Hypothesis properties of a whole stream's figures (METRICS.md section 3), through the real
reader and compute_stream: closed periods do not move, weekly counts add up, cumulative flow.

The logs are random walks over a stream with two done stages, in Europe/Berlin (local weeks
and days across the March DST change), with distinct instants per item and mapped states only,
so the expected values can be worked out in plain Python from the rows themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.metrics.stream import StreamMetrics, compute_stream
from generator.sources.collect import read_stream
from generator.validate.stream import load_project

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
pytestmark = pytest.mark.slow  # about 30 s: each example reads and computes a stream
ZONE = ZoneInfo("Europe/Berlin")
HOUR = dt.timedelta(hours=1)
START = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)  # a Monday
AS_OF = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
BASELINE_END = dt.date(2026, 2, 15)  # the baseline period closes at local midnight after this day

# (stage id, state, kind) in stream order; two done stages, as teams that verify after release have
STAGES = [("backlog", "Open", "wait"), ("dev", "In Progress", "active"), ("review", "In Review", "wait"),
          ("test", "Testing", "active"), ("released", "Released", "done"), ("verified", "Verified", "done")]
STREAM_YAML = """\
name: Properties
timezone: Europe/Berlin
as_of: 2026-04-01T00:00:00Z
sources:
  - kind: events-csv
    path: data/events.csv
stages:
{stages}
commitment: dev
periods:
  baseline: {{start: 2026-01-05, end: 2026-02-15}}
  current: {{start: 2026-02-16, end: 2026-03-31}}
"""


@dataclass(frozen=True)
class Row:
    item: str
    at: dt.datetime
    stage: int  # index into STAGES


@st.composite
def walks(draw: Any, n_max: int = 14) -> list[Row]:
    """Items created between 5 Jan and late March, each stepping forward (sometimes back)
    through the stages at 1 to 400 hour steps; some never finish, some go on to `verified`."""
    rows: list[Row] = []
    for k in range(draw(st.integers(1, n_max))):
        at = START + draw(st.integers(0, 80 * 24)) * HOUR
        stage = 0
        rows.append(Row(f"P-{k}", at, stage))
        for _ in range(draw(st.integers(0, 7))):
            step = draw(st.sampled_from([-2, -1, 1, 1, 1, 2]))
            stage = min(max(stage + step, 0), len(STAGES) - 1)
            at += draw(st.integers(1, 400)) * HOUR
            if rows[-1].stage != stage:
                rows.append(Row(f"P-{k}", at, stage))
    return rows


def _write(project: Path, rows: list[Row]) -> None:
    stream = project / "streams" / "props"
    (stream / "data").mkdir(parents=True, exist_ok=True)
    stages = "\n".join(f"  - {{id: {i}, states: [{s}], kind: {k}}}" for i, s, k in STAGES)
    (stream / "stream.yaml").write_text(STREAM_YAML.format(stages=stages), encoding="utf-8")
    lines = ["item_id,timestamp,state"]
    lines += [f"{r.item},{r.at.isoformat().replace('+00:00', 'Z')},{STAGES[r.stage][1]}" for r in rows]
    (stream / "data" / "events.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _compute(project: Path, rows: list[Row]) -> StreamMetrics:
    _write(project, rows)
    loaded, problems = load_project(project)
    assert not [p for p in problems if p.severity == "error"], problems
    config = loaded.streams[0]
    return compute_stream(config, read_stream(project, config))


def _ns(moment: dt.datetime) -> int:
    return int(pd.Timestamp(moment).value)


def _first_entries(rows: list[Row]) -> dict[str, dict[int, int]]:
    """item -> stage -> first instant it entered the stage (rows up to as_of; every row starts a
    positive-length visit, since instants are distinct per item and the state changes)."""
    out: dict[str, dict[int, int]] = {}
    for r in sorted(rows, key=lambda r: (r.item, r.at)):
        if r.at <= AS_OF:
            out.setdefault(r.item, {}).setdefault(r.stage, _ns(r.at))
    return out


def _done_at(rows: list[Row]) -> dict[str, int]:
    """item -> done instant: the start of its final run in done stages, if it ends in one."""
    out: dict[str, int] = {}
    by_item: dict[str, list[Row]] = {}
    for r in sorted(rows, key=lambda r: (r.item, r.at)):
        if r.at <= AS_OF:
            by_item.setdefault(r.item, []).append(r)
    for item, mine in by_item.items():
        start = None
        for r in mine:
            in_done = STAGES[r.stage][2] == "done"
            start = (start if start is not None else _ns(r.at)) if in_done else None
        if start is not None:
            out[item] = start
    return out


@SETTINGS
@given(walks(), walks(n_max=6), st.data())
def test_events_after_a_periods_end_leave_it_unchanged(tmp_path: Path, rows: list[Row], extra: list[Row], data: Any) -> None:
    """Appending rows after the baseline's end (new items, and later moves of existing ones:
    reopens, sends back, completions) changes no baseline figure."""
    before = _compute(tmp_path / "a", rows)
    end = dt.datetime.combine(BASELINE_END + dt.timedelta(days=1), dt.time(), ZONE).astimezone(dt.UTC)
    later = [Row(f"N-{r.item}", max(r.at, end + HOUR), r.stage) for r in extra]
    for item in sorted({r.item for r in rows}):
        last = max(r.at for r in rows if r.item == item)
        if data.draw(st.booleans()):
            at = max(last, end) + data.draw(st.integers(1, 300)) * HOUR
            later.append(Row(item, at, data.draw(st.integers(0, len(STAGES) - 1))))
    after = _compute(tmp_path / "b", rows + later)
    assert after.periods["baseline"].summary == before.periods["baseline"].summary
    # while the stream as a whole did see the new rows (so the test could fail)
    if later:
        assert after.quality["events_used"] > before.quality["events_used"]


@SETTINGS
@given(walks())
def test_weekly_throughput_sums_to_the_completions_of_its_whole_weeks(tmp_path: Path, rows: list[Row]) -> None:
    metrics = _compute(tmp_path, rows)
    for name, period in metrics.periods.items():
        weekly = period.weekly
        if not len(weekly):
            continue
        first = int(weekly["week_start"].iloc[0])
        # the end of the last whole week: its local Monday plus seven local days
        last_monday = pd.Timestamp(int(weekly["week_start"].iloc[-1]), tz="UTC").tz_convert(ZONE)
        end = _ns(dt.datetime.combine(last_monday.date() + dt.timedelta(days=7), dt.time(), ZONE))
        # done as of the period's own end: only the rows up to its as_of count
        expected = sum(1 for item, at in _done_at([r for r in rows if _ns(r.at) <= period.span.as_of]).items()
                       if first <= at < end)
        assert int(weekly["completed"].sum()) == expected, (name, weekly)
        assert int(weekly["completed"].sum()) == sum(period.summary["weekly_throughput"])


@SETTINGS
@given(walks())
def test_cumulative_flow_counts_first_entries_and_never_decreases(tmp_path: Path, rows: list[Row]) -> None:
    """For each stage and local day end: the items that entered it or a later stage by then,
    worked out from the rows; the later of two done stages included."""
    metrics = _compute(tmp_path, rows)
    daily = metrics.daily
    assert daily is not None
    entries = _first_entries(rows)
    ends = daily["day_end"].to_numpy(dtype=np.int64)
    for j, (stage_id, _, _) in enumerate(STAGES):
        column = daily[stage_id].to_numpy()
        assert (np.diff(column) >= 0).all(), stage_id
        reached = [min(at for s, at in mine.items() if s >= j) for mine in entries.values()
                   if any(s >= j for s in mine)]
        expected = [sum(1 for at in reached if at <= t) for t in ends]
        assert column.tolist() == expected, stage_id
        if j:
            assert (daily[STAGES[j - 1][0]].to_numpy() >= column).all()
