"""Edit-to-reload time of `vsm serve` on the example project, as a person sees it in the browser.

Starts the real DevServer on a copy of the example streams, opens a stream page
in Chromium (the system's, never a downloaded one), then saves an edit to that
stream's notes.md and times from the save until the page has reloaded with the
new text; repeated `--runs` times (default 5). Prints each run with the
server's own build time and the median.

    python -m benchmarks.reload [--runs 5] [--stream development] [--poll]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from generator.serve import DevServer, ServeOptions

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 180_000


def measure(runs: int, stream: str, poll: bool) -> list[tuple[float, float, list[str]]]:
    """(seconds from save to reloaded page, the server's build seconds, streams computed) per run."""
    import json
    import urllib.request

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="vsm-reload-bench-"))
    shutil.copytree(ROOT / "streams", work / "streams")
    server = DevServer(ServeOptions(project=work, port=0, poll=poll))
    results = []
    try:
        started = time.perf_counter()
        server.start()
        print(f"initial build: {time.perf_counter() - started:.2f}s; serving {server.url}", file=sys.stderr)
        notes = work / "streams" / stream / "notes.md"
        original = notes.read_text(encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + f"streams/{stream}/")
            for run in range(runs):
                # the (re)loaded page has connected to /__vsm/events: a save now reaches it
                page.wait_for_function("() => fetch('/__vsm/status').then(r => r.json()).then(s => s.clients > 0 && !s.building && !s.pending)", timeout=WAIT_MS)
                marker = f"Benchmark edit number {run}."
                saved = time.perf_counter()
                with page.expect_event("load", timeout=WAIT_MS):
                    notes.write_text(f"{original}\n{marker}\n", encoding="utf-8")
                page.wait_for_selector(f"text={marker}", timeout=WAIT_MS)
                seconds = time.perf_counter() - saved
                with urllib.request.urlopen(server.origin + "/__vsm/status", timeout=60) as resp:
                    state = json.load(resp)
                results.append((seconds, float(state["seconds"]), list(state["computed"])))
                print(f"run {run + 1}: {seconds:.2f}s save -> reloaded page (build {state['seconds']:.2f}s, computed {', '.join(state['computed']) or 'none'})", file=sys.stderr)
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="edits to time (default 5)")
    parser.add_argument("--stream", default="development", help="the example stream whose notes.md is edited")
    parser.add_argument("--poll", action="store_true", help="use the polling observer")
    args = parser.parse_args()
    results = measure(args.runs, args.stream, args.poll)
    totals = [r[0] for r in results]
    builds = [r[1] for r in results]
    print(f"edit-to-reload median {statistics.median(totals):.2f}s over {len(totals)} runs "
          f"(min {min(totals):.2f}s, max {max(totals):.2f}s; median build {statistics.median(builds):.2f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
