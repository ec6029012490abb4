"""Seeded synthetic delivery data: a commit history with release tags (git-history `format: csv`) and incidents.

    python -m generator.synthetic_delivery OUT_DIR [--seed S]

writes OUT_DIR/commits.csv and OUT_DIR/tags.csv in the exported git-history
form (the columns of tests/data/real/git-history) and OUT_DIR/incidents.csv
(incidents-csv). The history is a main line with short-lived feature branches
merged back, about 8 commits per working day from 2025-04-01 to 2026-09-30;
releases (`v1.N.0`) every one to three working days, more often after
2026-05-04; some releases cause an incident, resolved within hours.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

DEFAULT_SEED = 20261001
START = pd.Timestamp("2025-04-01T00:00:00", tz="Europe/Amsterdam")
END = pd.Timestamp("2026-09-30T18:00:00", tz="Europe/Amsterdam")
CHANGE = pd.Timestamp("2026-05-04T00:00:00", tz="Europe/Amsterdam")


def _sha(seed: int, i: int) -> str:
    return hashlib.sha1(f"{seed}:{i}".encode()).hexdigest()


def _iso(stamps: pd.DatetimeIndex) -> list[str]:
    text = stamps.strftime("%Y-%m-%dT%H:%M:%S%z")
    return [t[:-2] + ":" + t[-2:] for t in text]


def generate(seed: int = DEFAULT_SEED) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(commits, tags, incidents) frames, as written to CSV."""
    rng = np.random.default_rng(seed)
    days = pd.date_range(START.normalize(), END.normalize(), freq="D")
    work = days[days.day_of_week < 5]
    per_day = rng.poisson(8, len(work))
    day_of = np.repeat(np.arange(len(work)), per_day)
    minutes = rng.integers(9 * 60, 18 * 60, len(day_of))
    order = np.lexsort((minutes, day_of))
    day_of, minutes = day_of[order], minutes[order]
    times = (
        work[day_of]
        + pd.to_timedelta(minutes, unit="min")
        + pd.to_timedelta(rng.integers(0, 60, len(day_of)), unit="s")
    )
    n = len(times)
    # about one commit in five is a merge of a short branch: its second parent is a commit 1-4 steps back
    is_merge = rng.random(n) < 0.2
    is_merge[:5] = False
    shas = np.array([_sha(seed, i) for i in range(n)], dtype=object)
    parents = np.empty(n, dtype=object)
    parents[0] = ""
    back = rng.integers(2, 6, n)
    for i in range(1, n):
        parents[i] = shas[i - 1] + (" " + shas[max(i - back[i], 0)] if is_merge[i] else "")
    # authors sometimes commit hours before the committer (rebases)
    author = times - pd.to_timedelta(
        np.where(rng.random(n) < 0.15, rng.integers(1, 72, n), 0), unit="h"
    )
    epoch = times.tz_convert("UTC").as_unit("s").asi8
    commits = pd.DataFrame(
        {
            "sha": shas,
            "parent_shas": parents,
            "is_merge": is_merge.astype(int),
            "author_date": _iso(author),
            "committer_date": _iso(times),
            "author_epoch": author.tz_convert("UTC").as_unit("s").asi8,
            "committer_epoch": epoch,
        }
    ).iloc[::-1]
    # releases: every 1-3 working days before the process change, every 1-2 after it, at 16:00
    release_days = []
    d = 0
    while d < len(work):
        release_days.append(d)
        d += int(rng.integers(1, 3 if work[d] >= CHANGE.normalize() else 4))
    rel_times = work[release_days] + pd.Timedelta(hours=16)
    tagged = np.searchsorted(times.asi8, rel_times.asi8, side="right") - 1
    keep = tagged >= 0
    rel_times, tagged = rel_times[keep], tagged[keep]
    keep = np.concatenate(([True], tagged[1:] != tagged[:-1]))
    rel_times, tagged = rel_times[keep], tagged[keep]
    names = [f"v1.{i}.0" for i in range(len(tagged))]
    annotated = rng.random(len(tagged)) < 0.5
    tags = pd.DataFrame(
        {
            "tag": names,
            "tag_object_type": np.where(annotated, "tag", "commit"),
            "tagger_date": [
                t if a else "" for t, a in zip(_iso(rel_times), annotated, strict=True)
            ],
            "commit_sha": shas[tagged],
            "commit_date": np.array(_iso(times), dtype=object)[tagged],
            "release_date": [
                t if a else c
                for t, c, a in zip(
                    _iso(rel_times),
                    np.array(_iso(times), dtype=object)[tagged],
                    annotated,
                    strict=True,
                )
            ],
        }
    )
    # a few pre-release tags, which the default release pattern ignores
    pre = rng.choice(len(tags), size=6, replace=False)
    extra = tags.iloc[np.sort(pre)].copy()
    extra["tag"] = [t + "-rc1" for t in extra["tag"]]
    tags = pd.concat([tags, extra], ignore_index=True).sort_values(
        ["release_date", "tag"], kind="stable"
    )
    # incidents: about 7% of releases cause one, resolved in 1-30 hours; a few not caused by a release
    release_at = pd.to_datetime(tags["release_date"], format="ISO8601", utc=True)
    real = ~tags["tag"].str.endswith("-rc1")
    caused = real & (rng.random(len(tags)) < 0.07)
    opened = release_at[caused] + pd.to_timedelta(
        rng.integers(10, 600, int(caused.sum())), unit="min"
    )
    duration = pd.to_timedelta(
        np.round(rng.lognormal(np.log(4), 0.9, int(caused.sum())) * 60), unit="min"
    )
    incidents = pd.DataFrame(
        {
            "incident_id": [f"INC-{100 + i}" for i in range(int(caused.sum()))],
            "opened": _iso(pd.DatetimeIndex(opened).tz_convert("Europe/Amsterdam")),
            "resolved": _iso(pd.DatetimeIndex(opened + duration).tz_convert("Europe/Amsterdam")),
            "deploy_id": tags.loc[caused, "tag"].to_numpy(),
            "severity": rng.choice(["sev2", "sev3", "sev3", "sev4"], int(caused.sum())),
        }
    )
    return commits, tags, incidents


def write(out_dir: Path, seed: int = DEFAULT_SEED) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    commits, tags, incidents = generate(seed)
    for name, frame in (("commits.csv", commits), ("tags.csv", tags), ("incidents.csv", incidents)):
        (out_dir / name).write_bytes(frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.synthetic_delivery", description=__doc__.splitlines()[0]
    )
    parser.add_argument("out_dir", type=Path, metavar="OUT_DIR")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    write(args.out_dir, args.seed)
    sys.stderr.write(f"delivery data written to {args.out_dir}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
