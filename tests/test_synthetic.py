"""The synthetic data generator (generator/synthetic.py) and the example streams it wrote."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from generator import synthetic
from generator.synthetic import DEVELOPMENT, SUPPORT, bench_profile, generate, write_stream_data

ROOT = Path(__file__).resolve().parents[1]
STREAMS = ROOT / "streams"
SEED = 20261001  # the seed notes.md documents for both example streams

# states the examples use on purpose without mapping them (shown as unmapped)
INTENDED_UNMAPPED = {"development": {"Triage", "On Hold"}, "support": {"Escalated"}}
PROFILES = {"development": DEVELOPMENT, "support": SUPPORT}
TIMEZONES = {"development": "Europe/Amsterdam", "support": "Europe/Berlin"}
OFFSET_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
NAIVE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
BENCH_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$")


def small(profile: synthetic.Profile, n: int = 300) -> synthetic.Profile:
    return dataclasses.replace(profile, n_items=n)


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def instants(values: pd.Series, timezone: str) -> pd.Series:
    """UTC instants of ISO 8601 text, naive values read in `timezone` (no DST guessing allowed)."""
    if values.str.match(OFFSET_RE).all():
        return pd.to_datetime(values, format="ISO8601", utc=True)
    wall = pd.to_datetime(values, format="ISO8601")
    return wall.dt.tz_localize(timezone, ambiguous="raise", nonexistent="raise").dt.tz_convert(
        "UTC"
    )


# --------------------------------------------------------------------------- the generator


@pytest.mark.parametrize(
    "profile", [small(DEVELOPMENT), small(SUPPORT), bench_profile(200)], ids=lambda p: p.name
)
def test_same_seed_same_bytes(tmp_path: Path, profile: synthetic.Profile) -> None:
    write_stream_data(tmp_path / "a", profile, 7)
    write_stream_data(tmp_path / "b", profile, 7)
    write_stream_data(tmp_path / "c", profile, 8)
    for name in ("events.csv", "items.csv"):
        first = (tmp_path / "a" / name).read_bytes()
        assert first == (tmp_path / "b" / name).read_bytes()
        assert b"\r" not in first and first.endswith(b"\n")
        first.decode("utf-8")
    assert (tmp_path / "a" / "events.csv").read_bytes() != (
        tmp_path / "c" / "events.csv"
    ).read_bytes()


@pytest.mark.parametrize("profile", [small(DEVELOPMENT), small(SUPPORT)], ids=lambda p: p.name)
def test_frames_match_the_files(tmp_path: Path, profile: synthetic.Profile) -> None:
    events, items = generate(profile, 3)
    write_stream_data(tmp_path, profile, 3)
    assert tuple(events.columns) == synthetic.EVENT_COLUMNS
    assert tuple(items.columns) == synthetic.ITEM_COLUMNS
    for frame in (events, items):
        for column in frame.columns:
            assert all(isinstance(v, str) for v in frame[column]), column
    pd.testing.assert_frame_equal(read(tmp_path / "events.csv"), events, check_dtype=False)
    pd.testing.assert_frame_equal(read(tmp_path / "items.csv"), items, check_dtype=False)
    # sorted by instant, then item
    t = instants(events["timestamp"], profile.timezone)
    assert t.is_monotonic_increasing
    key = pd.DataFrame({"t": t, "n": events["item_id"].str.split("-").str[1].astype(int)})
    assert key.sort_values(["t", "n"], kind="stable").index.equals(key.index)


def test_bench_profile_has_seven_events_per_item() -> None:
    events, items = generate(bench_profile(500), 11)
    assert len(items) == 500 and items["item_id"].is_unique
    assert len(events) == 7 * 500
    assert (events.groupby("item_id").size() == 7).all()
    assert set(events["item_id"]) == set(items["item_id"])
    assert events["timestamp"].str.match(BENCH_RE).all()
    assert items["created"].str.match(BENCH_RE).all()
    assert (events["blocked"] == "").all() and (events["actor"] == "").all()
    order = [
        "Open",
        "Selected for Development",
        "In Progress",
        "In Review",
        "In QA",
        "Ready to Deploy",
        "Done",
    ]
    t = pd.to_datetime(events["timestamp"], format="ISO8601", utc=True)
    paths = events.assign(t=t).sort_values(["item_id", "t"]).groupby("item_id")["state"].agg(tuple)
    assert set(paths) == {tuple(order)}
    # about two years
    span = t.max() - t.min()
    assert pd.Timedelta(days=700) < span < pd.Timedelta(days=800)


def test_cli_writes_both_files(tmp_path: Path) -> None:
    assert (
        synthetic.main([str(tmp_path), "--profile", "bench", "--items", "50", "--seed", "5"]) == 0
    )
    assert len(read(tmp_path / "events.csv")) == 350
    assert len(read(tmp_path / "items.csv")) == 50


def test_development_profile_carries_the_process_change() -> None:
    change = DEVELOPMENT.change
    assert change is not None and change.date.isoformat() == "2026-05-04"
    assert dict(change.factors)["Ready for Review"] == pytest.approx(0.4)


# --------------------------------------------------------------------------- the example streams


@pytest.fixture(scope="module", params=["development", "support"])
def example(
    request: pytest.FixtureRequest,
) -> tuple[str, pd.DataFrame, pd.DataFrame, dict[str, object]]:
    stream = str(request.param)
    folder = STREAMS / stream
    definition = yaml.safe_load((folder / "stream.yaml").read_text(encoding="utf-8"))
    return (
        stream,
        read(folder / "data" / "events.csv"),
        read(folder / "data" / "items.csv"),
        definition,
    )


def test_example_rows_are_well_formed(
    example: tuple[str, pd.DataFrame, pd.DataFrame, dict[str, object]],
) -> None:
    stream, events, items, definition = example
    assert definition["timezone"] == TIMEZONES[stream]
    assert tuple(events.columns) == synthetic.EVENT_COLUMNS
    assert tuple(items.columns) == synthetic.ITEM_COLUMNS
    assert (events["item_id"] != "").all() and (events["state"] != "").all()
    assert set(events["blocked"]) <= {"", "true", "false"}
    assert items["item_id"].is_unique
    assert set(events["item_id"]) == set(items["item_id"])
    assert items["url"].str.startswith("https://").all()
    assert (items["title"] != "").all() and (items["type"] != "").all()
    pattern = OFFSET_RE if stream == "development" else NAIVE_RE  # support: naive local wall times
    assert events["timestamp"].str.match(pattern).all()
    assert items["created"].str.match(pattern).all()
    t = instants(events["timestamp"], TIMEZONES[stream])
    created = instants(items["created"], TIMEZONES[stream])
    assert t.notna().all() and created.notna().all()
    as_of = pd.Timestamp("2026-10-01T00:00:00Z")
    assert t.max() < as_of and t.min() >= pd.Timestamp("2025-03-31T00:00:00Z")
    # each item: created at its first event, then strictly increasing instants
    frame = pd.DataFrame({"item_id": events["item_id"], "t": t}).sort_values(
        ["item_id", "t"], kind="stable"
    )
    assert (frame.groupby("item_id")["t"].diff().dropna() > pd.Timedelta(0)).all()
    first = frame.groupby("item_id")["t"].min()
    assert (first.reindex(items["item_id"]).to_numpy() == created.to_numpy()).all()


def test_example_states_are_mapped_except_the_intended(
    example: tuple[str, pd.DataFrame, pd.DataFrame, dict[str, object]],
) -> None:
    stream, events, items, definition = example
    stages = definition["stages"]
    assert isinstance(stages, list)
    mapped = {state for stage in stages for state in stage["states"]}
    blocked = set(definition.get("blocked", {}).get("states", []))  # type: ignore[attr-defined]
    used = set(events["state"])
    unmapped = used - mapped - blocked
    assert unmapped == INTENDED_UNMAPPED[stream]
    assert not INTENDED_UNMAPPED[stream] & (mapped | blocked)
    assert blocked <= used  # the blocked state is actually used
    kinds = {stage["kind"] for stage in stages}
    assert {"wait", "active", "done", "cancelled"} <= kinds
    excluded = set(definition["exclude"]["types"])  # type: ignore[index]
    assert excluded == {"Sub-task"} and "Sub-task" in set(items["type"])


def test_example_data_is_what_the_documented_command_writes(
    tmp_path: Path, example: tuple[str, pd.DataFrame, pd.DataFrame, dict[str, object]]
) -> None:
    stream = example[0]
    write_stream_data(tmp_path, PROFILES[stream], SEED)
    notes = (STREAMS / stream / "notes.md").read_text(encoding="utf-8")
    assert f"--profile {stream} --seed {SEED}" in notes
    for name in ("events.csv", "items.csv"):
        assert (tmp_path / name).read_bytes() == (STREAMS / stream / "data" / name).read_bytes(), (
            f"streams/{stream}/data/{name} differs from the generator's output: "
            f"run python -m generator.synthetic streams/{stream}/data --profile {stream} --seed {SEED}"
        )
        assert (STREAMS / stream / "data" / name).stat().st_size < 3_000_000


def _visits(events: pd.DataFrame, timezone: str) -> pd.DataFrame:
    """Per item, runs of one state: (item, state, start, end); end is NaT for the last one."""
    frame = events.assign(t=instants(events["timestamp"], timezone)).sort_values(
        ["item_id", "t"], kind="stable"
    )
    new_run = (frame["state"] != frame.groupby("item_id")["state"].shift()).to_numpy()
    runs = frame[new_run].copy()
    runs["end"] = runs.groupby("item_id")["t"].shift(-1)
    return runs.rename(columns={"t": "start"})[["item_id", "state", "start", "end"]]


def test_development_review_wait_falls_after_the_rota() -> None:
    events = read(STREAMS / "development" / "data" / "events.csv")
    visits = _visits(events, "Europe/Amsterdam")
    queue = visits[(visits["state"] == "Ready for Review") & visits["end"].notna()]
    days = (queue["end"] - queue["start"]).dt.total_seconds() / 86400
    rota = pd.Timestamp("2026-05-04T00:00:00+02:00")
    before = days[queue["start"] < rota]
    after = days[queue["start"] >= rota]
    assert len(before) > 500 and len(after) > 200
    assert after.mean() < 0.6 * before.mean()  # cut by about 60%
    # the other queues do not move much
    for state in ("Ready for QA", "Ready to Deploy"):
        other = visits[(visits["state"] == state) & visits["end"].notna()]
        d = (other["end"] - other["start"]).dt.total_seconds() / 86400
        ratio = d[other["start"] >= rota].mean() / d[other["start"] < rota].mean()
        assert 0.75 < ratio < 1.33, state


def test_development_has_the_untidiness_it_promises() -> None:
    events = read(STREAMS / "development" / "data" / "events.csv")
    items = read(STREAMS / "development" / "data" / "items.csv")
    visits = _visits(events, "Europe/Amsterdam")
    order = {
        s: i
        for i, s in enumerate(
            [
                "Open",
                "Selected for Development",
                "In Progress",
                "Ready for Review",
                "In Review",
                "Ready for QA",
                "In QA",
                "Ready to Deploy",
                "Done",
                "Closed",
            ]
        )
    }
    pos = visits["state"].map(order)
    prev = pos.groupby(visits["item_id"]).shift()
    back = visits[(pos < prev) & pos.notna()]
    reviewed = visits.loc[visits["state"] == "In Review", "item_id"].nunique()
    sent_back = back.loc[back["state"] == "In Progress", "item_id"].nunique()
    assert 0.10 < sent_back / reviewed < 0.35  # rework from review and QA
    # reopened: left a done state (items finish in Done or in Closed, never go from one to the other)
    reopened = visits[visits["state"].isin(["Done", "Closed"]) & visits["end"].notna()]
    assert 1 <= reopened["item_id"].nunique() <= 15
    assert (events["blocked"] == "true").sum() > 50
    assert (events["state"] == "Blocked").sum() > 5
    assert (events["state"] == "Won't Do").sum() > 50
    last = events.groupby("item_id")["state"].last()
    in_progress = ~last.isin(["Done", "Closed", "Won't Do"])
    assert in_progress.sum() > 30
    assert set(items["type"]) == {"Story", "Bug", "Risk", "Tech Debt", "Sub-task"}
    actors = set(events["actor"]) - {""}
    assert actors and all(re.fullmatch(r"(dev|qa|pm|po)-[a-z]|release-bot", a) for a in actors)
    titles = items["title"]
    assert (
        titles.str.contains("<").any()
        and titles.str.contains("&").any()
        and titles.str.contains('"').any()
    )


def test_support_periods_are_much_alike() -> None:
    events = read(STREAMS / "support" / "data" / "events.csv")
    visits = _visits(events, "Europe/Berlin")
    resolved = visits[visits["state"] == "Resolved"]
    created = visits.groupby("item_id")["start"].min()
    done_at = resolved.groupby("item_id")["start"].max()
    lead = (done_at - created.reindex(done_at.index)).dt.total_seconds() / 86400
    q1 = lead[(done_at >= "2026-01-01") & (done_at < "2026-04-01")]
    q3 = lead[(done_at >= "2026-07-01") & (done_at < "2026-10-01")]
    assert len(q1) > 400 and len(q3) > 400
    assert 0.75 < np.median(q3) / np.median(q1) < 1.33
    assert 0.75 < np.quantile(q3, 0.85) / np.quantile(q1, 0.85) < 1.33
