"""generator/presentation.py: the stream.yaml fields that pages show and no figure is computed from.

The build cache keys a stream's metrics by its definition without these fields, so
editing one while `vsm serve` runs recomputes nothing. That is only right while no
computation reads them. The independent check: compute the example stream from
its stream.yaml as it is and from one with every presentation field changed, and
compare the data files byte for byte. The p85 cycle-time target, which is the
SLE's default, is the control that shows the comparison can fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.metrics.stream import compute_stream
from generator.presentation import FIELDS, computed_from, shown
from generator.render.downloads import items_csv, metrics_json
from generator.sources.collect import read_stream
from generator.validate.stream import load_project

REPO = Path(__file__).resolve().parent.parent
YAML = "streams/development/stream.yaml"

# one edit per presentation field: (field, text in the example's stream.yaml, replacement)
EDITS = [
    ("description", "\ndescription: >-\n  ", "\ndescription: >-\n  Edited. "),
    ("owner", "owner: Checkout team", "owner: Payments team"),
    ("events", "label: Review rota introduced", "label: Review rota started"),
    ("wip_limit", "wip_limit: 10", "wip_limit: 3"),
    ("targets", "lead_time_p85_days: 40", "lead_time_p85_days: 12"),
    ("targets", "flow_efficiency: 0.25", "flow_efficiency: 0.9"),
]


def _project(tmp_path: Path, edits: list[tuple[str, str, str]]) -> Path:
    root = tmp_path / f"p{len(list(tmp_path.iterdir()))}"
    shutil.copytree(REPO / "streams" / "development", root / "streams" / "development")
    path = root / YAML
    text = path.read_text(encoding="utf-8")
    for _, old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return root


def _data_files(root: Path) -> tuple[bytes, bytes, str]:
    project, problems = load_project(root, {"development"})
    assert not [p for p in problems if p.severity == "error"]
    (config,) = project.streams
    metrics = compute_stream(config, read_stream(root, config))
    return (
        metrics_json(metrics),
        items_csv(metrics, privacy=False),
        computed_from(config.definition),
    )


@pytest.mark.slow
def test_changing_every_presentation_field_changes_no_figure(tmp_path: Path) -> None:
    assert {field for field, _, _ in EDITS} == set(FIELDS), "an edit for every presentation field"
    metrics, items, key = _data_files(_project(tmp_path, []))
    edited = _data_files(_project(tmp_path, EDITS))
    assert edited == (metrics, items, key)
    # the control: the SLE's default target is computed from, and the comparison sees it
    control = _data_files(
        _project(tmp_path, [("", "cycle_time_p85_days: 30", "cycle_time_p85_days: 12")])
    )
    assert control[0] != metrics and control[2] != key


def test_shown_names_only_the_fields_asked_for(tmp_path: Path) -> None:
    project, _ = load_project(_project(tmp_path, []), {"development"})
    d = project.streams[0].definition
    assert shown(d, "owner") == '{"owner":"Checkout team"}'
    assert '"wip_limit":10' in shown(d, "wip_limit") and '"name"' not in shown(d, "wip_limit")
    # the computed part keeps every stage's states and kind, and the SLE's target
    key = computed_from(d)
    assert '"In Progress"' in key and '"cycle_time_p85_days":30.0' in key
    assert "Checkout team" not in key and '"lead_time_p85_days"' not in key
