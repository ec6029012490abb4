"""events-parquet and items-parquet: the rules of events-csv and items-csv on Parquet files.

The CSV readers are the reference: the same rows written as Parquet must give the
same events, items, skipped counts and warnings, a Parquet row's `line` being its
number in the file (the first row is 1, where a CSV file's first row is line 2).
Typed columns (zoned and naive timestamps, dates, booleans, integers,
dictionary-encoded text) are checked against instants worked out by hand, and
files that cannot be read give located errors.
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from site_fixtures import build_site, copy_examples

from generator.cli import main
from generator.errors import Problem
from generator.sources import events_csv, events_parquet, items_csv, items_parquet
from generator.sources.base import ReadContext, SourceData
from generator.sources.rows import ROW_PROBLEM_CAP

DATA = Path(__file__).resolve().parent / "data" / "foundation"
STAGES = (
    "stages:\n  - {id: open, states: [Open], kind: wait}\n"
    "  - {id: doing, states: [In Progress], kind: active}\n"
    "  - {id: done, states: [Done], kind: done}\ncommitment: doing\n"
)


def utc(text: str) -> int:
    return int(pd.Timestamp(text).tz_convert("UTC").value)


def context(tmp_path: Path, timezone: str = "UTC") -> ReadContext:
    stream = tmp_path / "proj" / "streams" / "demo"
    (stream / "data").mkdir(parents=True, exist_ok=True)
    return ReadContext(tmp_path / "proj", stream, timezone, 0)


def as_text_table(csv_text: str) -> pa.Table:
    """A CSV body as a table of text columns (empty fields as empty strings), as a tool
    exporting the same rows to Parquet would write them."""
    names = csv_text.splitlines()[0].split(",")
    return pcsv.read_csv(
        io.BytesIO(csv_text.encode()),
        convert_options=pcsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )


def read_events(
    tmp_path: Path, tables: dict[str, pa.Table], timezone: str = "UTC", row_group: int = 3
) -> SourceData:
    """Write `tables` (relative names) under streams/demo/data/events/ and read the folder."""
    ctx = context(tmp_path, timezone)
    for name, table in tables.items():
        path = ctx.stream_dir / "data" / "events" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, row_group_size=row_group)
    options = events_parquet.Options(kind="events-parquet", path="data/events")
    return events_parquet.read(options, ctx)


def read_csv_events(tmp_path: Path, body: str, timezone: str = "UTC") -> SourceData:
    ctx = context(tmp_path / "csv", timezone)
    (ctx.stream_dir / "data" / "events.csv").write_text(body)
    return events_csv.read(events_csv.Options(kind="events-csv", path="data/events.csv"), ctx)


def located(problems: list[Problem], line_shift: int = 0) -> list[tuple[str, int | None, str]]:
    return [
        (p.code, None if p.location.line is None else p.location.line + line_shift, p.message)
        for p in problems
    ]


def without_origin(events: pd.DataFrame) -> pd.DataFrame:
    return events.drop(columns=["file", "line"]).reset_index(drop=True)


# ---------------------------------------------------------------- the CSV readers' rules


def test_bad_rows_are_skipped_and_warned_as_events_csv_does(tmp_path: Path) -> None:
    """tests/data/foundation/events_bad_rows.csv without its W206 row (Parquet rows always have
    every column), read in row groups of 3 so the warnings come from several pieces."""
    lines = (DATA / "events_bad_rows.csv").read_text().splitlines()
    body = "\n".join(line for line in lines if not line.endswith(",extra")) + "\n"
    body = body.replace("C-1,2026-03-02T10:00:00Z,In Progress\n", "C-1,2026-03-02T10:00:00Z,In Progress,,\n")
    expected = read_csv_events(tmp_path, body)
    got = read_events(tmp_path, {"part.parquet": as_text_table(body)})
    # by hand: W202 (yesterday; empty), W203 (empty item_id), W204 (empty state, blocked unchanged),
    # W205 (maybe): five warnings, four rows skipped, and 'maybe' keeps its row
    assert sorted(p.code for p in got.problems) == ["W202", "W202", "W203", "W204", "W205"]
    assert located(got.problems) == located(expected.problems, line_shift=-1)
    # (events-csv also counts its W206 rows, none here)
    assert got.skipped == {k: v for k, v in expected.skipped.items() if v} and sum(got.skipped.values()) == 4
    assert got.events is not None and expected.events is not None
    pd.testing.assert_frame_equal(without_origin(got.events), without_origin(expected.events))
    assert list(got.events["line"]) == list(expected.events["line"] - 1)
    assert set(got.events["file"]) == {"streams/demo/data/events/part.parquet"}


def test_warnings_fold_as_one_pass_over_the_file_would(tmp_path: Path) -> None:
    """45 bad timestamps spread over row groups of 7: the first 20 listed, the 25 others folded
    into one entry at the 21st bad row, exactly as events-csv reports the same rows."""
    rows = ["item_id,timestamp,state,blocked,actor"]
    for i in range(90):
        stamp = "not a time" if i % 2 else f"2026-03-02T{i % 24:02d}:00:00Z"
        rows.append(f"A-{i % 5},{stamp},Open,,")
    body = "\n".join(rows) + "\n"
    expected = read_csv_events(tmp_path, body)
    got = read_events(tmp_path, {"p.parquet": as_text_table(body)}, row_group=7)
    assert len(got.problems) == ROW_PROBLEM_CAP + 1
    fold = got.problems[-1]
    # the 21st bad row is row 2 * 21 = 42 of the file
    assert (fold.location.line, fold.count) == (42, 25)
    assert located(got.problems) == located(expected.problems, line_shift=-1)


def test_naive_times_and_dst_read_as_the_csv_reader_reads_them(tmp_path: Path) -> None:
    body = (DATA / "events_dst_berlin.csv").read_text()
    expected = read_csv_events(tmp_path, body, "Europe/Berlin")
    got = read_events(tmp_path, {"e.parquet": as_text_table(body)}, "Europe/Berlin")
    assert sorted((p.code, p.location.line) for p in got.problems) == [("W208", 4), ("W209", 2)]
    assert sorted(located(got.problems)) == sorted(located(expected.problems, line_shift=-1))
    assert got.events is not None and expected.events is not None
    assert list(got.events["ts"]) == list(expected.events["ts"])


def test_typed_columns(tmp_path: Path) -> None:
    """Zoned timestamps are exact whatever the stream's zone; naive ones are wall times in it
    (Europe/Berlin: CET +01:00 in January); dates are local midnight; booleans with nulls are
    blocked/unblocked/unchanged; integer ids and dictionary-encoded states read as text."""
    zoned = pa.array(
        [pd.Timestamp("2026-01-10T12:00:00+05:00"), pd.Timestamp("2026-01-11T00:00:00Z")],
        pa.timestamp("us", "Asia/Karachi"),
    )
    naive = pa.array([pd.Timestamp("2026-01-10T12:00:00"), pd.Timestamp("2026-01-11T00:30:00")], pa.timestamp("ms"))
    dates = pa.array([pd.Timestamp("2026-01-10").date(), pd.Timestamp("2026-01-12").date()], pa.date32())
    common = {
        "item_id": pa.array([101, 102], pa.int64()),
        "state": pa.array(["Open", "Done"]).dictionary_encode(),
        "blocked": pa.array([True, None], pa.bool_()),
    }
    tables = {
        "a-zoned.parquet": pa.table({**common, "timestamp": zoned}),
        "b-naive.parquet": pa.table({**common, "timestamp": naive}),
        "c-dates.parquet": pa.table({**common, "timestamp": dates}),
    }
    got = read_events(tmp_path, tables, "Europe/Berlin")
    assert got.problems == []
    ev = got.events
    assert ev is not None
    assert list(ev["ts"]) == [
        utc("2026-01-10T07:00:00Z"),  # 12:00 at +05:00
        utc("2026-01-11T00:00:00Z"),
        utc("2026-01-10T11:00:00Z"),  # 12:00 CET
        utc("2026-01-10T23:30:00Z"),  # 00:30 CET on the 11th
        utc("2026-01-09T23:00:00Z"),  # midnight CET
        utc("2026-01-11T23:00:00Z"),
    ]
    assert list(ev["item_id"]) == ["101", "102"] * 3
    assert list(ev["state"]) == ["Open", "Done"] * 3
    assert list(ev["blocked"]) == [1, -1] * 3
    assert ev["actor"].isna().all() and got.notes["has_actor"] is False
    # files in path order, each row numbered in its own file
    assert list(ev["file"].str.rsplit("/", n=1).str[-1]) == [n for n in tables for _ in range(2)]
    assert list(ev["line"]) == [1, 2] * 3


def test_a_folder_reads_its_parquet_files_in_path_order_and_skips_markers(tmp_path: Path) -> None:
    one = pa.table({"item_id": ["A"], "timestamp": ["2026-01-01T00:00:00Z"], "state": ["Open"]})
    two = pa.table({"item_id": ["A"], "timestamp": ["2026-01-02T00:00:00Z"], "state": ["Done"]})
    ctx = context(tmp_path)
    folder = ctx.stream_dir / "data" / "events"
    (folder / "month=02").mkdir(parents=True)
    (folder / "month=01").mkdir(parents=True)
    pq.write_table(two, folder / "month=02" / "part-0.parquet")
    pq.write_table(one, folder / "month=01" / "part-0.parquet")
    pq.write_table(two, folder / "_metadata.parquet")
    (folder / "_SUCCESS").write_text("")
    (folder / ".part-0.parquet.crc").write_bytes(b"\0")
    got = events_parquet.read(events_parquet.Options(kind="events-parquet", path="data/events"), ctx)
    assert got.problems == []
    assert got.inputs == [
        "streams/demo/data/events/month=01/part-0.parquet",
        "streams/demo/data/events/month=02/part-0.parquet",
    ]
    assert got.events is not None and list(got.events["state"]) == ["Open", "Done"]


def test_items_parquet_reads_as_items_csv(tmp_path: Path) -> None:
    body = (DATA / "items_attributes.csv").read_text()
    ctx = context(tmp_path)
    (ctx.stream_dir / "data" / "items.csv").write_text(body)
    expected = items_csv.read(items_csv.Options(kind="items-csv", path="data/items.csv"), ctx)
    folder = ctx.stream_dir / "data" / "items"
    folder.mkdir()
    pq.write_table(as_text_table(body), folder / "a.parquet", row_group_size=2)
    # a later file listing an item again: W212 there, the first row kept
    first = as_text_table(body).slice(0, 1)
    pq.write_table(first, folder / "b.parquet")
    got = items_parquet.read(items_parquet.Options(kind="items-parquet", path="data/items"), ctx)
    assert got.items is not None and expected.items is not None
    assert len(got.items) == len(expected.items) > 1
    keep = ["item_id", "type", "title", "created", "url"]
    pd.testing.assert_frame_equal(got.items[keep], expected.items[keep])
    again = [p for p in got.problems if p.location.path.endswith("b.parquet")]
    assert [(p.code, p.location.line) for p in again] == [("W212", 1)]
    others = [p for p in got.problems if p not in again]
    assert located(others) == located(expected.problems, line_shift=-1)


# ---------------------------------------------------------------- files that cannot be read


def write_project(root: Path, write: object) -> Path:
    """A one-stream project whose events are data/events.parquet, written by `write(path)`."""
    data = root / "streams" / "s" / "data"
    data.mkdir(parents=True)
    write(data / "events.parquet")  # type: ignore[operator]
    (root / "streams" / "s" / "stream.yaml").write_text(
        "name: S\nsources:\n  - {kind: events-parquet, path: data/events.parquet}\n" + STAGES
    )
    return root


def good_table(n: int = 3000) -> pa.Table:
    return pa.table(
        {
            "item_id": pa.array([f"I-{i % 300}" for i in range(n)]),
            "timestamp": pa.array(
                np.arange(n, dtype=np.int64) * 10**12 + 1_700_000_000 * 10**9, pa.timestamp("ns", "UTC")
            ),
            "state": pa.array([["Open", "In Progress", "Done"][i % 3] for i in range(n)]),
        }
    )


def damaged_page(path: Path) -> None:
    """Row groups of 1000 rows; 40 bytes inside row group 1's first data page overwritten
    (footer intact, so only reading that row group fails)."""
    pq.write_table(good_table(), path, row_group_size=1000, compression="zstd")
    start = pq.ParquetFile(path).metadata.row_group(1).column(0).data_page_offset
    raw = bytearray(path.read_bytes())
    raw[start + 20 : start + 60] = b"\xff" * 40
    path.write_bytes(bytes(raw))


def cut_short(path: Path) -> None:
    pq.write_table(good_table(), path)
    path.write_bytes(path.read_bytes()[:-100])


def wrong_type(path: Path) -> None:
    table = good_table().set_column(1, "timestamp", pa.array(np.arange(3000, dtype=np.float64)))
    pq.write_table(table, path)


def missing_column(path: Path) -> None:
    pq.write_table(good_table().rename_columns(["item_id", "timestamp", "status"]), path)


FILE = "streams/s/data/events.parquet"


@pytest.mark.parametrize(
    ("write", "expected"),
    [
        (lambda p: p.write_text("item_id,timestamp,state\n"), f"{FILE}: error[E200]: cannot read this Parquet file"),
        (cut_short, f"{FILE}: error[E200]: cannot read this Parquet file"),
        (damaged_page, f"{FILE}:1001: error[E200]: cannot read this Parquet file"),
        (wrong_type, f"{FILE}: error[E202]: column 'timestamp' holds double; timestamp must be"),
        (missing_column, f"{FILE}: error[E201]: required column 'state' is missing (found: item_id, timestamp, status)"),
    ],
    ids=["not-parquet", "cut-short", "damaged-page", "wrong-type", "missing-column"],
)
def test_a_bad_parquet_file_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], write: object, expected: str
) -> None:
    """`vsm build` reports the file (and for a damaged page the row group's first row, 1001),
    exits 1 without a traceback and writes nothing."""
    project = write_project(tmp_path / "p", write)
    out = tmp_path / "_site"
    assert main(["build", "--project", str(project), "--out", str(out), "--quiet", "--no-cache"]) == 1
    err = capsys.readouterr().err
    assert expected in err, err
    assert "hint:" in err and "Traceback" not in err
    assert not out.exists()


def test_a_folder_without_parquet_files_is_a_located_error(tmp_path: Path) -> None:
    ctx = context(tmp_path)
    (ctx.stream_dir / "data" / "events").mkdir()
    (ctx.stream_dir / "data" / "events" / "notes.txt").write_text("x")
    got = events_parquet.read(events_parquet.Options(kind="events-parquet", path="data/events"), ctx)
    assert [p.format().splitlines()[0] for p in got.problems] == [
        "streams/demo/data/events: error[E200]: no Parquet files in this folder"
    ]


# ---------------------------------------------------------------- the example streams


@pytest.mark.slow
def test_the_example_streams_from_parquet_give_the_same_data_files(tmp_path: Path, example_site: Path) -> None:
    """Each example stream's events.csv and items.csv imported with `vsm import --format parquet`
    and read by events-parquet and items-parquet: items.csv and metrics.json are the same bytes
    as the CSV build's, apart from the input names and line numbers in `quality`."""
    project = copy_examples(tmp_path / "parquet")
    for stream, zone in (("development", "Europe/Amsterdam"), ("support", "Europe/Berlin")):
        data = project / "streams" / stream / "data"
        assert f"timezone: {zone}" in (data.parent / "stream.yaml").read_text()
        for kind in ("events", "items"):
            out = tmp_path / "import" / stream / kind
            args = ["import", f"{kind}-csv", str(data / f"{kind}.csv"), "-o", str(out)]
            # wall times without an offset are read in the stream's zone and written as UTC instants
            assert main([*args, "--timezone", zone, "--format", "parquet"]) == 0
            shutil.move(out / f"{kind}.parquet", data / f"{kind}.parquet")
            (data / f"{kind}.csv").unlink()
        yaml_path = project / "streams" / stream / "stream.yaml"
        text = yaml_path.read_text()
        for kind in ("events", "items"):
            text = text.replace(f"kind: {kind}-csv", f"kind: {kind}-parquet").replace(
                f"path: data/{kind}.csv", f"path: data/{kind}.parquet"
            )
        yaml_path.write_text(text)
    out = tmp_path / "_site"
    report = build_site(project, out)
    assert report.written
    for stream in ("development", "support"):
        csv_items = (example_site / "streams" / stream / "data" / "items.csv").read_bytes()
        assert (out / "streams" / stream / "data" / "items.csv").read_bytes() == csv_items
        a = json.loads((example_site / "streams" / stream / "data" / "metrics.json").read_bytes())
        b = json.loads((out / "streams" / stream / "data" / "metrics.json").read_bytes())
        qa, qb = a.pop("quality"), b.pop("quality")
        pa_, pb = a.pop("problems"), b.pop("problems")
        assert a == b
        assert [(p["code"], p.get("count")) for p in pa_] == [(p["code"], p.get("count")) for p in pb]
        same = ("items", "events", "events_used", "duplicates", "excluded_items", "with_done")
        assert [qa[k] for k in same] == [qb[k] for k in same]
        # the unmapped states' first rows: CSV line n is Parquet row n - 1
        assert [(u["state"], u["rows"], u["line"] - 1) for u in qa["unmapped_states"]] == [
            (u["state"], u["rows"], u["line"]) for u in qb["unmapped_states"]
        ]
