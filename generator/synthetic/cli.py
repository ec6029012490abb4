"""The command line, `python -m generator.synthetic OUT_DIR --profile development|support|bench --items N --seed S`."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from generator.synthetic.profile import DEFAULT_SEED
from generator.synthetic.profiles import PROFILES, bench_profile
from generator.synthetic.tables import write_stream_data

# --------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.synthetic",
        description="Write a synthetic events.csv and items.csv into OUT_DIR.",
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument(
        "--profile", choices=["development", "support", "bench"], default="development"
    )
    parser.add_argument(
        "--items", type=int, default=None, help="number of items (default: the profile's)"
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})"
    )
    args = parser.parse_args(argv)
    if args.items is not None and args.items < 1:
        parser.error("--items must be at least 1")
    if args.profile == "bench":
        profile = bench_profile(args.items or 100_000)
    else:
        profile = PROFILES[args.profile]
        if args.items is not None:
            profile = dataclasses.replace(profile, n_items=args.items)
    began = time.perf_counter()
    write_stream_data(args.out_dir, profile, args.seed)
    took = time.perf_counter() - began
    sys.stderr.write(
        f"{profile.name}: {profile.n_items} items written to {args.out_dir} in {took:.1f} s\n"
    )
    return 0
