"""From simulated timelines to the canonical events.csv and items.csv.

Local times written with their UTC offsets (or naive), titles, the row order,
and the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.render.csv_writer import csv_chunks
from generator.synthetic.localtime import civil, utc_offsets
from generator.synthetic.profile import DAY, I64, Profile
from generator.synthetic.simulation import simulate


def _digits(value: I64, width: int) -> npt.NDArray[np.uint8]:
    """ASCII digits of non-negative integers, zero-padded: shape (len(value), width)."""
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (48 + (value[:, None] // powers) % 10).astype(np.uint8)


_CLOCK: npt.NDArray[np.uint8] | None = None


def _clock() -> npt.NDArray[np.uint8]:
    """`HH:MM:SS` for every second of a day, shape (86400, 8)."""
    global _CLOCK
    if _CLOCK is None:
        sec = np.arange(DAY, dtype=np.int64)
        table = np.full((DAY, 8), ord(":"), dtype=np.uint8)
        table[:, 0:2] = _digits(sec // 3600, 2)
        table[:, 3:5] = _digits((sec // 60) % 60, 2)
        table[:, 6:8] = _digits(sec % 60, 2)
        _CLOCK = table
    return _CLOCK


def _format_times(wall: I64, p: Profile) -> pa.Array:
    """ISO 8601 text for local wall seconds, with `+hh:mm` (offset style) or without (naive).

    Built as fixed-width bytes from small lookup tables (one row per day of the
    span, per second of the day and per distinct offset), so millions of values
    take a fraction of a second.
    """
    n = len(wall)
    offset: I64 | None = None
    if p.timestamp_style == "offset":
        wall, offset = utc_offsets(wall, p.timezone)
    width = 19 + (6 if offset is not None else 0)
    out = np.empty((n, width), dtype=np.uint8)
    if n:
        day = wall // DAY
        first = int(day.min())
        span = np.arange(first, int(day.max()) + 1, dtype=np.int64)
        y, m, d = civil(span)
        dates = np.full((len(span), 11), ord("-"), dtype=np.uint8)
        dates[:, 0:4] = _digits(y, 4)
        dates[:, 5:7] = _digits(m, 2)
        dates[:, 8:10] = _digits(d, 2)
        dates[:, 10] = ord("T")
        out[:, 0:11] = np.take(dates, day - first, axis=0)
        out[:, 11:19] = np.take(_clock(), wall - day * DAY, axis=0)
        if offset is not None:
            kinds, which = np.unique(offset, return_inverse=True)
            mag = np.abs(kinds) // 60
            signs = np.full((len(kinds), 6), ord(":"), dtype=np.uint8)
            signs[:, 0] = np.where(kinds < 0, ord("-"), ord("+"))
            signs[:, 1:3] = _digits(mag // 60, 2)
            signs[:, 4:6] = _digits(mag % 60, 2)
            out[:, 19:25] = np.take(signs, which, axis=0)
    kind = pa.string() if n * width < 2**31 else pa.large_string()
    offsets = np.arange(n + 1, dtype=np.int32 if kind == pa.string() else np.int64) * width
    return pa.Array.from_buffers(kind, n, [None, pa.py_buffer(offsets), pa.py_buffer(out)])


def _dictionary(names: Sequence[str], codes: I64) -> pa.DictionaryArray:
    """names[codes], dictionary-encoded; negative codes are nulls."""
    indices = pa.array(codes.astype(np.int32), mask=codes < 0, type=pa.int32())
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(names) or [""], type=pa.string()))


def _titles(p: Profile, rng: np.random.Generator, item_type: I64) -> pa.Array:
    n = len(item_type)
    openers: list[str] = []
    start: list[int] = []
    count: list[int] = []
    for t in p.item_types:
        words = t.openers or p.title_openers
        start.append(len(openers))
        count.append(len(words))
        openers.extend(words)
    first = np.array(start)[item_type] + (rng.random(n) * np.array(count)[item_type]).astype(
        np.int64
    )
    obj = rng.integers(0, len(p.title_objects), size=n)
    ctx = rng.integers(0, len(p.title_contexts), size=n)
    # openers and objects are joined by a space; contexts carry their own
    title = pc.binary_join_element_wise(
        _dictionary(openers, first).dictionary_decode(),
        pc.binary_join_element_wise(
            _dictionary(p.title_objects, obj).dictionary_decode(),
            _dictionary(p.title_contexts, ctx).dictionary_decode(),
            "",
        ),
        " ",
    )
    if p.special_titles and n >= len(p.special_titles):
        chosen = rng.choice(n, size=len(p.special_titles), replace=False)
        mask = np.zeros(n, dtype=bool)
        mask[chosen] = True
        # replace_with_mask fills the masked slots in item order
        values = [p.special_titles[i] for i in np.argsort(chosen)]
        title = pc.replace_with_mask(title, pa.array(mask), pa.array(values, type=pa.string()))
    return title


def _sort_order(t: I64, item: I64, seq: I64) -> I64:
    """Row order by instant, then item, then the item's own order."""
    if len(t) == 0:
        return np.zeros(0, dtype=np.int64)
    t0 = t - t.min()
    n_item = int(item.max()) + 1
    n_seq = int(seq.max()) + 1
    if float(t0.max() + 1) * n_item * n_seq < 2**62:
        key = (t0 * n_item + item) * n_seq + seq  # unique, so any sort gives the same order
        return np.argsort(key)
    return np.lexsort((seq, item, t))


def _tables(p: Profile, seed: int) -> tuple[pa.Table, pa.Table]:
    """The events and items tables; repeated texts stay dictionary-encoded."""
    events, created, item_type, state_names, actor_names = simulate(p, seed)
    n = len(created)
    numbers = pc.cast(pa.array(p.first_key + np.arange(n, dtype=np.int64)), pa.string())
    keys = pc.binary_join_element_wise(f"{p.key_prefix}-", numbers, "")
    rng = np.random.default_rng([seed, 1])  # text draws never move the timeline
    items = pa.table(
        {
            "item_id": keys,
            "type": _dictionary([t.name for t in p.item_types], item_type),
            "title": _titles(p, rng, item_type),
            "created": _format_times(created, p),
            "url": pc.binary_join_element_wise(p.url_prefix, keys, ""),
        }
    )
    order = _sort_order(events.t, events.item, events.seq)
    table = pa.table(
        {
            "item_id": pa.DictionaryArray.from_arrays(
                pa.array(events.item[order].astype(np.int32)), keys
            ),
            "timestamp": _format_times(events.t[order], p),
            "state": _dictionary(state_names, events.state[order]),
            "blocked": _dictionary(("false", "true"), events.blocked[order]),
            "actor": _dictionary(actor_names, events.actor[order]),
        }
    )
    return table, items


def _decoded(column: pa.ChunkedArray) -> pa.Array:
    array = column.combine_chunks()
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return pc.fill_null(array, "")


def _to_frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: _decoded(table[name]).to_pandas() for name in table.column_names})


def generate(profile: Profile, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(events, items) as frames of strings (empty = ""), sorted by timestamp, then item."""
    events, items = _tables(profile, seed)
    return _to_frame(events), _to_frame(items)


# --------------------------------------------------------------------------- CSV


def _write_csv(table: pa.Table, path: Path) -> None:
    """Minimal quoting, `\\n` line ends, UTF-8 (generator/render/csv_writer.py)."""
    with path.open("wb") as out:
        for part in csv_chunks(table):
            out.write(part)


def write_stream_data(folder: Path, profile: Profile, seed: int) -> None:
    """Write folder/events.csv and folder/items.csv (UTF-8, \\n, no index), same bytes per seed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    events, items = _tables(profile, seed)
    _write_csv(events, folder / "events.csv")
    _write_csv(items, folder / "items.csv")
