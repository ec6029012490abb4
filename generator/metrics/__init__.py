"""Pure functions over frames: timelines, per-item measures, aggregates, comparison, DORA.

Nothing here does I/O, reads a clock or keeps global state: `as_of` and seeds are arguments.
"""
