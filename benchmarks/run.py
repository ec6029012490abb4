"""`make bench`: time full `vsm build`s of synthetic streams and a DuckDB yardstick on the same CSV.

For each size (10k, 100k, 1M items, 7 events each) it generates a stream with
the project's own generator, then runs, each in a fresh process so peak memory
is the process's own:
  - `vsm build` end to end (wall time, peak RSS)
  - a DuckDB query computing per-item lead time and time per state from the same events.csv
and prints a table; then `python -m benchmarks.forecast` times the forecasts inside a build of
the example streams and of each size. Figures are recorded by hand in docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench-output"
SIZES = (10_000, 100_000, 1_000_000)

# the bench profile's stages (generator/synthetic bench_profile), shared by every benchmark stream
STAGES_YAML = """\
stages:
  - {id: backlog, states: [Open], kind: wait}
  - {id: selected, states: [Selected for Development], kind: wait}
  - {id: dev, states: [In Progress], kind: active}
  - {id: review, states: [In Review], kind: active}
  - {id: qa, states: [In QA], kind: active}
  - {id: deploy-queue, states: [Ready to Deploy], kind: wait}
  - {id: done, states: [Done], kind: done}
commitment: dev
as_of: 2026-10-01T00:00:00Z
"""

STREAM_YAML = """\
name: Benchmark stream ({n:,} items)
timezone: UTC
sources:
  - kind: events-csv
    path: data/events.csv
  - kind: items-csv
    path: data/items.csv
"""

DUCKDB_QUERY = """
WITH e AS (
  SELECT item_id, CAST("timestamp" AS TIMESTAMPTZ) AS ts, state
  FROM read_csv('{events}', header = true, columns = {{'item_id': 'VARCHAR', 'timestamp': 'VARCHAR', 'state': 'VARCHAR', 'blocked': 'VARCHAR', 'actor': 'VARCHAR'}})
),
s AS (
  SELECT item_id, state, ts, lead(ts) OVER (PARTITION BY item_id ORDER BY ts) AS nxt FROM e
),
per_state AS (
  SELECT item_id, state, sum(epoch(nxt) - epoch(ts)) / 86400.0 AS days FROM s WHERE nxt IS NOT NULL GROUP BY ALL
),
per_item AS (
  SELECT item_id, (epoch(max(ts)) - epoch(min(ts))) / 86400.0 AS lead_days FROM e GROUP BY item_id
)
SELECT (SELECT count(*) FROM per_state) AS state_rows, (SELECT count(*) FROM per_item) AS items, (SELECT avg(lead_days) FROM per_item) AS mean_lead
"""


WRAPPER = (
    "import resource, subprocess, sys, time\n"
    "t = time.perf_counter()\n"
    "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
    "w = time.perf_counter() - t\n"
    "sys.stderr.write(p.stderr[-2000:] if p.returncode else '')\n"
    "print(w, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)\n"
)


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """Run a command under a fresh wrapper process; return wall seconds, its peak RSS in MB, exit code."""
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], env=env, capture_output=True, text=True, check=False)
    if proc.stderr:
        print(proc.stderr, file=sys.stderr)
    wall, rss_kb, code = proc.stdout.split()
    return float(wall), int(rss_kb) / 1024, int(code)


def prepare(n: int) -> Path:
    from generator import synthetic

    project = OUT / f"n{n}"
    stream = project / "streams" / "bench"
    data = stream / "data"
    if not (data / "events.csv").exists():
        data.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        profile = synthetic.bench_profile(n)
        synthetic.write_stream_data(data, profile, seed=42)
        print(f"generated {n:,} items in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    (stream / "stream.yaml").write_text(STREAM_YAML.format(n=n) + STAGES_YAML)
    return project


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    args = parser.parse_args()
    vsm = str(Path(sys.executable).parent / "vsm")
    rows = []
    for n in sorted(args.sizes):
        project = prepare(n)
        events = project / "streams" / "bench" / "data" / "events.csv"
        size_mb = events.stat().st_size / 1e6
        wall, peak, code = measure([vsm, "build", "--project", str(project), "--out", str(project / "_site"), "--quiet", "--no-cache"], env={**os.environ, "VSM_BUILD_COMMIT": "bench"})
        query = DUCKDB_QUERY.format(events=events.as_posix())
        d_wall, d_peak, d_code = measure([sys.executable, "-c", f"import duckdb; print(duckdb.sql({query!r}).fetchall())"])
        rows.append((n, size_mb, wall, peak, code, d_wall, d_peak, d_code))
    print()
    print("| items | events | events.csv | vsm build wall | vsm build peak RSS | DuckDB wall | DuckDB peak RSS |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, size_mb, wall, peak, code, d_wall, d_peak, d_code in rows:
        fail = "" if code == 0 else f" (exit {code})"
        dfail = "" if d_code == 0 else f" (exit {d_code})"
        print(f"| {n:,} | {7 * n:,} | {size_mb:,.0f} MB | {wall:.1f} s{fail} | {peak:,.0f} MB | {d_wall:.1f} s{dfail} | {d_peak:,.0f} MB |")
    if len(rows) > 1:
        base = rows[0]
        print()
        for n, _, wall, *_ in rows[1:]:
            print(f"{n:,} items: {wall / base[2]:.1f}x the time of {base[0]:,} for {n / base[0]:.0f}x the items")
    # what the forecasts add (issue 10): the example streams, then each size, in fresh processes
    forecast_codes = []
    for project, repeat in [(ROOT, 3), *((OUT / f"n{n}", 1) for n in sorted(args.sizes))]:
        print()
        forecast_codes.append(
            subprocess.run([sys.executable, "-m", "benchmarks.forecast", "--project", str(project), "--repeat", str(repeat)], cwd=ROOT, check=False).returncode
        )
    return 0 if all(r[4] == 0 for r in rows) and not any(forecast_codes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
