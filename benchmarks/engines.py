"""The engine rows of `make bench`: the pandas engine and the dask engine on 1 and 2 local workers,
on the same Parquet log (docs/scale.md).

For each size (events; 7 per item, the bench profile of generator/synthetic.py)
the stream is generated once into bench-output/e<N>/ as events.parquet (row
groups of a million rows, zoned timestamps) and items.parquet. Each build runs
in a fresh process (`python -m benchmarks.engines --child ...`) that reports:
  - wall seconds of the whole `vsm build` (cluster start and stop included);
  - the peak resident memory of the build's own process (the driver), and of
    each dask worker process (logged by generator/engines/cluster.py at close).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.run import STAGES_YAML

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-output"
SIZES = (1_000_000,)
RUNS = (("pandas", 0), ("dask", 1), ("dask", 2))

STREAM_YAML = """\
name: Engine benchmark ({n:,} events)
timezone: UTC
sources:
  - kind: events-parquet
    path: data/events.parquet
  - kind: items-parquet
    path: data/items.parquet
"""


def prepare(events: int) -> Path:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from generator import synthetic

    project = OUT / f"e{events}"
    stream = project / "streams" / "bench"
    data = stream / "data"
    if not (data / "items.parquet").exists():
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        ev, it = synthetic._tables(synthetic.bench_profile(events // 7), seed=42)
        ev = pa.table(
            {
                "item_id": ev["item_id"],
                "timestamp": pc.cast(ev["timestamp"], pa.timestamp("ns", "UTC")),
                "state": ev["state"],
            }
        )
        pq.write_table(ev, data / "events.parquet", row_group_size=1_000_000)
        pq.write_table(it, data / "items.parquet", row_group_size=1_000_000)
        print(f"generated {events:,} events in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    (stream / "stream.yaml").write_text(STREAM_YAML.format(n=events) + STAGES_YAML)
    return project


def child(project: str, out: str, engine: str, workers: int) -> int:
    """One build in this process; prints wall seconds and peak RSS per process as JSON."""
    from generator.build import BuildOptions, build

    peaks: list[float] = []

    class Peaks(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if message.startswith("workers' peak RSS MB: "):
                peaks.extend(float(v) for v in message.split(": ", 1)[1].split())

    log = logging.getLogger("vsm.dask")
    log.setLevel(logging.DEBUG)
    log.addHandler(Peaks())
    started = time.perf_counter()
    options = BuildOptions(
        project=Path(project),
        out=Path(out),
        engine=engine,
        workers=workers or None,
        cache=False,
    )
    report = build(options)
    wall = time.perf_counter() - started
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"wall": wall, "driver": driver, "workers": peaks, "ok": report.written}))
    return 0 if report.written else 1


def run(project: Path, engine: str, workers: int) -> dict[str, object]:
    cmd = [sys.executable, "-m", "benchmarks.engines", "--child", str(project), str(project / f"_site-{engine}{workers}"), engine, str(workers)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env={**os.environ, "VSM_BUILD_COMMIT": "bench"})
    if proc.returncode:
        print(proc.stderr[-3000:], file=sys.stderr)
    lines = proc.stdout.strip().splitlines()
    if not lines:
        return {"wall": float("nan"), "driver": float("nan"), "workers": [], "ok": False}
    result: dict[str, object] = json.loads(lines[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--child", nargs=4, metavar=("PROJECT", "OUT", "ENGINE", "WORKERS"))
    parser.add_argument("--runs", nargs="*", default=[f"{e}:{w}" for e, w in RUNS], help="engine:workers, e.g. dask:2")
    args = parser.parse_args(argv)
    if args.child:
        project, out, engine, workers = args.child
        return child(project, out, engine, int(workers))
    rows = []
    for n in sorted(args.events):
        project = prepare(n)
        for spec in args.runs:
            engine, workers = spec.split(":")
            got = run(project, engine, int(workers))
            rows.append((n, engine, int(workers), got))
            print(f"{n:,} events, {spec}: {got}", file=sys.stderr)
    print()
    print("| events | engine | workers | wall | driver peak RSS | worker peak RSS |")
    print("|---:|---|---:|---:|---:|---|")
    for n, engine, workers, got in rows:
        fail = "" if got["ok"] else " (failed)"
        peaks = ", ".join(f"{p:,.0f} MB" for p in got["workers"]) or "-"  # type: ignore[attr-defined]
        print(f"| {n:,} | {engine} | {workers or '-'} | {got['wall']:.1f} s{fail} | {got['driver']:,.0f} MB | {peaks} |")
    return 0 if all(got["ok"] for *_, got in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
