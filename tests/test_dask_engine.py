"""The dask engine against the pandas engine, on a dask.distributed LocalCluster (worker
processes on 127.0.0.1, one per test session and xdist worker).

The pandas engine is the reference: on the hand cases of test_reference_cases.py,
the example streams and a random history, both engines must give byte-identical
items.csv and metrics.json (and, for whole builds, every file of the site). The
partitions are small on purpose (partition_events is 400, and a stream gets
at least two partitions per worker), so items of one stream always land in
several partitions and the merge is exercised.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_fixtures import EXAMPLES, build_site, output_files
from test_engine_vs_reference import (
    RandomChooser,
    _case_items,
    events_frame,
    items_frame,
    random_log,
    stream_def,
)
from test_reference_cases import CASES, STREAM

from generator import synthetic
from generator.build import BuildOptions, build
from generator.engines import cluster as cluster_module
from generator.engines.cluster import start
from generator.engines.dask_engine import DaskEngine
from generator.engines.dask_input import LazyInput
from generator.errors import Location
from generator.metrics.stream import compute_stream
from generator.model import StageMap, StreamConfig, StreamData
from generator.render.downloads import items_csv, metrics_json
from generator.validate.schema import Engine, StreamDef

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="session")
def scheduler() -> Iterator[str]:
    """A LocalCluster for the session: two worker processes, one thread each, loopback only."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",  # its HTTP routes cannot be turned off: a free loopback port
        worker_dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local.scheduler_address


@pytest.fixture
def engine(scheduler: str) -> Iterator[DaskEngine]:
    cluster, problems = start(scheduler, None, None, Location("(test)"))
    assert cluster is not None, problems
    yield DaskEngine(cluster, Engine(kind="dask", partition_events=400))
    cluster.close()


def config_for(definition: StreamDef) -> StreamConfig:
    return StreamConfig(
        id="cases",
        folder="streams/cases",
        definition=definition,
        sources=(),
        yaml_path="streams/cases/stream.yaml",
        notes_path=None,
        reports=(),
        stage_map=StageMap.build(definition),
    )


def data_of(events: pd.DataFrame, items: pd.DataFrame) -> StreamData:
    return StreamData(events.copy(), items.copy(), None, None, None)


def both(engine: DaskEngine, config: StreamConfig, events: pd.DataFrame, items: pd.DataFrame) -> tuple[bytes, bytes, bytes, bytes]:
    """items.csv and metrics.json from the pandas engine, then from the dask engine."""
    pandas_metrics = compute_stream(config, data_of(events, items))
    dask_metrics = engine.compute(config, LazyInput(data_of(events, items)))
    assert (pandas_metrics.result is None) == (dask_metrics.result is None)
    if pandas_metrics.result is None:
        return metrics_json(pandas_metrics), b"", metrics_json(dask_metrics), b""
    return (
        metrics_json(pandas_metrics),
        items_csv(pandas_metrics, False),
        metrics_json(dask_metrics),
        items_csv(dask_metrics, False),
    )


def with_as_of(definition: StreamDef, as_of: int) -> StreamDef:
    stamp = dt.datetime.fromtimestamp(as_of // 10**9, tz=dt.UTC)
    assert int(stamp.timestamp()) * 10**9 == as_of  # the cases use whole seconds
    return definition.model_copy(update={"as_of": stamp})


def test_hand_cases_give_identical_files(engine: DaskEngine) -> None:
    """Every hand-computed case of test_reference_cases.py (the rules of METRICS.md 1-2): the
    cases sharing a stream and an as_of make one stream (item ids prefixed by the case), nine
    streams in all; the two engines' items.csv and metrics.json must be the same bytes."""
    groups: dict[tuple[int, int], list[int]] = {}
    for index, case in enumerate(CASES):
        groups.setdefault((id(case.stream), case.as_of), []).append(index)
    differ = []
    for indexes in groups.values():
        first = CASES[indexes[0]]
        definition = with_as_of(stream_def(first.stream, 3), first.as_of)
        events, created = [], {}
        for index in indexes:
            frame = events_frame(CASES[index].events)
            frame["item_id"] = (f"c{index}-" + frame["item_id"].astype(str)).astype("string")
            events.append(frame)
            created |= {f"c{index}-{k}": v for k, v in _case_items(CASES[index]).items()}
        frame = pd.concat(events, ignore_index=True)
        frame["file"] = frame["file"].astype("category")
        got = both(engine, config_for(definition), frame, items_frame(created))
        assert got[1].count(b"\n") > 1
        if got[0] != got[2] or got[1] != got[3]:
            differ.append([CASES[i].name for i in indexes])
    assert len(groups) == 9
    assert not differ, f"the engines differ on: {differ}"


def test_edge_case_logs_merged_into_one_stream_give_identical_files(engine: DaskEngine) -> None:
    """150 seeded random logs of test_engine_vs_reference.py (same-instant rows across sources,
    duplicates, reopen, cancel, blocked states, spellings, actors, items without events, created
    before and after the first event) shifted apart in time and merged into one stream."""
    frames, created = [], {}
    definition = stream_def(STREAM, 3)
    for seed in range(150):
        stream, events, _, items_csv_rows, _ = random_log(RandomChooser(random.Random(seed)))
        if stream is not STREAM:
            continue
        frame = events_frame(events)
        shift = seed * 37 * 3600 * 10**9
        frame["ts"] += shift
        frame["item_id"] = (f"S{seed}-" + frame["item_id"].astype(str)).astype("string")
        frames.append(frame)
        for item, given in items_csv_rows.items():
            created[f"S{seed}-{item}"] = None if given is None else given + shift
    assert len(frames) > 50
    events = pd.concat(frames, ignore_index=True)
    events["file"] = events["file"].astype("category")
    got = both(engine, config_for(definition), events, items_frame(created))
    assert got[1] == got[3], "items.csv differs"
    assert got[0] == got[2], "metrics.json differs"
    assert got[1].count(b"\n") > 300  # the items really are many


@pytest.mark.slow
def test_example_streams_give_an_identical_site(example_site: Path, scheduler: str, tmp_path: Path) -> None:
    """The example project built by both engines: every file of the site is the same bytes."""
    out = tmp_path / "_site"
    build_site(EXAMPLES, out, engine="dask", scheduler=scheduler)
    pandas_files, dask_files = output_files(example_site), output_files(out)
    assert sorted(pandas_files) == sorted(dask_files)
    differ = [name for name in pandas_files if pandas_files[name] != dask_files[name]]
    assert not differ, differ


RANDOM_STREAM = """\
name: Random history
timezone: Europe/Berlin
sources:
  - kind: events-parquet
    path: data/events
  - kind: events-csv
    path: data/more-events.csv
  - kind: items-csv
    path: data/items.csv
stages:
  - {id: backlog, states: [Open], kind: wait}
  - {id: selected, states: [Selected for Development], kind: wait}
  - {id: dev, states: [In Progress], kind: active}
  - {id: review-queue, states: [Ready for Review], kind: wait}
  - {id: review, states: [In Review], kind: active}
  - {id: qa-queue, states: [Ready for QA], kind: wait}
  - {id: qa, states: [In QA], kind: active}
  - {id: deploy-queue, states: [Ready to Deploy], kind: wait}
  - {id: done, states: [Done, Closed], kind: done}
  - {id: dropped, states: ["Won't Do"], kind: cancelled}
commitment: selected
blocked: {states: [Blocked]}
item_types: {Story: feature, Bug: defect, Risk: risk, Tech Debt: debt}
exclude: {types: [Sub-task]}
"""


def random_project(root: Path, seed: int, n_items: int) -> Path:
    """A synthetic development history (generator/synthetic.py, this seed): three quarters of the
    rows in a Parquet folder of three files with small row groups (timestamps as text in one,
    as zoned timestamps in the others), the rest and a few repeated rows in a CSV source."""
    profile = synthetic.PROFILES["development"]
    profile = type(profile)(**{**profile.__dict__, "n_items": n_items})
    events, items = synthetic.generate(profile, seed)
    rng = np.random.default_rng(seed)
    data = root / "streams" / "random" / "data"
    (data / "events").mkdir(parents=True)
    in_csv = rng.random(len(events)) < 0.25
    repeated = events[~in_csv].sample(n=min(200, int((~in_csv).sum())), random_state=seed)
    pd.concat([events[in_csv], repeated]).to_csv(data / "more-events.csv", index=False)
    rest = events[~in_csv].reset_index(drop=True)
    for k, chunk in enumerate(np.array_split(np.arange(len(rest)), 3)):
        part = rest.iloc[chunk]
        stamps = pa.array(part["timestamp"].tolist(), pa.string())
        if k:
            stamps = pa.array(pd.to_datetime(part["timestamp"], utc=True, format="ISO8601"), pa.timestamp("us", "UTC"))
        table = pa.table(
            {
                "item_id": pa.array(part["item_id"].tolist(), pa.string()),
                "timestamp": stamps,
                "state": pa.array(part["state"].tolist(), pa.string()),
                "blocked": pa.array(part["blocked"].tolist(), pa.string()),
                "actor": pa.array(part["actor"].tolist(), pa.string()),
            }
        )
        pq.write_table(table, data / "events" / f"part-{k}.parquet", row_group_size=700)
    items.to_csv(data / "items.csv", index=False)
    (root / "streams" / "random" / "stream.yaml").write_text(RANDOM_STREAM)
    return root


@pytest.mark.slow
def test_a_random_history_gives_an_identical_site(scheduler: str, tmp_path: Path) -> None:
    project = random_project(tmp_path / "project", seed=7, n_items=1500)
    pandas_out, dask_out = tmp_path / "pandas", tmp_path / "dask"
    build_site(project, pandas_out)
    report = build_site(project, dask_out, engine="dask", scheduler=scheduler)
    assert report.streams[0].events > 10_000
    pandas_files, dask_files = output_files(pandas_out), output_files(dask_out)
    assert sorted(pandas_files) == sorted(dask_files)
    differ = [name for name in pandas_files if pandas_files[name] != dask_files[name]]
    assert not differ, differ


def test_a_corrupt_parquet_file_is_a_located_error(scheduler: str, tmp_path: Path) -> None:
    """Footer intact, a data page damaged: the worker reading that row group reports E200 at the
    file and the row group's first row; the build stops and writes nothing."""
    project = tmp_path / "project"
    data = project / "streams" / "s" / "data"
    data.mkdir(parents=True)
    n = 3000
    table = pa.table(
        {
            "item_id": pa.array([f"I-{i % 300}" for i in range(n)]),
            "timestamp": pa.array(np.arange(n, dtype=np.int64) * 10**12 + 1_700_000_000 * 10**9, pa.timestamp("ns", "UTC")),
            "state": pa.array([["Open", "Doing", "Done"][i % 3] for i in range(n)]),
        }
    )
    path = data / "events.parquet"
    pq.write_table(table, path, row_group_size=1000, compression="zstd")
    meta = pq.ParquetFile(path).metadata
    group = meta.row_group(1)
    column = group.column(0)
    start = column.data_page_offset
    raw = bytearray(path.read_bytes())
    raw[start + 20 : start + 60] = b"\xff" * 40  # inside row group 1's first data page
    path.write_bytes(bytes(raw))
    (project / "streams" / "s" / "stream.yaml").write_text(
        "name: S\nsources:\n  - {kind: events-parquet, path: data/events.parquet}\n"
        "stages:\n  - {id: open, states: [Open], kind: wait}\n  - {id: doing, states: [Doing], kind: active}\n"
        "  - {id: done, states: [Done], kind: done}\ncommitment: doing\n"
    )
    out = tmp_path / "_site"
    report = build(BuildOptions(project=project, out=out, engine="dask", scheduler=scheduler))
    assert not report.written and not out.exists()
    errors = [p.format() for p in report.errors]
    assert errors and all("E200" in e for e in errors), errors
    assert errors[0].startswith("streams/s/data/events.parquet:1001: error[E200]: cannot read this Parquet file"), errors


def test_an_unreachable_scheduler_is_a_located_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing listens on 127.0.0.1:9: E310 at the command line's setting, no traceback, nothing written."""
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", "2s")
    out = tmp_path / "_site"
    report = build(BuildOptions(project=EXAMPLES, out=out, engine="dask", scheduler="tcp://127.0.0.1:9"))
    assert not report.written
    assert [p.code for p in report.errors] == ["E310"]
    assert report.errors[0].format().startswith("(command line): error[E310]: cannot reach the dask scheduler at tcp://127.0.0.1:9")


@pytest.mark.slow
def test_a_log_larger_than_the_workers_data_memory_spills_and_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine's own LocalCluster from vsm.yaml (`engine:` with two workers and a memory
    limit of 1 GB each), with dask's spill target set to 0.05% of that limit: each worker may
    keep 0.5 MB of data in memory, less than the log's events take in memory (measured
    here from the pandas engine's frame). The workers must spill to disk (their byte counters
    are read before the cluster closes), and the site must equal the pandas engine's."""
    import dask

    project = random_project(tmp_path / "project", seed=11, n_items=3000)
    (project / "vsm.yaml").write_text("engine:\n  kind: dask\n  workers: 2\n  memory_limit: 1GB\n  partition_events: 2000\n")
    pandas_out, dask_out = tmp_path / "pandas", tmp_path / "dask"
    build_site(project, pandas_out, engine="pandas")

    from generator.sources.collect import read_stream
    from generator.validate.stream import load_project

    loaded, _ = load_project(project)
    events = read_stream(project, loaded.streams[0]).events
    log_bytes = int(events.memory_usage(deep=True).sum())
    budget = int(0.0005 * 10**9)
    assert log_bytes > 2 * budget, (log_bytes, budget)  # more than both workers may hold

    spilled: list[int] = []
    close = cluster_module.Cluster.close

    def close_after_counting(self: cluster_module.Cluster) -> None:
        def written(dask_worker: object) -> int:
            return int(dask_worker.data.cumulative_metrics[("disk-write", "bytes")])  # type: ignore[attr-defined]

        spilled.extend(self.client.run(written).values())  # type: ignore[attr-defined]
        close(self)

    monkeypatch.setattr(cluster_module.Cluster, "close", close_after_counting)
    with dask.config.set({"distributed.worker.memory.target": 0.0005, "distributed.worker.memory.spill": 0.7}):
        build_site(project, dask_out)
    assert len(spilled) == 2 and sum(spilled) > 0, spilled
    pandas_files, dask_files = output_files(pandas_out), output_files(dask_out)
    assert sorted(pandas_files) == sorted(dask_files)
    differ = [name for name in pandas_files if pandas_files[name] != dask_files[name]]
    assert not differ, differ


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("engine: spark\n", "vsm.yaml:1:9: error[E104]: engine.kind: input should be 'pandas' or 'dask'"),
        (
            "engine:\n  kind: dask\n  scheduler: tcp://10.0.0.5:8786\n  workers: 2\n",
            "vsm.yaml:2:3: error[E104]: engine: workers and memory_limit size the local cluster",
        ),
        ("engine:\n  kind: dask\n  memory_limit: lots\n", "vsm.yaml:3:17: error[E104]: engine.memory_limit"),
    ],
    ids=["unknown-engine", "workers-with-scheduler", "bad-memory-limit"],
)
def test_engine_settings_are_checked_where_they_are_written(tmp_path: Path, text: str, expected: str) -> None:
    from generator.validate.stream import load_project

    (tmp_path / "streams").mkdir()
    (tmp_path / "vsm.yaml").write_text(text)
    _, problems = load_project(tmp_path)
    assert any(p.format().startswith(expected) for p in problems), [p.format() for p in problems]


def test_engine_settings_default_to_pandas_and_accept_a_name(tmp_path: Path) -> None:
    from generator.validate.stream import load_project

    (tmp_path / "streams").mkdir()
    project, problems = load_project(tmp_path)
    assert project.settings.engine == Engine() and Engine().kind == "pandas"
    (tmp_path / "vsm.yaml").write_text("engine: dask\n")
    project, problems = load_project(tmp_path)
    assert not [p for p in problems if p.location.path == "vsm.yaml"]  # (only E130: no streams)
    assert project.settings.engine.kind == "dask" and project.settings.engine.partition_events == 1_000_000
