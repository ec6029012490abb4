"""The `forecast:` block of stream.yaml: every bad form is a located error with a hint (E101-E104, E150-E152).

The cases append to test_schema.BASE (15 lines), so `forecast:` is on line 16 and its keys follow.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_schema import BASE, YAML, problems_for

# (id, appended text, code, line, col, hint contains, message contains)
# fmt: off
CASES = [
    ("E101-typo", "forecast:\n  window_week: 8\n", "E101", 17, 3, "did you mean 'window_weeks'?", "forecast.window_week"),
    ("E103-list", "forecast:\n  how_many: 4\n", "E103", 17, 13, "docs/stream-yaml.md", "forecast.how_many"),
    ("E104-trials", "forecast:\n  trials: 10\n", "E104", 17, 11, "docs/stream-yaml.md", "forecast.trials"),
    ("E104-scope", "forecast:\n  when:\n    - scope: comitted\n", "E104", 18, 14, "did you mean 'committed'?", "forecast.when[0].scope"),
    ("E104-datetime", "forecast:\n  how_many:\n    - date: 2026-12-01T00:00:00Z\n", "E104", 18, 13, "docs/stream-yaml.md", "forecast.how_many[0].date"),
    ("E150-none", "forecast:\n  how_many:\n    - label: soon\n", "E150", 18, 7, "{weeks: 4}", "give one of date, weeks or days"),
    ("E150-two", "forecast:\n  how_many:\n    - weeks: 4\n      days: 28\n", "E150", 18, 7, "{weeks: 4}", "not weeks and days"),
    ("E151", "as_of: 2026-10-01T00:00:00Z\nforecast:\n  how_many:\n    - date: 2026-09-30\n", "E151", 19, 13, "give a date on or after", "2026-09-30 is before as_of (2026-10-01)"),
    # a field named like a type tag ('date') is still located at its value: events[0].date too
    ("E104-event-date", "events:\n  - date: soon\n    label: x\n", "E104", 17, 11, "docs/stream-yaml.md", "events[0].date"),
    ("E152", "forecast:\n  when:\n    - items: 40\n      scope: all\n", "E152", 19, 14, "items: N", "give items or scope, not both"),
]
# fmt: on


@pytest.mark.parametrize(("text", "code", "line", "col", "hint", "message"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_forecast_blocks_are_located(tmp_path: Path, text: str, code: str, line: int, col: int, hint: str, message: str) -> None:
    problems = problems_for(tmp_path, BASE + text)
    assert [p.code for p in problems] == [code], [p.format() for p in problems]
    (p,) = problems
    assert (p.location.path, p.location.line, p.location.col) == (YAML, line, col), p.format()
    assert hint in p.hint and message in p.message, p.format()
    assert p.format().startswith(f"{YAML}:{line}:{col}: error[{code}]: ")


def test_e151_uses_as_of_in_the_stream_time_zone(tmp_path: Path) -> None:
    # 30 Sep 23:30 UTC is already 1 Oct in Berlin: a date of 30 Sep is before as_of's day there
    text = BASE.replace("name: Demo\n", "name: Demo\ntimezone: Europe/Berlin\n") + (
        "as_of: 2026-09-30T23:30:00Z\nforecast:\n  how_many:\n    - date: 2026-09-30\n"
    )
    assert [p.code for p in problems_for(tmp_path, text)] == ["E151"]
    # in UTC the same date is as_of's own day: allowed
    assert problems_for(tmp_path / "utc", BASE + "as_of: 2026-09-30T23:30:00Z\nforecast:\n  how_many:\n    - date: 2026-09-30\n") == []


def test_a_full_forecast_block_is_valid(tmp_path: Path) -> None:
    text = BASE + (
        "forecast:\n  window_weeks: 8\n  trials: 5000\n  how_many:\n    - date: 2027-01-15\n      label: by the release\n"
        "    - weeks: 6\n    - days: 10\n  when:\n    - scope: all\n    - items: 40\n  sle_days: 12.5\n"
        "  backtest:\n    every_days: 7\n    horizon_days: 14\n    trials: 1000\n"
    )
    assert problems_for(tmp_path, text) == []
