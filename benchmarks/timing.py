"""Timing helpers shared by the benchmarks that time parts of a real build in-process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def timed(fn: Callable[..., Any], into: dict[str, list[float]], key: str) -> Callable[..., Any]:
    """`fn`, adding the wall and CPU seconds of every call to into[key] ([wall, cpu])."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            into[key][0] += time.perf_counter() - wall
            into[key][1] += time.process_time() - cpu

    return wrapper
