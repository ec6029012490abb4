"""The Jinja2 environment: autoescape everywhere, undefined names are errors.

Compiling the site's templates takes about 0.3 s, a tenth of the example build, so compiled
templates are kept between builds in Jinja's own bytecode cache (a folder only this user may
read, in the system's temp folder). Jinja checks each entry against its template's source and
the Python version; the file names also carry these settings and Jinja's version. The cache
changes no output: a build that cannot read or write it compiles, as it would without one.
"""

from __future__ import annotations

import contextlib
import hashlib
import pickle
from pathlib import Path
from typing import Any

import jinja2
from jinja2.bccache import Bucket

from generator.render.format import FILTERS

# package data: found in wheel and editable installs alike
TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"

SETTINGS: dict[str, Any] = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
}


class _QuietCache(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache; an entry it cannot read or write costs a compile, never the build."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            bucket.reset()  # a damaged entry: compiled again and written over

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # a full or read-only temp folder
            super().dump_bytecode(bucket)


def bytecode_cache(directory: str | None = None) -> jinja2.BytecodeCache | None:
    """The compiled-template cache in `directory` (default: Jinja's per-user temp folder), or
    None when there is no safe folder for it."""
    tag = hashlib.sha256(repr((sorted(SETTINGS.items()), jinja2.__version__)).encode())
    try:
        return _QuietCache(directory, pattern=f"vsm-{tag.hexdigest()[:16]}-%s.cache")
    except (OSError, RuntimeError):  # Jinja found no temp folder only this user can write
        return None


def make_env(
    templates: Path = TEMPLATES, cache: jinja2.BytecodeCache | bool = True
) -> jinja2.Environment:
    """The site's environment; `cache`: True for the default bytecode cache, False for none."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        bytecode_cache=bytecode_cache() if cache is True else cache or None,
        **SETTINGS,
    )
    env.filters.update(FILTERS)
    return env
