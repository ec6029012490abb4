"""The dask cluster a build runs on: a LocalCluster of worker processes on the loopback
interface, or a running scheduler at an address (docs/scale.md).

Problems starting or reaching it are E310, workers running other code E311,
located at the setting that chose the cluster (vsm.yaml or the command line).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from generator.errors import Location, Problem

CONNECT_TIMEOUT = "20s"
LOG = logging.getLogger("vsm.dask")


@dataclass
class Cluster:
    client: object  # distributed.Client
    local: object | None  # distributed.LocalCluster when started here

    @property
    def workers(self) -> int:
        info = self.client.scheduler_info(n_workers=-1)  # type: ignore[attr-defined]
        return max(1, len(info.get("workers", {})))

    def close(self) -> None:
        if LOG.isEnabledFor(logging.DEBUG):  # what the benchmarks record per process
            try:
                peaks = self.client.run(_peak_rss)  # type: ignore[attr-defined]
            except Exception as exc:  # a lost worker must not fail the build at its end
                LOG.debug("workers' peak RSS unknown: %s", exc)
            else:
                LOG.debug(
                    "workers' peak RSS MB: %s", " ".join(f"{peaks[w]:.0f}" for w in sorted(peaks))
                )
        self.client.close()  # type: ignore[attr-defined]
        if self.local is not None:
            self.local.close()  # type: ignore[attr-defined]


def _peak_rss() -> float:
    """This process's peak resident set size in MB (Linux reports kB)."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker_digest() -> str:
    from generator.cache import code_digest

    return code_digest()


def start(
    scheduler: str | None, workers: int | None, memory_limit: str | None, where: Location
) -> tuple[Cluster | None, list[Problem]]:
    """Connect to `scheduler`, or start a LocalCluster (processes, 127.0.0.1 only)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        return None, [
            Problem(
                "E310",
                "error",
                where,
                f"the dask engine needs dask.distributed, which cannot be imported: {exc}",
                "install vsm-site with its dependencies (pip install vsm-site)",
            )
        ]
    local = None
    try:
        if scheduler:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False)
        else:
            local = LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",  # its HTTP routes cannot be turned off: a free loopback port
                worker_dashboard_address=None,
                memory_limit=memory_limit or "auto",
                silence_logs=logging.ERROR,
            )
            client = Client(local, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        if local is not None:
            local.close()
        what = f"the dask scheduler at {scheduler}" if scheduler else "a local dask cluster"
        return None, [
            Problem(
                "E310",
                "error",
                where,
                f"cannot reach {what}: {exc}",
                "start the scheduler and its workers (dask-scheduler, dask-worker ADDRESS) and "
                "check the address, or leave the scheduler out to start a local cluster"
                if scheduler
                else "check memory_limit and workers in vsm.yaml",
            )
        ]
    cluster = Cluster(client, local)
    problem = _check_workers(cluster, where)
    if problem is not None:
        cluster.close()
        return None, [problem]
    return cluster, []


def _check_workers(cluster: Cluster, where: Location) -> Problem | None:
    """Every worker must run this code with these libraries: the figures must be the same."""
    from generator.cache import code_digest

    try:
        found = cluster.client.run(_worker_digest)  # type: ignore[attr-defined]
    except Exception as exc:  # a worker that cannot import the package fails here
        return Problem(
            "E311",
            "error",
            where,
            f"the cluster's workers cannot run vsm: {type(exc).__name__}: {exc}",
            "install the same vsm-site (and its pinned dependencies) on every worker",
        )
    if not found:
        return Problem(
            "E310",
            "error",
            where,
            "the dask cluster has no workers",
            "start workers for the scheduler (dask-worker ADDRESS)",
        )
    other = sorted(w for w, digest in found.items() if digest != code_digest())
    if other:
        return Problem(
            "E311",
            "error",
            where,
            f"{len(other)} worker(s) run other vsm code or library versions than this build "
            f"({', '.join(other[:3])})",
            "install the same vsm-site commit and constraints.txt on the workers as here",
        )
    return None
