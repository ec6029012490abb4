"""Pages kept between renders in one process, so `vsm serve` re-renders only what an edit touched.

A render is split into units (a stream's data pages, each report, the stream's
overview, the home and group pages). Each unit has a key made of what it reads:
the stream's computed metrics (by identity: the build cache hands back the very
same object while the stream's definition and data are unchanged), the notes or
report it shows, its navigation, and the site-wide part (templates, assets,
options, the list of streams). A unit whose key is unchanged puts back the
files it wrote last time instead of rendering them again; anything else renders
as in a clean build. `vsm build` renders without a memo. tests/test_render_memo.py
checks that every kind of edit gives the same bytes as a clean build.

With a `focus` (vsm serve, after an edit, while pages are open) a changed unit
that writes none of the open pages keeps its last files for one render, so the
page in front of the author is rendered, written and reloaded first; the server
renders the deferred units straight after (serve/server.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jinja2

from generator.render.env import TEMPLATES, make_env

if TYPE_CHECKING:
    from generator.render.context import SiteContext

T = TypeVar("T")


@dataclass
class _Unit:
    key: Hashable
    held: tuple[
        object, ...
    ]  # the metrics objects the key names by id(): kept alive so ids stay theirs
    files: dict[str, bytes]
    result: Any


@dataclass
class RenderMemo:
    """What one process remembers between renders: the template environment and every unit's files."""

    templates: Path = TEMPLATES
    env: jinja2.Environment = field(init=False)
    units: dict[str, _Unit] = field(default_factory=dict)
    rendered: list[str] = field(default_factory=list)  # units rendered by the last render
    reused: list[str] = field(default_factory=list)  # units put back by the last render
    # vsm serve's first pass after an edit: the files the open pages show. A changed unit that
    # writes none of them puts back its last files for now and is listed in `deferred`; the
    # next render (the server's second pass) renders it, as its key still differs.
    focus: frozenset[str] | None = None
    deferred: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.env = make_env(
            self.templates
        )  # kept: Jinja recompiles a template only when its file changed

    def start(self) -> None:
        self.rendered, self.reused, self.deferred = [], [], []

    def forget_except(self, names: set[str]) -> None:
        """Drop the units the last render did not use (a removed stream or report)."""
        for name in set(self.units) - names:
            del self.units[name]


def unit(
    ctx: SiteContext,
    name: str,
    key: Hashable,
    held: tuple[object, ...],
    render: Callable[[], T],
) -> T:
    """Run `render` (which writes pages into ctx.files) unless the memo has this unit with this key.

    `held` are the objects the key refers to by id(); the unit is reused only while
    they are the very same objects.
    """
    memo = ctx.memo
    if memo is None:
        return render()
    known = memo.units.get(name)
    if (
        known is not None
        and known.key == key
        and len(known.held) == len(held)
        and all(a is b for a, b in zip(known.held, held, strict=True))
    ):
        ctx.files.update(known.files)
        memo.reused.append(name)
        return known.result  # type: ignore[no-any-return]
    if known is not None and memo.focus is not None and not memo.focus & known.files.keys():
        ctx.files.update(known.files)  # stale until the second pass; memo.units keeps the old key
        memo.deferred.append(name)
        return known.result  # type: ignore[no-any-return]
    outer, ctx.files = ctx.files, {}
    try:
        result = render()
        produced = ctx.files
    finally:
        ctx.files = outer
    outer.update(produced)
    memo.units[name] = _Unit(key, held, produced, result)
    memo.rendered.append(name)
    return result


def folder_digest(folder: Path) -> str:
    """sha256 of every file's path and bytes under `folder`: a template or CSS edit changes the
    templates' digest, which is part of every unit's key."""
    h = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            h.update(
                path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0"
            )
    return h.hexdigest()
