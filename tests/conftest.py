"""Session fixtures shared by the built-site suites: one example build per session (per xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from site_fixtures import EXAMPLES, build_site, chromium, serve


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example streams built once (about 10 s); tests must not change it."""
    out = tmp_path_factory.mktemp("example") / "_site"
    build_site(EXAMPLES, out)
    return out


@pytest.fixture(scope="session")
def example_url(example_site: Path) -> Iterator[str]:
    """The example site served over http://127.0.0.1 for the whole session."""
    with serve(example_site) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session's browser tests."""
    with chromium() as b:
        yield b
