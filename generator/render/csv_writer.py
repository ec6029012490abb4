"""Fast CSV output from Arrow tables: minimal quoting, `\\n` line ends, UTF-8, byte-stable.

Used for the large downloads (items.csv) and by the synthetic data generator;
pandas' writer is an order of magnitude slower at a million rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

CHUNK = 200_000


def escape(text: pa.Array) -> pa.Array:
    """Quote a value only where CSV needs it (comma, quote, line break); nulls become empty."""
    numeric = (
        pa.types.is_integer(text.type)
        or pa.types.is_floating(text.type)
        or pa.types.is_boolean(text.type)
    )
    text = pc.fill_null(
        text if pa.types.is_large_string(text.type) else text.cast(pa.large_string()), ""
    )
    if numeric:
        return text
    needs = pc.match_substring_regex(text, '[",\r\n]')
    if not pc.any(needs).as_py():
        return text
    quote = pa.scalar('"', pa.large_string())
    quoted = pc.binary_join_element_wise(
        quote, pc.replace_substring(text, '"', '""'), quote, pa.scalar("", pa.large_string())
    )
    return pc.if_else(needs, quoted, text)


def _quoted(name: str) -> str:
    """A header field, quoted as escape() quotes values (in Python: a header is a few names)."""
    if any(c in name for c in '",\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def csv_chunks(table: pa.Table) -> Iterator[bytes | pa.Buffer]:
    """The header line, then the rows in chunks, escaped and joined on two threads (Arrow releases
    the GIL); chunks come out in order. Dictionary columns are escaped once, not per row."""
    names = table.column_names
    last = len(names) - 1
    arrays = [table[name].combine_chunks() for name in names]
    dictionaries = [
        escape(a.dictionary) if pa.types.is_dictionary(a.type) else None for a in arrays
    ]
    eol = pa.scalar("\n", pa.large_string())
    empty = pa.scalar("", pa.large_string())

    def chunk(start: int) -> pa.Buffer:
        parts = []
        for i, array in enumerate(arrays):
            piece = array.slice(start, CHUNK)
            dictionary = dictionaries[i]
            values = (
                escape(piece)
                if dictionary is None
                else pc.fill_null(dictionary.take(piece.indices), "")
            )
            parts.append(values)
        parts[last] = pc.binary_join_element_wise(parts[last], eol, empty)
        lines = (
            pc.binary_join_element_wise(*parts, pa.scalar(",", pa.large_string()))
            if len(parts) > 1
            else parts[0]
        )
        width = 8 if pa.types.is_large_string(lines.type) else 4
        bounds = np.frombuffer(
            lines.buffers()[1],
            dtype=f"<i{width}",
            count=len(lines) + 1,
            offset=lines.offset * width,
        )
        first, end = int(bounds[0]), int(bounds[-1])
        return lines.buffers()[2].slice(first, end - first) if end > first else pa.py_buffer(b"")

    header = ",".join(_quoted(name) for name in names) + "\n"
    yield header.encode("utf-8")
    if table.num_rows <= CHUNK:  # one chunk (every chart's table): no thread to start
        if table.num_rows:
            yield chunk(0)
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield from pool.map(chunk, range(0, table.num_rows, CHUNK))


def csv_bytes_arrow(table: pa.Table) -> bytes:
    return b"".join(bytes(part) for part in csv_chunks(table))
