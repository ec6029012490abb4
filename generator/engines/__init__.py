"""Engines beyond the embedded one: `dask` runs the pandas engine's per-item reduction on the
partitions of a dask.distributed cluster (docs/scale.md). The pandas engine
(generator/metrics/stream.py compute_stream) stays the default."""
