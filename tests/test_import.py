"""`vsm import`: an export written as canonical CSVs gives the same figures as reading the export directly."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from generator.cli import main
from generator.metrics.engine import compute_items
from generator.sources.collect import read_stream
from generator.validate.stream import load_project

REAL = Path(__file__).parent / "data" / "real" / "devlake-e2e" / "jira" / "_raw_jira_api_issues.csv"

STREAM = """\
name: DevLake board
timezone: Asia/Shanghai
as_of: 2022-08-01T00:00:00Z
sources:
{sources}
stages:
  - {{id: todo, states: [To Do, Inbox, Open, 待办, Backlog, Ready for Dev], kind: wait}}
  - {{id: dev, states: [In Progress, 开发中, Code Review, 测试中, 待测试, 发布中, Waiting for Test], kind: active}}
  - {{id: done, states: [Done, Closed, Resolved, 已完成], kind: done}}
commitment: dev
"""


def _issues(tmp_path: Path) -> Path:
    csv.field_size_limit(10**9)
    with REAL.open(encoding="utf-8", newline="") as handle:
        issues = [json.loads(row["data"]) for row in csv.DictReader(handle)]
    path = tmp_path / "issues.json"
    path.write_text(json.dumps(issues), encoding="utf-8")
    return path


def _items(project: Path) -> pd.DataFrame:
    proj, problems = load_project(project)
    assert not [p for p in problems if p.severity == "error"], problems
    config = proj.streams[0]
    data = read_stream(project, config)
    as_of = int(pd.Timestamp("2022-08-01T00:00:00Z").as_unit("ns").value)
    result = compute_items(data.events, data.items, config.definition, as_of)
    frame = result.items.copy()
    frame["item_id"] = frame["item_id"].astype(str)
    return frame.set_index("item_id").sort_index()


def test_import_round_trip_gives_the_same_per_item_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = _issues(tmp_path)
    out = tmp_path / "canonical"
    assert main(["import", "jira-json", str(export), "-o", str(out)]) == 0
    assert "wrote" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {"events.csv", "items.csv"}
    events = pd.read_csv(out / "events.csv", dtype=str, keep_default_na=False)
    assert list(events.columns) == ["item_id", "timestamp", "state", "blocked", "actor"]
    # 33 issues: every one appears in items.csv; the events hold one initial state per issue plus one row per
    # status or Flagged change (counted independently from the raw JSON here)
    raw = json.loads(export.read_text(encoding="utf-8"))
    changes = sum(1 for issue in raw for h in issue["changelog"]["histories"] for i in h["items"] if i["field"] in ("status", "Flagged"))
    assert len(pd.read_csv(out / "items.csv")) == 33
    assert len(events) == 33 + changes

    direct, imported = tmp_path / "direct", tmp_path / "imported"
    for project, sources in (
        (direct, f"  - kind: jira-json\n    path: data/{export.name}"),
        (imported, "  - kind: events-csv\n    path: data/events.csv\n  - kind: items-csv\n    path: data/items.csv"),
    ):
        folder = project / "streams" / "board"
        (folder / "data").mkdir(parents=True)
        (folder / "stream.yaml").write_text(STREAM.format(sources=sources), encoding="utf-8")
    (direct / "streams" / "board" / "data" / export.name).write_bytes(export.read_bytes())
    for name in ("events.csv", "items.csv"):
        (imported / "streams" / "board" / "data" / name).write_bytes((out / name).read_bytes())
    a, b = _items(direct), _items(imported)
    columns = ["created", "committed", "done", "lead_ns", "cycle_ns", "process_ns", "wait_ns", "blocked_ns", "reworked"]
    columns += [c for c in a.columns if c.startswith("stage_ns:")]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    assert int(a["done"].notna().sum()) > 0 and int((a["process_ns"] > 0).sum()) > 0


def test_import_unknown_kind_and_bad_option(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = _issues(tmp_path)
    assert main(["import", "jira-jsn", str(export), "-o", str(tmp_path / "x")]) == 1
    err = capsys.readouterr().err
    assert "error[E105]" in err and "jira-json" in err
    assert main(["import", "jira-json", str(export), "-o", str(tmp_path / "x"), "--option", "nonsense=1"]) == 1
    assert "error[E104]" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
    assert main(["import", "jira-json", str(export), "-o", str(tmp_path / "x"), "--option", "novalue"]) == 2


def test_import_help() -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["import", "--help"])
    assert exit_info.value.code == 0


def test_import_as_parquet_gives_the_same_per_item_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--format parquet` writes events.parquet and items.parquet (instants as UTC timestamps,
    blocked as a nullable boolean); events-parquet and items-parquet read them into the same
    per-item figures as reading the Jira export directly."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    export = _issues(tmp_path)
    out = tmp_path / "canonical"
    assert main(["import", "jira-json", str(export), "-o", str(out), "--timezone", "Asia/Shanghai", "--format", "parquet"]) == 0
    assert "events.parquet" in capsys.readouterr().err
    assert {p.name for p in out.iterdir()} == {"events.parquet", "items.parquet"}
    schema = pq.read_schema(out / "events.parquet")
    assert schema.names == ["item_id", "timestamp", "state", "blocked", "actor"]
    assert schema.field("timestamp").type == pa.timestamp("ns", "UTC")
    assert schema.field("blocked").type == pa.bool_()
    assert pq.read_metadata(out / "items.parquet").num_rows == 33

    direct, imported = tmp_path / "direct", tmp_path / "imported"
    for project, sources in (
        (direct, f"  - kind: jira-json\n    path: data/{export.name}"),
        (imported, "  - kind: events-parquet\n    path: data/events.parquet\n  - kind: items-parquet\n    path: data/items.parquet"),
    ):
        folder = project / "streams" / "board"
        (folder / "data").mkdir(parents=True)
        (folder / "stream.yaml").write_text(STREAM.format(sources=sources), encoding="utf-8")
    (direct / "streams" / "board" / "data" / export.name).write_bytes(export.read_bytes())
    for name in ("events.parquet", "items.parquet"):
        (imported / "streams" / "board" / "data" / name).write_bytes((out / name).read_bytes())
    a, b = _items(direct), _items(imported)
    columns = ["created", "committed", "done", "lead_ns", "cycle_ns", "process_ns", "wait_ns", "blocked_ns", "reworked"]
    columns += [c for c in a.columns if c.startswith("stage_ns:")]
    pd.testing.assert_frame_equal(a[columns], b[columns])
    assert int(a["done"].notna().sum()) > 0 and int((a["process_ns"] > 0).sum()) > 0
