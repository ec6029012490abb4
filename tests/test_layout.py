"""The shape of the package: the render dependency runs one way, and modules stay a readable size.

Both are read from the source with `ast` and line counts, so they fail the
moment a page imports the site assembler again or a module outgrows the limit
without being named below with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "generator"
LIMIT = 450  # lines; "about 400 unless it is one idea that does not split"

# Modules over the limit, each with why it has not been split (yet). An entry
# must still be over the limit: a module that shrank leaves the list.
OVERSIZED = {
    "metrics/compare.py": "bootstrap statistics and verdict wording; next to split (issue 12 closing note)",
    "metrics/stream.py": "one stream's whole computation in order; grows with each metric family",
    "metrics/engine.py": "the timeline engine: one vectorised pass over the events, hard to cut without copying state",
    "charts/trends.py": "every trend chart of one page; could split by chart family",
    "sources/git_history.py": "one reader: git log parsing, CSV form and release tags",
    "sources/github_issues.py": "one reader: issues, timeline events and labels",
}


def modules() -> dict[str, Path]:
    return {
        p.relative_to(PACKAGE).as_posix(): p
        for p in sorted(PACKAGE.rglob("*.py"))
        if "__pycache__" not in p.parts
    }


def imported(path: Path) -> set[str]:
    """Every module name an import statement in the file names (TYPE_CHECKING blocks included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{alias.name}" for alias in node.names}
    return out


def test_pages_and_the_render_context_never_import_the_site_assembler() -> None:
    """render/site.py assembles the pages; pages depend on render/context.py, never back on site.py."""
    importers = {
        name for name, path in modules().items() if "generator.render.site" in imported(path)
    }
    assert importers == {"build.py"}


def test_no_module_outgrows_the_limit_unless_it_says_why() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules().items()}
    too_big = {name: n for name, n in sizes.items() if n > LIMIT and name not in OVERSIZED}
    assert too_big == {}, f"split these or name them in OVERSIZED with the reason: {too_big}"
    shrunk = {name: sizes.get(name) for name in OVERSIZED if sizes.get(name, 0) <= LIMIT}
    assert shrunk == {}, f"no longer oversized (or gone): take them off OVERSIZED: {shrunk}"
