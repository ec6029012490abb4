"""Everything about an event log that does not depend on as_of, computed once.

Rows are mapped to stages, sorted by (item, instant, source, line), stripped
of duplicates, and the `blocked` flag, the state and the stage are carried
forward per item. Carrying forward is causal, so cutting the prepared rows at
any as_of later gives the same result as preparing the cut log.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from generator.model import StageMap
from generator.validate.schema import FLOW_TYPES, StreamDef

UNMAPPED = -1  # stage code of the `unmapped` pseudo-stage
BLOCKED_STATE = -2  # state code of a state listed under blocked.states
NO_STATE = -3  # row that changes only blocked or actor
NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Prepared:
    """A stream's rows ready for timelines; one entry per kept row unless noted.

    items: one row per item (item_id, type, title, url, given_created ns or NAT, flow: index into
    FLOW_TYPES), in item-code order (sorted by item_id).
    item: item code (index into items); ts: UTC ns; stage: stage index or UNMAPPED;
    blocked: effective blocked (flag or blocked state); last_at_instant: the row whose state lasts;
    actor: actor code (-1 none); source/line/file: provenance of the row.
    """

    items: pd.DataFrame
    item: np.ndarray
    ts: np.ndarray
    stage: np.ndarray
    blocked: np.ndarray
    last_at_instant: np.ndarray
    actor: np.ndarray
    file: np.ndarray
    line: np.ndarray
    actors: np.ndarray  # actor code -> name
    files: np.ndarray  # file code -> path
    unmapped_states: pd.DataFrame  # state, rows, first file, first line
    duplicates: int
    excluded_items: int
    has_actor: bool
    first_ts: np.ndarray  # per item: its first event instant (BIG when it has none)
    item_dtype: (
        pd.CategoricalDtype
    )  # categories = item ids in code order, for cheap item_id columns
    # unmapped rows per (state, file): rows and first line; what unmapped_states is made of
    unmapped_by_file: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["state", "file", "rows", "line"])
    )


def _carry_forward(
    values: np.ndarray, missing: np.ndarray, group_start: np.ndarray, initial: int
) -> np.ndarray:
    """Per-group forward fill of `values` where `missing`, starting each group at `initial`."""
    filled = values.astype(np.int64, copy=True)
    start_missing = group_start & missing
    filled[start_missing] = initial
    have = ~missing | group_start
    idx = np.where(have, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return filled[idx]


def _arrow(values: pd.Series | pd.api.extensions.ExtensionArray) -> pa.Array:
    """A pandas string column as one Arrow string array (zero-copy for Arrow-backed columns)."""
    arr = pa.array(values.array if isinstance(values, pd.Series) else values, from_pandas=True)
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    return arr if pa.types.is_large_string(arr.type) else arr.cast(pa.large_string())


def _codes(values: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Dictionary codes (-1 for null) and the dictionary of a string column."""
    encoded = pc.dictionary_encode(values)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return codes, encoded.dictionary


def map_states(names: pa.Array, stage_map: StageMap, stage_index: dict[str, int]) -> np.ndarray:
    """State names (a dictionary) -> code: stage index, UNMAPPED, BLOCKED_STATE or NO_STATE (empty)."""
    table = np.empty(len(names), dtype=np.int64)
    for i, name in enumerate(names.to_pylist()):
        text = str(name)
        if not text.strip():
            table[i] = NO_STATE
            continue
        stage = stage_map.stage_of(text)
        table[i] = (
            UNMAPPED if stage is None else (BLOCKED_STATE if stage == "" else stage_index[stage])
        )
    return table


def _item_info(
    event_ids: pa.Array, items: pd.DataFrame, definition: StreamDef
) -> tuple[pd.DataFrame, pa.Array]:
    """One row per item, in item-id order: item_id, type, title, url, given_created, flow (code).

    `event_ids` are the distinct item ids of the events; the universe adds the items frame's.
    """
    item_ids = _arrow(items["item_id"]) if len(items) else pa.array([], pa.large_string())
    universe = pc.unique(pa.concat_arrays([event_ids, item_ids]))
    universe = universe.take(pc.array_sort_indices(universe))
    n = len(universe)
    # first row of each item in the items frame wins (the collector already merged sources)
    found = pc.index_in(universe, value_set=item_ids)
    has = np.asarray(pc.is_valid(found).to_numpy(zero_copy_only=False), dtype=bool)
    row_of = pc.fill_null(found, 0).to_numpy(zero_copy_only=False).astype(np.int64)
    rows = pa.array(row_of, mask=~has)
    info = pd.DataFrame({"item_id": pd.arrays.ArrowStringArray(universe)})
    for col in ("type", "title", "url"):
        if col in items and len(items):
            info[col] = pd.arrays.ArrowStringArray(_arrow(items[col]).take(rows))
        else:
            info[col] = pd.arrays.ArrowStringArray(pa.nulls(n, pa.large_string()))
    given = np.full(n, NAT, dtype=np.int64)
    if "created" in items and len(items):
        created = items["created"].to_numpy(dtype=np.int64, na_value=NAT)
        given[has] = created[row_of[has]]
    info["given_created"] = given
    type_codes, type_names = _codes(_arrow(info["type"]))
    mapping = dict(definition.item_types)
    flow_of = np.array(
        [FLOW_TYPES.index(mapping.get(str(t), "other")) for t in type_names.to_pylist()]
        + [FLOW_TYPES.index("other")],
        dtype=np.int8,
    )
    info["flow"] = flow_of[type_codes]
    return info, universe


def row_order(item: np.ndarray, ts: np.ndarray, source: np.ndarray, line: np.ndarray) -> np.ndarray:
    """The permutation sorting rows by (item, instant, source, line).

    When the rows already come in (source, line) order, as the collector builds them, a
    stable sort by instant keeps that order among equal instants; its rank packed under the
    item code then needs one plain sort, twice as fast as a four-key lexsort.
    """
    n = len(ts)
    in_file_order = n < 2 or bool(
        np.all((source[1:] > source[:-1]) | ((source[1:] == source[:-1]) & (line[1:] >= line[:-1])))
    )
    if not in_file_order or n >= 1 << 40 or (len(item) and int(item.max()) >= 1 << 23):
        return np.lexsort((line, source, ts, item))
    by_time = np.argsort(ts, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[by_time] = np.arange(n, dtype=np.int64)
    return np.argsort((item.astype(np.int64) << 40) | rank)


def prepare(
    events: pd.DataFrame,
    items: pd.DataFrame,
    definition: StreamDef,
    stage_map: StageMap | None = None,
) -> Prepared:
    stage_map = stage_map or StageMap.build(definition)
    stage_index = {s.id: i for i, s in enumerate(definition.stages)}

    # the three text columns are encoded at once (Arrow's kernels release the GIL)
    with ThreadPoolExecutor(max_workers=3) as pool:
        columns: list[pd.Series] = [events["item_id"], events["state"], events["actor"]]
        encoded = list(pool.map(lambda column: _codes(_arrow(column)), columns))
    (event_codes, event_ids), (state_raw, state_names), (actor_code, actor_names) = encoded

    # the item universe: items listed anywhere, minus excluded types
    info, universe = _item_info(event_ids, items, definition)
    excluded_types = list(definition.exclude.types)
    excluded = (
        pc.fill_null(
            pc.is_in(_arrow(info["type"]), value_set=pa.array(excluded_types, pa.large_string())),
            False,
        ).to_numpy(zero_copy_only=False)
        if excluded_types
        else np.zeros(len(info), bool)
    )
    excluded_count = int(excluded.sum())
    new_code = np.cumsum(~excluded) - 1
    new_code[excluded] = -1
    info = info[~excluded].reset_index(drop=True)

    position = (
        pc.index_in(event_ids, value_set=universe).to_numpy(zero_copy_only=False).astype(np.int64)
    )
    item = new_code[position][event_codes] if len(event_codes) else np.zeros(0, dtype=np.int64)
    keep = item >= 0
    item = item[keep]
    ts = events["ts"].to_numpy(dtype=np.int64)[keep]
    source = events["source"].to_numpy(dtype=np.int64)[keep]
    line = events["line"].to_numpy(dtype=np.int64)[keep]
    state_lookup = np.append(map_states(state_names, stage_map, stage_index), NO_STATE)
    # narrow types before the reordering gathers below: they are bound by memory traffic
    state_code = state_lookup.astype(np.int16)[state_raw[keep]]
    state_raw = state_raw[keep].astype(np.int32)
    blocked_in = events["blocked"].to_numpy(dtype=np.int8)[keep]
    blank_actor = np.array(
        [not str(a).strip() for a in actor_names.to_pylist()] + [True], dtype=bool
    )
    actor_code = np.where(blank_actor[actor_code], -1, actor_code)[keep].astype(
        np.int32
    )  # '' is no actor
    files_cat = events["file"].astype("category")
    file_code = files_cat.cat.codes.to_numpy(dtype=np.int32)[keep]
    file_names = pa.array([str(c) for c in files_cat.cat.categories], pa.large_string())

    order = row_order(item, ts, source, line)
    item, ts, line = item[order], ts[order], line[order]
    state_code, state_raw, blocked_in = state_code[order], state_raw[order], blocked_in[order]
    actor_code, file_code = actor_code[order], file_code[order]

    # duplicates: equal (item, instant, state, blocked, actor); only rows sharing an instant can be equal
    n = len(ts)
    same_prev = np.zeros(n, dtype=bool)
    if n > 1:
        same_prev[1:] = (item[1:] == item[:-1]) & (ts[1:] == ts[:-1])
    shared = same_prev.copy()
    shared[:-1] |= same_prev[1:]
    dup = np.zeros(n, dtype=bool)
    if shared.any():
        idx = np.flatnonzero(shared)
        frame = pd.DataFrame(
            {
                "i": item[idx],
                "t": ts[idx],
                # an empty state and a missing one both mean "unchanged": the same value here
                "s": np.where(state_code[idx] == NO_STATE, -1, state_raw[idx]),
                "b": blocked_in[idx],
                "a": actor_code[idx],
            }
        )
        dup[idx] = frame.duplicated(keep="first").to_numpy()
    duplicates = int(dup.sum())
    keep = ~dup
    item, ts, line = item[keep], ts[keep], line[keep]
    state_code, state_raw, blocked_in, actor_code, file_code = (
        state_code[keep],
        state_raw[keep],
        blocked_in[keep],
        actor_code[keep],
        file_code[keep],
    )

    n = len(ts)
    group_start = np.ones(n, dtype=bool)
    if n > 1:
        group_start[1:] = item[1:] != item[:-1]
    flag = _carry_forward(blocked_in, blocked_in < 0, group_start, 0)
    state = _carry_forward(state_code, state_code == NO_STATE, group_start, UNMAPPED)
    in_blocked_state = state == BLOCKED_STATE
    stage = _carry_forward(state, in_blocked_state, group_start, UNMAPPED)
    last_at_instant = np.ones(n, dtype=bool)
    if n > 1:
        last_at_instant[:-1] = (item[:-1] != item[1:]) | (ts[:-1] != ts[1:])

    unmapped_rows = np.flatnonzero(state_code == UNMAPPED)
    names = np.asarray([*state_names.to_pylist(), None], dtype=object)
    files = np.asarray(file_names.to_pylist(), dtype=object)
    unmapped = pd.DataFrame(
        {
            "state": names[state_raw[unmapped_rows]],
            "file": files[file_code[unmapped_rows]] if len(files) else [],
            "line": line[unmapped_rows],
        }
    )
    unmapped_by_file = (
        unmapped.groupby(["state", "file"], sort=True)
        .agg(rows=("line", "size"), line=("line", "min"))
        .reset_index()
        if len(unmapped)
        else pd.DataFrame(columns=["state", "file", "rows", "line"])
    )
    return Prepared(
        items=info,
        item=item,
        ts=ts,
        stage=stage.astype(np.int8) if len(stage) and stage.max() < 127 else stage,
        blocked=(flag > 0) | in_blocked_state,
        last_at_instant=last_at_instant,
        actor=actor_code.astype(np.int32),
        file=file_code.astype(np.int32),
        line=line,
        actors=np.asarray(actor_names.to_pylist(), dtype=object),
        files=files,
        unmapped_states=unmapped_summary(unmapped_by_file),
        unmapped_by_file=unmapped_by_file,
        duplicates=duplicates,
        excluded_items=excluded_count,
        has_actor=bool((actor_code >= 0).any()),
        first_ts=_first_per_item(item, ts, len(info)),
        item_dtype=pd.CategoricalDtype(pd.Index(info["item_id"].array, dtype="string")),
    )


def unmapped_summary(by_file: pd.DataFrame) -> pd.DataFrame:
    """One row per unmapped state: rows (all files), and the first file (in path order) with its
    first line. `by_file` may hold several rows per (state, file), from sets of items read apart:
    they add up."""
    if not len(by_file):
        return pd.DataFrame(columns=["state", "rows", "file", "line"])
    return (
        by_file.groupby(["state", "file"], sort=True)
        .agg(rows=("rows", "sum"), line=("line", "min"))
        .reset_index()
        .groupby("state", sort=True)
        .agg(rows=("rows", "sum"), file=("file", "first"), line=("line", "first"))
        .reset_index()
    )


def _first_per_item(item: np.ndarray, ts: np.ndarray, n_items: int) -> np.ndarray:
    """Each item's first instant in item-sorted rows; int64 max for items without rows."""
    out = np.full(n_items, np.iinfo(np.int64).max, dtype=np.int64)
    if len(item):
        firsts = np.flatnonzero(np.concatenate(([True], item[1:] != item[:-1])))
        out[item[firsts]] = ts[firsts]
    return out


@dataclass(frozen=True)
class PreparedFacts:
    """What the problems and the data-quality figures need from the prepared rows."""

    has_events: np.ndarray  # per item (rows of Prepared.items): it has at least one row
    mapped: np.ndarray  # per item: at least one of its rows is in a mapped stage
    events_used: int  # rows kept (after duplicates and excluded items)


def prepared_facts(prep: Prepared) -> PreparedFacts:
    has_events = np.zeros(len(prep.items), dtype=bool)
    has_events[prep.item] = True
    mapped = np.zeros(len(prep.items), dtype=bool)
    mapped[prep.item[prep.stage >= 0]] = True
    return PreparedFacts(has_events, mapped, len(prep.ts))
