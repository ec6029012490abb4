"""Compiled templates are kept between builds (render/env.py): a second environment loads them
instead of compiling, renders the same bytes, and a damaged or unwritable cache only costs a
compile."""

from __future__ import annotations

import tempfile
from pathlib import Path

import jinja2
import pytest

from generator.render import env as env_module
from generator.render.env import bytecode_cache, make_env

PAGES = ("forecast.html", "_scenarios.html", "stream.html", "base.html")


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates Jinja compiles from source (its Environment.compile)."""
    names: list[str] = []
    original = jinja2.Environment.compile

    def counted(
        self: jinja2.Environment, source: object, name: str | None = None, *a: object, **k: object
    ) -> object:
        names.append(str(name))
        return original(self, source, name, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(jinja2.Environment, "compile", counted)
    return names


def _sources(env: jinja2.Environment) -> list[str]:
    """Each page's generated module source: what a cached template must reproduce."""
    return [str(env.get_template(name).root_render_func.__code__.co_code) for name in PAGES]


def test_a_second_environment_loads_the_compiled_templates(
    tmp_path: Path, compiles: list[str]
) -> None:
    first = make_env(cache=bytecode_cache(str(tmp_path)))
    before = _sources(first)
    assert sorted(compiles) == sorted(PAGES)  # the first one compiled each page from source
    assert len(list(tmp_path.glob("vsm-*.cache"))) == len(PAGES)
    compiles.clear()
    second = make_env(cache=bytecode_cache(str(tmp_path)))
    assert _sources(second) == before
    assert compiles == []  # nothing compiled: every page came from the cache


def test_a_template_edit_is_compiled_again(tmp_path: Path, compiles: list[str]) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "page.html").write_text("<p>{{ x }}</p>\n", encoding="utf-8")
    cache_dir = str(tmp_path / "cache")
    Path(cache_dir).mkdir()
    assert (
        make_env(templates, bytecode_cache(cache_dir)).get_template("page.html").render(x=1)
        == "<p>1</p>\n"
    )
    (templates / "page.html").write_text("<b>{{ x }}</b>\n", encoding="utf-8")
    compiles.clear()
    assert (
        make_env(templates, bytecode_cache(cache_dir)).get_template("page.html").render(x=1)
        == "<b>1</b>\n"
    )
    assert compiles == ["page.html"]


def test_a_damaged_cache_entry_is_compiled_again_and_replaced(
    tmp_path: Path, compiles: list[str]
) -> None:
    make_env(cache=bytecode_cache(str(tmp_path))).get_template("base.html")
    (entry,) = tmp_path.glob("vsm-*.cache")
    good = entry.read_bytes()
    for damage in (good[: len(good) // 2], good[:10] + b"\x00" * 40, good[:-1], b""):
        entry.write_bytes(damage)
        compiles.clear()
        make_env(cache=bytecode_cache(str(tmp_path))).get_template("base.html")
        assert compiles == ["base.html"]
        compiles.clear()  # written over with a sound entry: the next environment loads it
        make_env(cache=bytecode_cache(str(tmp_path))).get_template("base.html")
        assert compiles == []


def test_a_cache_that_cannot_be_written_costs_only_a_compile(
    tmp_path: Path, compiles: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*args: object, **kwargs: object) -> object:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", full)
    env = make_env(cache=bytecode_cache(str(tmp_path)))
    assert env.get_template("base.html") is not None
    assert list(tmp_path.iterdir()) == []
    assert compiles == ["base.html"]


def test_no_safe_temp_folder_means_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    def unsafe(self: object) -> str:
        raise RuntimeError("Cannot determine safe temp directory.")

    monkeypatch.setattr(jinja2.FileSystemBytecodeCache, "_get_default_cache_dir", unsafe)
    assert bytecode_cache() is None
    env = make_env()
    assert env.bytecode_cache is None
    assert env.get_template("base.html") is not None


def test_other_settings_or_another_jinja_use_other_entries(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def pattern() -> str:
        cache = bytecode_cache(str(tmp_path))
        assert isinstance(cache, jinja2.FileSystemBytecodeCache)
        return cache.pattern

    base = pattern()
    monkeypatch.setitem(env_module.SETTINGS, "trim_blocks", False)
    assert pattern() != base
    monkeypatch.undo()
    monkeypatch.setattr(jinja2, "__version__", "0.0.0")
    assert pattern() != base
