"""Independent jobs on a few threads.

numpy's random draws, gathers and reductions, Arrow's kernels and scipy release the GIL while
they work, so jobs made of them (bootstrap intervals) overlap on a machine with more than one
core. Each job must depend only on its own arguments (its own seeded generator); the results
come back in the jobs' order and never depend on how many threads ran them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

MAX_WORKERS = 4


def run_jobs(jobs: Sequence[Callable[[], T]], workers: int | None = None) -> list[T]:
    """Each job's result, in order; on threads when there are several jobs and CPUs (default:
    the CPUs, at most MAX_WORKERS)."""
    workers = min(MAX_WORKERS, os.cpu_count() or 1) if workers is None else workers
    if workers <= 1 or len(jobs) <= 1:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        return list(pool.map(lambda job: job(), jobs))
