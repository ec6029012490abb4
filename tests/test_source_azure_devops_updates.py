"""`azure-devops-updates`: hand-made work item updates (tests/data/sources/ado/): the event time is
System.ChangedDate (never revisedDate and its 9999-01-01 sentinel), blocked from the CMMI field or a
tag, board columns, revisions, duplicates across files. No real ADO payload is in tests/data/real.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from generator.sources import azure_devops
from generator.sources.base import ReadContext, SourceData

ADO = Path(__file__).parent / "data" / "sources" / "ado"


def context(tmp_path: Path) -> ReadContext:
    stream = tmp_path / "streams" / "s"
    stream.mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path, stream, "UTC", 0)


def read(ctx: ReadContext, path: str, **options: object) -> SourceData:
    return azure_devops.read(azure_devops.Options(kind="azure-devops-updates", path=path, **options), ctx)


def timeline(events: pd.DataFrame, item: str) -> list[tuple[str, str | None, int]]:
    rows = events[events["item_id"] == item]
    return [(pd.Timestamp(int(t), tz="UTC").strftime("%m-%dT%H:%M:%S.%f")[:-4], None if pd.isna(s) else str(s), int(b))
            for t, s, b in zip(rows["ts"], rows["state"], rows["blocked"], strict=True)]


@pytest.fixture
def ado(tmp_path: Path) -> ReadContext:
    ctx = context(tmp_path)
    shutil.copytree(ADO, ctx.stream_dir / "ado")
    return ctx


def test_updates_folder(ado: ReadContext) -> None:
    data = read(ado, "ado", base_url="https://dev.azure.com/acme/shop")
    ev = data.events
    assert timeline(ev, "5120") == [
        ("05-02T13:40:11.50", "New", -1),
        ("05-06T08:14:02.19", "Active", -1),  # ChangedDate.newValue, not revisedDate (05-07)
        ("05-07T09:00:00.00", None, 1),  # Blocked = Yes
        ("05-08T09:00:00.00", None, 1),  # tag Blocked added: still blocked
        ("05-09T09:00:00.00", None, 1),  # Blocked = No, but the tag still blocks
        ("05-10T09:00:00.00", None, 0),  # tag removed: unblocked
        ("05-12T16:00:00.00", "Closed", -1),  # revisedDate 9999-01-01 is never an event time
    ]
    assert timeline(ev, "5121") == [("05-03T10:00:00.00", "New", -1), ("05-05T10:00:00.00", "Resolved", -1)]
    assert ev.loc[ev["item_id"] == "5120", "actor"].tolist() == ["guid-1", "guid-2", "guid-2", "guid-2", "guid-2", "guid-2", "guid-1"]
    assert ev["ts"].max() < pd.Timestamp("2100-01-01", tz="UTC").value
    items = data.items.set_index("item_id")
    assert items.loc["5120", "title"] == "Export invoices as PDF"  # the latest title
    assert items.loc["5120", "type"] == "User Story" and items.loc["5121", "type"] == "Bug"
    assert items.loc["5120", "created"] == pd.Timestamp("2025-05-02T13:40:11.5Z").value
    assert items.loc["5121", "url"] == "https://dev.azure.com/acme/shop/_workitems/edit/5121"
    problems = sorted((p.code, p.location.path, p.location.line) for p in data.problems)
    assert problems == [
        ("W202", "streams/s/ado/workitem_5121_updates.json", 6),  # rev 2 has no System.ChangedDate
        ("W225", "streams/s/ado/workitem_5121_updates.json", 11),  # rev 3 listed twice
    ]
    assert data.skipped["updates without a valid System.ChangedDate"] == 1
    assert data.skipped["updates that change neither state nor blocked"] == 1  # a relations-only update
    assert data.skipped["repeated updates"] == 1
    assert data.inputs == ["streams/s/ado/workitem_5120_updates.json", "streams/s/ado/workitem_5121_updates.json"]
    assert ev.loc[ev["item_id"] == "5120", "line"].tolist() == [1, 2, 3, 4, 5, 6, 7]  # position in `value`


def test_board_column_and_tag_options(ado: ReadContext) -> None:
    data = read(ado, "ado/workitem_5120_updates.json", state_field="board_column", blocked_tag=None)
    assert timeline(data.events, "5120") == [
        ("05-02T13:40:11.50", "Backlog", -1),
        ("05-06T08:14:02.19", "Doing", -1),
        ("05-07T09:00:00.00", None, 1),
        ("05-09T09:00:00.00", None, 0),  # without the tag rule, Blocked = No unblocks
        ("05-12T16:00:00.00", "Done", -1),
    ]


def test_revisions_are_read_too(tmp_path: Path) -> None:
    """…/revisions: full snapshots with plain values; the work item id is `id`."""
    ctx = context(tmp_path)
    revisions = {"count": 2, "value": [
        {"id": 77, "rev": 1, "fields": {"System.State": "To Do", "System.WorkItemType": "Task", "System.Title": "T",
                                        "System.CreatedDate": "2025-01-01T10:00:00Z", "System.ChangedDate": "2025-01-01T10:00:00Z",
                                        "System.RevisedDate": "2025-01-02T10:00:00Z"}},
        {"id": 77, "rev": 2, "fields": {"System.State": "Doing", "System.WorkItemType": "Task", "System.Title": "T",
                                        "System.CreatedDate": "2025-01-01T10:00:00Z", "System.ChangedDate": "2025-01-02T10:00:00Z",
                                        "System.RevisedDate": "9999-01-01T00:00:00Z"}},
    ]}
    (ctx.stream_dir / "revisions.json").write_text(json.dumps(revisions), encoding="utf-8")
    data = read(ctx, "revisions.json")
    assert timeline(data.events, "77") == [("01-01T10:00:00.00", "To Do", -1), ("01-02T10:00:00.00", "Doing", -1)]
    assert not data.problems


def test_not_updates_and_broken_files(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (ctx.stream_dir / "odd.json").write_text(json.dumps({"count": 2, "value": [{"message": "no access"}, {"fields": {}}]}), encoding="utf-8")
    assert [p.code for p in read(ctx, "odd.json").problems] == ["W222", "W222"]
    (ctx.stream_dir / "cut.json").write_text('{"count": 3, "value": [{"id": 1, "workItemId": 9, "rev": 1, "fields": {"System.State": {"newValue": "New"}, "System.ChangedDate": {"newValue": "2025-01-01T00:00:00Z"}}}, {"id": 2, "workI', encoding="utf-8")
    data = read(ctx, "cut.json")
    assert [p.code for p in data.problems] == ["W220"] and len(data.events) == 1
