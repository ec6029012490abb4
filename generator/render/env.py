"""The Jinja2 environment: autoescape everywhere, undefined names are errors."""

from __future__ import annotations

from pathlib import Path

import jinja2

from generator.render.format import FILTERS

# package data: found in wheel and editable installs alike
TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"


def make_env(templates: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(FILTERS)
    return env
