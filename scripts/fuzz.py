"""`make fuzz MINUTES=n`: fuzz every input the product reads for n minutes; keep what is found.

Round-robin over the targets of tests/fuzzlib.py, one mutated input at a time, seeds from a
counter (run N uses random.Random(f"{target}:{N}:{start}")), so a finding can be replayed from
its stored files. Stored under tests/data/fuzz/<target>/:
  found-<digest>/  an input that breaks the invariant (commit it with the fix: the test suite
                   replays every stored input);
  codes-<digest>/  the first input that produced a new set of problem codes for its target
                   (a cheap coverage signal), at most CORPUS_PER_TARGET per target, each at
                   most CORPUS_MAX_BYTES.
Prints, and writes to tests/data/fuzz/last-run.json, the inputs tried, violations, hangs and the
slowest input per target. Exit 1 when anything was found.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzzlib  # noqa: E402

CORPUS_PER_TARGET = 4
CORPUS_MAX_BYTES = 64 * 1024  # a stored input stays small: the repository keeps it


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--targets", default=",".join(fuzzlib.TARGETS))
    parser.add_argument("--start", type=int, default=0, help="first run number (vary it between runs)")
    args = parser.parse_args(argv)
    targets = [t for t in args.targets.split(",") if t]
    unknown = set(targets) - set(fuzzlib.TARGETS)
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    stats = {t: {"inputs": 0, "violations": 0, "hangs": 0, "slowest_s": 0.0, "codes": set()} for t in targets}
    stored = {t: len(list((fuzzlib.CORPUS / t).glob("codes-*"))) if (fuzzlib.CORPUS / t).exists() else 0 for t in targets}
    seen_codes: dict[str, set[frozenset[str]]] = {t: set() for t in targets}
    end = time.monotonic() + args.minutes * 60
    n = args.start
    with tempfile.TemporaryDirectory(prefix="vsm-fuzz-") as tmp:
        work = Path(tmp)
        while time.monotonic() < end:
            for target in targets:
                seed, files, outcome = fuzzlib.run_random(target, random.Random(f"{target}:{n}"), work)
                s = stats[target]
                s["inputs"] += 1
                s["slowest_s"] = max(s["slowest_s"], round(outcome.seconds, 2))
                s["codes"] |= outcome.codes
                if outcome.violations:
                    s["violations"] += 1
                    s["hangs"] += any(v.startswith("hang") for v in outcome.violations)
                    folder = fuzzlib.save(target, seed, files, "found")
                    print(f"{target}: {outcome.violations[0].splitlines()[0]} -> {folder.relative_to(ROOT)}", flush=True)
                elif outcome.codes not in seen_codes[target]:
                    seen_codes[target].add(outcome.codes)
                    small = sum(map(len, files.values())) <= CORPUS_MAX_BYTES
                    if small and stored[target] < CORPUS_PER_TARGET and len(seen_codes[target]) > 1:
                        fuzzlib.save(target, seed, files, "codes")
                        stored[target] += 1
            n += 1
    report = {t: {**s, "codes": sorted(s["codes"])} for t, s in stats.items()}
    total = sum(s["inputs"] for s in stats.values())
    bad = sum(s["violations"] for s in stats.values())
    for t, s in report.items():
        print(f"{t:22} {s['inputs']:6} inputs  {s['violations']} violations  {s['hangs']} hangs  slowest {s['slowest_s']} s")
    print(f"{total} inputs in {args.minutes:g} min, {bad} violations")
    fuzzlib.CORPUS.mkdir(parents=True, exist_ok=True)
    summary = {"minutes": args.minutes, "start": args.start, "inputs": total, "violations": bad, "targets": report}
    (fuzzlib.CORPUS / "last-run.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
