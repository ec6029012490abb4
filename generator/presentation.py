"""The parts of a stream.yaml that pages show and no figure is computed from.

Editing one of them while `vsm serve` runs recomputes nothing: the build cache's
key (cache.py) is the definition without them, and each render unit
(render/site.py) names the ones its pages show, so only those pages are
rendered again. tests/test_presentation.py computes a stream with every one of
them changed and checks that metrics.json and items.csv keep their bytes;
tests/test_render_memo.py checks that editing each gives a clean build's pages.

A field that starts feeding a computation must leave this list, or a served
site would keep the old figures until the server restarts.
"""

from __future__ import annotations

from typing import Any

from generator.validate.schema import StreamDef, Targets

# name -> the part of StreamDef it is, in pydantic's include/exclude form
FIELDS: dict[str, tuple[str, Any]] = {
    "description": ("description", True),  # overview and cards
    "owner": ("owner", True),  # map captions and cards
    "events": ("events", True),  # markers on trends, DORA charts and maps
    "wip_limit": ("stages", {"__all__": {"wip_limit"}}),  # drawn on the maps beside the WIP
    # target lines and the cards' checks; the p85 cycle-time target is the SLE's default, so computed
    "targets": (
        "targets",
        {name for name in Targets.model_fields if name != "cycle_time_p85_days"},
    ),
}

MAPS = ("owner", "events", "wip_limit")  # what a value stream map shows of them
CARDS = ("description", "owner", "targets")  # what a stream's card (home and group pages) shows
ALL = tuple(FIELDS)


def _spec(names: tuple[str, ...]) -> dict[str, Any]:
    return dict(FIELDS[name] for name in names)


def computed_from(definition: StreamDef) -> str:
    """The definition as JSON without its presentation fields: what the figures depend on."""
    return definition.model_dump_json(exclude=_spec(ALL))


def shown(definition: StreamDef, *names: str) -> str:
    """The named presentation fields' values as JSON: part of the key of a unit whose pages show them."""
    return definition.model_dump_json(include=_spec(names))
