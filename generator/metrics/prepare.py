"""Everything about an event log that does not depend on as_of, computed once.

Rows are mapped to stages, sorted by (item, instant, source, line), stripped
of duplicates, and the `blocked` flag, the state and the stage are carried
forward per item. Carrying forward is causal, so cutting the prepared rows at
any as_of later gives the same result as preparing the cut log.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from generator.model import StageMap
from generator.validate.schema import StreamDef

UNMAPPED = -1  # stage code of the `unmapped` pseudo-stage
BLOCKED_STATE = -2  # state code of a state listed under blocked.states
NO_STATE = -3  # row that changes only blocked or actor
NAT = np.iinfo(np.int64).min


@dataclass(frozen=True)
class Prepared:
    """A stream's rows ready for timelines; one entry per kept row unless noted.

    items: one row per item (item_id, type, title, url, given_created ns or NAT), in item-code order.
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


def _carry_forward(values: np.ndarray, missing: np.ndarray, group_start: np.ndarray, initial: int) -> np.ndarray:
    """Per-group forward fill of `values` where `missing`, starting each group at `initial`."""
    filled = values.astype(np.int64, copy=True)
    start_missing = group_start & missing
    filled[start_missing] = initial
    have = ~missing | group_start
    idx = np.where(have, np.arange(len(values)), 0)
    np.maximum.accumulate(idx, out=idx)
    return filled[idx]


def map_states(states: pd.Series, stage_map: StageMap, stage_index: dict[str, int]) -> tuple[np.ndarray, pd.Index]:
    """State text -> code: stage index, UNMAPPED, BLOCKED_STATE or NO_STATE (empty)."""
    codes, uniques = pd.factorize(states, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=np.int64)
    for i, name in enumerate(uniques):
        text = str(name)
        if not text.strip():
            table[i] = NO_STATE
            continue
        stage = stage_map.stage_of(text)
        table[i] = UNMAPPED if stage is None else (BLOCKED_STATE if stage == "" else stage_index[stage])
    table[-1] = NO_STATE  # NA
    return table[codes], uniques


def prepare(events: pd.DataFrame, items: pd.DataFrame, definition: StreamDef, stage_map: StageMap | None = None) -> Prepared:
    stage_map = stage_map or StageMap.build(definition)
    stage_index = {s.id: i for i, s in enumerate(definition.stages)}

    # the item universe: items listed anywhere, minus excluded types
    ids = pd.Index(pd.concat([events["item_id"], items["item_id"]], ignore_index=True).astype("string").unique()).sort_values()
    info = pd.DataFrame({"item_id": ids.astype("string")})
    attrs = items.drop_duplicates("item_id").set_index("item_id")
    for col in ("type", "title", "url"):
        info[col] = attrs[col].reindex(ids).to_numpy() if col in attrs else pd.NA
        info[col] = info[col].astype("string")
    created = attrs["created"].reindex(ids) if "created" in attrs else pd.Series(pd.NA, index=ids, dtype="Int64")
    info["given_created"] = created.astype("Int64").fillna(NAT).to_numpy(dtype=np.int64)
    excluded_types = set(definition.exclude.types)
    excluded = info["type"].isin(list(excluded_types)).fillna(False).to_numpy(dtype=bool) if excluded_types else np.zeros(len(info), bool)
    excluded_count = int(excluded.sum())
    info = info[~excluded].reset_index(drop=True)

    item = pd.Index(info["item_id"]).get_indexer(events["item_id"].astype("string"))
    keep = item >= 0
    ev = events[keep]
    item = item[keep]
    ts = ev["ts"].to_numpy(dtype=np.int64)
    source = ev["source"].to_numpy(dtype=np.int64)
    line = ev["line"].to_numpy(dtype=np.int64)
    order = np.lexsort((line, source, ts, item))
    item, ts, source, line = item[order], ts[order], source[order], line[order]
    state_code, uniques = map_states(ev["state"].iloc[order].reset_index(drop=True), stage_map, stage_index)
    blocked_in = ev["blocked"].to_numpy(dtype=np.int64)[order]
    actor_code, actors = pd.factorize(ev["actor"].iloc[order].reset_index(drop=True), use_na_sentinel=True)
    blank_actor = np.array([not str(a).strip() for a in actors] + [True], dtype=bool)
    actor_code = np.where(blank_actor[actor_code], -1, actor_code)  # '' is no actor
    file_code, files = pd.factorize(ev["file"].astype("string").iloc[order].reset_index(drop=True), use_na_sentinel=True)

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
        state_raw, _ = pd.factorize(ev["state"].iloc[order].reset_index(drop=True).iloc[idx], use_na_sentinel=True)
        frame = pd.DataFrame({"i": item[idx], "t": ts[idx], "s": state_raw, "b": blocked_in[idx], "a": actor_code[idx]})
        dup[idx] = frame.duplicated(keep="first").to_numpy()
    duplicates = int(dup.sum())
    keep = ~dup
    item, ts, line = item[keep], ts[keep], line[keep]
    state_code, blocked_in, actor_code, file_code = state_code[keep], blocked_in[keep], actor_code[keep], file_code[keep]

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

    unmapped_rows = state_code == UNMAPPED
    raw_states = ev["state"].iloc[order].reset_index(drop=True)[keep].reset_index(drop=True)
    unmapped = pd.DataFrame(
        {"state": raw_states[unmapped_rows].to_numpy(), "file": np.asarray(files, dtype=object)[file_code[unmapped_rows]] if len(files) else [], "line": line[unmapped_rows]}
    )
    unmapped_states = (
        unmapped.groupby("state", sort=True).agg(rows=("line", "size"), file=("file", "first"), line=("line", "first")).reset_index()
        if len(unmapped)
        else pd.DataFrame(columns=["state", "rows", "file", "line"])
    )
    _ = uniques
    return Prepared(
        items=info,
        item=item,
        ts=ts,
        stage=stage,
        blocked=(flag > 0) | in_blocked_state,
        last_at_instant=last_at_instant,
        actor=actor_code.astype(np.int64),
        file=file_code.astype(np.int64),
        line=line,
        actors=np.asarray(actors, dtype=object),
        files=np.asarray(files, dtype=object),
        unmapped_states=unmapped_states,
        duplicates=duplicates,
        excluded_items=excluded_count,
        has_actor=bool((actor_code >= 0).any()),
    )
