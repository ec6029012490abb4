"""What the forecasts cost inside a real build: `python -m benchmarks.forecast [--project DIR] [--repeat N]`.

Runs `vsm build` in-process (no cache) and times, around the build's own calls, the forecasts
with their back-tests and SLE (generator/forecast/plan.py forecast_stream) and the Forecast page
with its charts and CSVs (render/pages/forecast_page.py render), against the whole build. Wall
time and this process's CPU time; the best of N builds. `make bench` runs it on the example
streams and on each synthetic size.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.timing import timed


def measure(project: Path) -> dict[str, list[float]]:
    """One build of `project`: wall and CPU seconds of the build, the forecasts and the page."""
    from generator import build as build_module
    from generator.metrics import stream as stream_module
    from generator.render.pages import forecast_page

    spent: dict[str, list[float]] = {k: [0.0, 0.0] for k in ("build", "forecast", "page")}
    originals = (stream_module.forecast_stream, forecast_page.render)
    stream_module.forecast_stream = timed(originals[0], spent, "forecast")  # type: ignore[attr-defined]
    forecast_page.render = timed(originals[1], spent, "page")  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as out:
            options = build_module.BuildOptions(project=project, out=Path(out) / "_site")
            report = timed(build_module.build, spent, "build")(options)
            assert report.written, [p.format() for p in report.errors]
    finally:
        stream_module.forecast_stream, forecast_page.render = originals  # type: ignore[attr-defined]
    return spent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runs = [measure(args.project) for _ in range(args.repeat)]
    best = min(runs, key=lambda r: r["forecast"][0] + r["page"][0])
    b, f, p = best["build"], best["forecast"], best["page"]
    print(f"project: {args.project}  (best of {args.repeat} builds by forecast + page wall time)")
    print("| part | wall | CPU |")
    print("|---|---:|---:|")
    print(f"| whole build | {b[0]:.2f} s | {b[1]:.2f} s |")
    print(f"| forecasts, back-tests, SLE | {f[0]:.3f} s | {f[1]:.3f} s |")
    print(f"| Forecast pages | {p[0]:.3f} s | {p[1]:.3f} s |")
    print(
        f"| forecast share of the build | {f[0] + p[0]:.3f} s ({100 * (f[0] + p[0]) / b[0]:.1f}%) | {f[1] + p[1]:.3f} s |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
