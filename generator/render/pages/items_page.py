"""The items page: the slowest completed items and the oldest in progress, each with its timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from generator.metrics.periods import DAY_NS
from generator.metrics.prepare import NAT, UNMAPPED
from generator.metrics.stream import StreamMetrics
from generator.render.item_timeline import timeline_svg

if TYPE_CHECKING:
    from generator.render.context import SiteContext

LIMIT = 150
STAGE_LIMIT = 25


def _visits(
    metrics: StreamMetrics, codes: np.ndarray, ends: np.ndarray
) -> dict[int, list[tuple[str, str, float, float, bool]]]:
    """Per row of the result's items (`codes`): (stage name, kind, start offset, length, blocked) of each segment in its window."""
    assert metrics.result is not None
    seg = metrics.result.segments
    stages = metrics.config.stages
    names = [s.label for s in stages]
    kinds = [s.kind for s in stages]
    end_of = dict(zip(codes.tolist(), ends.tolist(), strict=True))
    mask = np.isin(seg.item, codes)
    out: dict[int, list[tuple[str, str, float, float, bool]]] = {int(c): [] for c in codes}
    first: dict[int, int] = {}
    for item, start, end, stage, blocked in zip(
        seg.item[mask],
        seg.start[mask],
        seg.end[mask],
        seg.stage[mask],
        seg.blocked[mask],
        strict=True,
    ):
        item = int(item)
        first.setdefault(item, int(start))
        stop = min(int(end), end_of[item])
        if stop <= start:
            continue
        name, kind = ("unmapped", "unmapped") if stage == UNMAPPED else (names[stage], kinds[stage])
        out[item].append(
            (name, kind, (start - first[item]) / DAY_NS, (stop - start) / DAY_NS, bool(blocked))
        )
    return out


def _rows(
    metrics: StreamMetrics, frame: pd.DataFrame, codes: np.ndarray, ends: np.ndarray, privacy: bool
) -> list[dict[str, Any]]:
    visits = _visits(metrics, codes, ends)
    stage_names = {s.id: s.label for s in metrics.config.stages} | {"unmapped": "unmapped"}
    rows = []
    for row, code, end in zip(frame.to_dict("records"), codes, ends, strict=True):
        created = int(row["created"])
        total = (int(end) - created) / DAY_NS
        describe = f"{row['item_id']}: {total:.1f} days from created, " + ", ".join(
            f"{v[0]} {v[3]:.1f} d" for v in visits[int(code)][:8]
        )
        rows.append(
            {
                "id": row["item_id"],
                "title": None if privacy or pd.isna(row["title"]) else row["title"],
                "url": None if privacy or pd.isna(row["url"]) else row["url"],
                "type": None if pd.isna(row["type"]) else row["type"],
                "stage": stage_names.get(str(row["current_stage"]), str(row["current_stage"])),
                "lead": None if pd.isna(row["lead_ns"]) else int(row["lead_ns"]) / DAY_NS,
                "cycle": None if pd.isna(row["cycle_ns"]) else int(row["cycle_ns"]) / DAY_NS,
                "age": (metrics.as_of - int(row["committed"])) / DAY_NS
                if metrics.as_of and not pd.isna(row["committed"])
                else None,
                "blocked": int(row["blocked_ns"]) / DAY_NS,
                "efficiency": row["flow_efficiency"],
                "reworked": bool(row["reworked"]),
                "timeline": timeline_svg(visits[int(code)], total, describe),
            }
        )
    return rows


def _with_attrs(metrics: StreamMetrics, rows: np.ndarray) -> pd.DataFrame:
    """The rows of the result's items with their attributes (item_id, type, title, url)."""
    assert metrics.result is not None
    frame = metrics.result.items.iloc[rows].drop(columns=["item_id"]).reset_index(drop=True)
    return pd.concat([metrics.result.attrs(rows), frame], axis=1)


def render(ctx: SiteContext, metrics: StreamMetrics, nav: dict[str, Any]) -> None:
    assert metrics.result is not None and metrics.as_of is not None
    d = metrics.config.definition
    items = metrics.result.items
    done = (items["status"] == "done").to_numpy()
    committed = items["committed"].notna().to_numpy()
    in_progress = (items["status"] == "in_progress").to_numpy() & committed
    lead = items["lead_ns"].to_numpy(dtype=np.float64, na_value=np.nan)
    slow_idx = np.flatnonzero(done)
    slow_idx = slow_idx[np.lexsort((items["code"].to_numpy()[slow_idx], -lead[slow_idx]))][:LIMIT]
    age = metrics.as_of - items["committed"].to_numpy(dtype=np.int64, na_value=NAT)
    old_idx = np.flatnonzero(in_progress)
    old_idx = old_idx[np.lexsort((items["code"].to_numpy()[old_idx], -age[old_idx]))][:LIMIT]
    done_ns = items["done"].to_numpy(dtype=np.int64, na_value=NAT)
    slowest = _rows(
        metrics, _with_attrs(metrics, slow_idx), slow_idx, done_ns[slow_idx], ctx.options.privacy
    )
    oldest = _rows(
        metrics,
        _with_attrs(metrics, old_idx),
        old_idx,
        np.full(len(old_idx), metrics.as_of, dtype=np.int64),
        ctx.options.privacy,
    )
    current = items["current_stage"].to_numpy()
    in_flow = (items["status"] == "in_progress").to_numpy()
    created_ns = items["created"].to_numpy(dtype=np.int64, na_value=NAT)
    by_stage = []
    for stage in d.stages:
        if stage.kind not in ("wait", "active"):
            continue
        here = np.flatnonzero(in_flow & (current == stage.id))
        # the longest-waiting first: by time since created, ties by id
        here = here[np.lexsort((items["code"].to_numpy()[here], created_ns[here]))][:STAGE_LIMIT]
        rows = _rows(
            metrics,
            _with_attrs(metrics, here),
            here,
            np.full(len(here), metrics.as_of, dtype=np.int64),
            ctx.options.privacy,
        )
        by_stage.append(
            {
                "id": stage.id,
                "name": stage.label,
                "kind": stage.kind,
                "count": int((in_flow & (current == stage.id)).sum()),
                "rows": rows,
            }
        )
    ctx.page(
        f"streams/{metrics.config.id}/items/index.html",
        "items.html",
        title=f"Items · {d.name}",
        definition=d,
        nav=nav,
        active="items",
        slowest=slowest,
        oldest=oldest,
        done_count=int(done.sum()),
        wip_count=int(in_progress.sum()),
        limit=LIMIT,
        as_of=metrics.as_of,
        privacy=ctx.options.privacy,
        by_stage=by_stage,
        stage_limit=STAGE_LIMIT,
    )
