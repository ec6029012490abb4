"""Problems are data: a code, a severity, a location, a message and a hint.

Every stage collects Problems instead of raising; only cli.py turns them into
text and exit codes, and the site's data-quality page shows the same list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """Where a problem is: a project-relative path, and a line and column when known."""

    path: str
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        text = self.path
        if self.line is not None:
            text += f":{self.line}"
            if self.col is not None:
                text += f":{self.col}"
        return text


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, in the one form every message takes.

    `count` > 1 folds many rows with the same problem into one entry (the
    location is then the first such row).
    """

    code: str
    severity: Severity
    location: Location
    message: str
    hint: str = ""
    count: int = 1
    kind: str = field(default="", compare=False)

    def format(self) -> str:
        head = f"{self.location}: {self.severity}[{self.code}]: {self.message}"
        if self.count > 1:
            head += f" ({self.count} rows)"
        return head + (f"\n  hint: {self.hint}" if self.hint else "")

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.location.path,
            "line": self.location.line,
            "col": self.location.col,
            "message": self.message,
            "hint": self.hint,
            "count": self.count,
        }


class InputError(Exception):
    """Raised only to stop a build after all problems of a stage were collected."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problem(s)")


def errors_in(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    """Stable order for output: by file, line, column, code."""
    return sorted(
        problems,
        key=lambda p: (
            p.location.path,
            p.location.line or 0,
            p.location.col or 0,
            p.code,
            p.message,
        ),
    )
