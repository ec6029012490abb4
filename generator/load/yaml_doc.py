"""Read YAML into plain Python values while remembering where every key and value is.

PyYAML's composed node tree carries start marks; we construct values from it
ourselves so that each path (("stages", 2, "states") and so on) maps to the
line and column a message should point at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from generator.errors import Location, Problem

PathKey = tuple[str | int, ...]

# Values a document may reach again through aliases: far above any stream.yaml's use of anchors,
# far below an alias bomb ("billion laughs": 9 aliases of 9 aliases ... is 9^9 values).
MAX_ALIASED = 10_000
# Lists and mappings nested deeper than this are refused before parsing (PyYAML's scanner slows
# down with the square of the depth, and its composer recurses once per level).
MAX_DEPTH = 100


@dataclass
class YamlDoc:
    """A parsed YAML document and the position of every key and value in it."""

    path: str
    data: Any
    value_pos: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_pos: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def locate(self, loc: PathKey, *, key: bool = False) -> Location:
        """The location of a path, falling back to its nearest known parent."""
        table = self.key_pos if key else self.value_pos
        probe = tuple(loc)
        while probe:
            if probe in table:
                line, col = table[probe]
                return Location(self.path, line, col)
            if not key and probe in self.key_pos:
                line, col = self.key_pos[probe]
                return Location(self.path, line, col)
            probe = probe[:-1]
        line, col = self.value_pos.get((), (1, 1))
        return Location(self.path, line, col)


class _Builder:
    def __init__(self, doc: YamlDoc, problems: list[Problem]) -> None:
        self.doc = doc
        self.problems = problems
        self.constructor = yaml.SafeLoader("")
        self.open_nodes: set[int] = set()
        self.seen: set[int] = set()
        self.aliased = 0

    def build(self, node: yaml.Node, path: PathKey) -> Any:
        if id(node) in self.seen:
            self.aliased += 1
            if self.aliased > MAX_ALIASED:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"aliases here expand to more than {MAX_ALIASED:,} values (an alias bomb?)",
                    node.start_mark,
                )
        self.seen.add(id(node))
        self.doc.value_pos[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in self.open_nodes:
            raise yaml.constructor.ConstructorError(
                None, None, "an alias refers to itself (recursive anchor)", node.start_mark
            )
        self.open_nodes.add(id(node))
        try:
            return self._build(node, path)
        finally:
            self.open_nodes.discard(id(node))

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except ValueError as exc:  # e.g. an impossible date such as 2026-02-30
            raise yaml.constructor.ConstructorError(
                None, None, f"'{node.value}' is not a valid value ({exc})", node.start_mark
            ) from None

    def _build(self, node: yaml.Node, path: PathKey) -> Any:
        if isinstance(node, yaml.MappingNode):
            self.constructor.flatten_mapping(node)
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self._scalar(key_node)
                if not isinstance(key, str | int | bool | float) and key is not None:
                    key = str(key)
                key = key if isinstance(key, str) else str(key)
                key_path = (*path, key)
                pos = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if key in out:
                    first = self.doc.key_pos[key_path]
                    self.problems.append(
                        Problem(
                            "E118",
                            "error",
                            Location(self.doc.path, *pos),
                            f"key '{key}' appears twice (first on line {first[0]})",
                            "keep one of them; YAML would silently use the last",
                        )
                    )
                    continue
                self.doc.key_pos[key_path] = pos
                out[key] = self.build(value_node, key_path)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)


# libyaml's parser when PyYAML was built with it (the wheels are): a stream.yaml in about
# 1 ms instead of 20 (vsm serve parses every definition on each rebuild); a document it
# rejects is parsed again by the pure-Python one, whose messages are the ones documented
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(text: str, path: str) -> tuple[YamlDoc | None, list[Problem]]:
    """Parse one YAML document; syntax errors come back as located E100 problems."""
    problems: list[Problem] = []
    if _depth(text)[2] > MAX_DEPTH:
        return None, [_too_deep(text, path)]
    try:
        try:
            node = yaml.compose(text, Loader=_COMPOSER)
        except yaml.YAMLError:  # the pure-Python parser's messages are the ones documented (tabs)
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or "invalid YAML"
        if exc.context:
            what = f"{exc.context}: {what}"
        hint = (
            "indent with spaces: YAML does not allow tabs for indentation"
            if "'\\t'" in what
            else "check indentation and quoting near this line; quote values containing ': ' or '#'"
        )
        problems.append(
            Problem("E100", "error", Location(path, line, col), f"not valid YAML ({what})", hint)
        )
        return None, problems
    except RecursionError:
        return None, [_too_deep(text, path)]
    except yaml.YAMLError as exc:  # pragma: no cover - non-marked errors are rare
        problems.append(Problem("E100", "error", Location(path), f"not valid YAML ({exc})", ""))
        return None, problems
    doc = YamlDoc(path=path, data=None)
    if node is None:
        doc.data = None
        return doc, problems
    try:
        doc.data = _Builder(doc, problems).build(node, ())
    except RecursionError:
        return None, [*problems, _too_deep(text, path)]
    except yaml.constructor.ConstructorError as exc:
        mark = exc.problem_mark
        problems.append(
            Problem(
                "E100",
                "error",
                Location(path, mark.line + 1 if mark else None, mark.column + 1 if mark else None),
                f"not valid YAML ({exc.problem})",
                "write the values out, or use fewer aliases"
                if "alias bomb" in str(exc.problem)
                else "only plain YAML values (text, numbers, dates, lists, mappings) are allowed",
            )
        )
        return None, problems
    return doc, problems


def _depth(text: str) -> tuple[int, int, int]:
    """(line, column, depth) where `[` and `{` are nested deepest, quotes ignored (an upper bound)."""
    raw = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    step = np.zeros(len(raw), dtype=np.int32)
    step[(raw == ord("[")) | (raw == ord("{"))] = 1
    step[(raw == ord("]")) | (raw == ord("}"))] = -1
    if not len(raw) or not step.any():
        return 1, 1, 0
    depth = np.cumsum(step)
    at = int(np.argmax(depth))
    line_start = int(np.flatnonzero(raw[:at] == 10)[-1]) + 1 if (raw[:at] == 10).any() else 0
    return int((raw[:at] == 10).sum()) + 1, at - line_start + 1, int(depth[at])


def _too_deep(text: str, path: str) -> Problem:
    """E100 for lists or mappings nested deeper than MAX_DEPTH, at the deepest point."""
    line, col, _ = _depth(text)
    return Problem(
        "E100",
        "error",
        Location(path, line, col),
        f"not valid YAML here: lists or mappings are nested more than {MAX_DEPTH} levels deep",
        "a stream definition needs a few levels of nesting; check this part of the file",
    )
