"""Edit-to-reload time of `vsm serve` on the example project, as a person sees it in the browser.

Starts the real DevServer on a copy of the example streams, opens a stream page
in Chromium (the system's, never a downloaded one) over real HTTP on 127.0.0.1,
then saves an edit and times from the save until the page has reloaded showing
the new text. Two kinds of edit, each repeated `--runs` times (default 7):

- notes: a sentence appended to the stream's notes.md (rendered only: the
  stream's metrics are reused and only its overview page is rendered again);
- stream.yaml description: a word added to the stream's description (shown, never
  computed from: the overview, home and group pages are rendered again);
- stream.yaml WIP limit: the same plus a stage's WIP limit changed (drawn on the
  maps only, generator/presentation.py: the pages with a map are rendered again);
- stream.yaml SLE target: the same plus the p85 cycle-time target changed, the
  SLE's default (the stream is read and computed again, all its pages rendered).

Prints each run with the server's own build time, then min/median/max per kind.
Targets (issue 12): median at most 1 s for notes, 2 s for stream.yaml.

    python -m benchmarks.reload [--runs 7] [--stream development] [--poll]
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


def _notes(folder: Path, marker: str, original: str) -> None:
    (folder / "notes.md").write_text(f"{original}\n{marker}\n", encoding="utf-8")


def _definition(folder: Path, marker: str, original: str) -> None:
    text = original.replace("\ndescription: >-\n  ", f"\ndescription: >-\n  {marker} ", 1)
    assert text != original, "the stream.yaml has no folded description to edit"
    (folder / "stream.yaml").write_text(text, encoding="utf-8")


def _limit(folder: Path, marker: str, original: str) -> None:
    """The description (to see the reload) and a WIP limit, which only the maps show."""
    limit = 11 + int(marker[-1]) % 2  # a different limit from the previous run's
    _definition(folder, marker, original.replace("wip_limit: 10", f"wip_limit: {limit}", 1))
    assert f"wip_limit: {limit}" in (folder / "stream.yaml").read_text(encoding="utf-8")


def _target(folder: Path, marker: str, original: str) -> None:
    """The description and the p85 cycle-time target, which the SLE is computed from."""
    days = 31 + int(marker[-1]) % 2
    _definition(folder, marker, original.replace("cycle_time_p85_days: 30", f"cycle_time_p85_days: {days}", 1))
    assert f"cycle_time_p85_days: {days}" in (folder / "stream.yaml").read_text(encoding="utf-8")


EDITS = {
    "notes": ("notes.md", _notes),
    "stream.yaml description": ("stream.yaml", _definition),
    "stream.yaml WIP limit": ("stream.yaml", _limit),
    "stream.yaml SLE target": ("stream.yaml", _target),
}


def _idle(origin: str) -> None:
    """Wait until the server builds nothing (its second pass included) and a page listens."""
    import json
    import urllib.request

    deadline = time.monotonic() + WAIT_MS / 1000
    while time.monotonic() < deadline:
        with urllib.request.urlopen(origin + "/__vsm/status", timeout=60) as resp:
            state = json.load(resp)
        if state["clients"] > 0 and not state["building"] and not state["pending"]:
            return
        time.sleep(0.05)
    raise TimeoutError("the server did not go idle")


def measure(runs: int, stream: str, poll: bool, settle: float = 1.0) -> dict[str, list[tuple[float, float, list[str]]]]:
    """Per kind of edit: (seconds from save to reloaded page, the server's build seconds, streams computed)."""
    import json
    import urllib.request

    from playwright.sync_api import sync_playwright

    work = Path(tempfile.mkdtemp(prefix="vsm-reload-bench-"))
    shutil.copytree(ROOT / "streams", work / "streams")
    server = DevServer(ServeOptions(project=work, port=0, poll=poll))
    results: dict[str, list[tuple[float, float, list[str]]]] = {kind: [] for kind in EDITS}
    folder = work / "streams" / stream
    try:
        started = time.perf_counter()
        server.start()
        print(f"initial build: {time.perf_counter() - started:.2f}s; serving {server.url}", file=sys.stderr)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(server.url + f"streams/{stream}/")
            for kind, (name, edit) in EDITS.items():
                original = (folder / name).read_text(encoding="utf-8")
                for run in range(runs):
                    # the (re)loaded page has connected to /__vsm/events: a save now reaches it
                    _idle(server.origin)
                    time.sleep(settle)  # the page drawing its charts after the last reload, as a person reads it
                    marker = f"Benchmark{kind.replace('.', '').replace(' ', '')}edit{run}"
                    saved = time.perf_counter()
                    with page.expect_event("load", timeout=WAIT_MS):
                        edit(folder, marker, original)
                    page.wait_for_selector(f"text={marker}", timeout=WAIT_MS)
                    seconds = time.perf_counter() - saved
                    _idle(server.origin)  # the second pass (the pages not open) has finished too
                    with urllib.request.urlopen(server.origin + "/__vsm/status", timeout=60) as resp:
                        state = json.load(resp)
                    results[kind].append((seconds, float(state["seconds"]), list(state["computed"])))
                    rest = f"; then {len(state['rest'])} more in {state['rest_seconds']:.2f}s" if state["rest"] else ""
                    print(f"{kind} run {run + 1}: {seconds:.2f}s save -> reloaded page (build {state['seconds']:.2f}s, computed {', '.join(state['computed']) or 'none'}, rendered {', '.join(u for u in state['rendered'] if u not in state['rest']) or 'none'}{rest})", file=sys.stderr)
                (folder / name).write_text(original, encoding="utf-8")
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="edits of each kind to time (default 7)")
    parser.add_argument("--stream", default="development", help="the example stream whose files are edited")
    parser.add_argument("--poll", action="store_true", help="use the polling observer")
    parser.add_argument("--settle", type=float, default=1.0, help="seconds between the server going idle and the next save (default 1)")
    args = parser.parse_args()
    results = measure(args.runs, args.stream, args.poll, args.settle)
    print()
    print("| edit | runs | save to reloaded page: min | median | max | server build median |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind, rows in results.items():
        totals = [r[0] for r in rows]
        builds = [r[1] for r in rows]
        print(f"| {kind} | {len(rows)} | {min(totals):.2f} s | {statistics.median(totals):.2f} s | {max(totals):.2f} s | {statistics.median(builds):.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
