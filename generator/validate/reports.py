"""Report files (streams/<id>/reports/<slug>.md): front matter and embedded references, checked up front.

A report is Markdown with optional YAML front matter and references to the
report period's figures, written `{{ kind argument }}`:

    {{ metric lead_time.p85 }}        a value with its unit
    {{ compare lead_time_p85 }}       the baseline-vs-report-period sentence with its verdict
    {{ verdict lead_time_p85 }}       just the verdict, as a badge
    {{ chart throughput }}            a chart of the period
    {{ map }}                         the value stream map of the period
    {{ scenario <id> }}               a what-if scenario of stream.yaml, replayed on the period's items
    {{ forecast when committed }}     a Monte Carlo forecast made as of the report's as_of
                                      (validate/forecast_refs.py)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path

from pydantic import ValidationError, field_validator

from generator.errors import Location, Problem
from generator.load.yaml_doc import parse_yaml
from generator.validate.forecast_refs import USAGE, parse_forecast_ref
from generator.validate.pydantic_errors import problems_from
from generator.validate.schema import StreamDef, Strict

REF_RE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# fenced code blocks (``` or ~~~, to the closing fence or the end) and inline code spans: a
# reference written there is shown as it is, so a report can explain the syntax
FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^ {0,3}\1[`~]*[ \t]*$|\Z)", re.M | re.S)
INLINE_CODE_RE = re.compile(r"(?<!`)(`+)(?!`)(?:(?!\n[ \t]*\n).)+?(?<!`)\1(?!`)", re.S)
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")

DISTRIBUTIONS = ("count", "mean", "p50", "p85", "p95")
SCALARS = (
    "throughput_per_week",
    "wip_mean",
    "wip_now",
    "flow_efficiency",
    "rolled_pct_complete_accurate",
    "rework_rate",
    "blocked_days_mean",
    "process_days_mean",
    "wait_days_mean",
)
STAGE_FIELDS = (
    "mean_days",
    "p50_days",
    "p85_days",
    "items_through",
    "pct_complete_accurate",
    "wip_now",
)
FLOW = ("feature", "defect", "risk", "debt", "other")
CHARTS = ("throughput", "lead_time", "cycle_time", "scatter", "wip", "distribution", "stages")
COMPARISONS_FIXED = (
    "lead_time_p50",
    "lead_time_p85",
    "cycle_time_p50",
    "cycle_time_p85",
    "throughput_per_week",
    "flow_efficiency",
)


class FrontMatter(Strict):
    title: str | None = None
    period: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    label: str | None = None
    as_of: dt.datetime | None = None

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: object) -> object:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return dt.datetime(value.year, value.month, value.day)
        return value


@dataclass(frozen=True)
class Reference:
    kind: str  # metric | compare | verdict | chart | map | scenario | forecast
    arg: str
    start: int  # offset in the body
    end: int
    line: int
    col: int


@dataclass(frozen=True)
class ReportDef:
    """One validated report."""

    slug: str
    path: str  # project-relative
    front: FrontMatter
    body: str
    body_line: int  # line of the body's first line in the file
    references: tuple[Reference, ...]


def metric_paths(definition: StreamDef) -> list[str]:
    """Every path `{{ metric ... }}` accepts for this stream."""
    out = [f"{m}.{f}" for m in ("lead_time", "cycle_time") for f in DISTRIBUTIONS]
    out += list(SCALARS)
    out += [
        f"stages.{s.id}.{f}"
        for s in definition.stages
        for f in STAGE_FIELDS
        if f != "pct_complete_accurate" or s.kind == "active"
    ]
    out += [f"flow_distribution.{t}" for t in FLOW]
    out += ["cancelled.count", "aging_wip.count", "aging_wip.p85_days"]
    return out


def comparison_keys(definition: StreamDef) -> list[str]:
    return list(COMPARISONS_FIXED) + [
        f"stage:{s.id}:{m}"
        for s in definition.stages
        if s.kind in ("wait", "active")
        for m in ("mean", "p50")
    ]


def _split_front(text: str) -> tuple[str | None, str, int]:
    """(front matter text or None, body, line number where the body starts)."""
    if text.startswith("---\n") or text.startswith("---\r\n"):
        lines = text.splitlines(keepends=True)
        for i in range(1, len(lines)):
            if lines[i].strip() == "---":
                return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None, text, 1


def load_report(
    root: Path, rel_path: str, definition: StreamDef
) -> tuple[ReportDef | None, list[Problem]]:
    path = root / rel_path
    slug = path.stem
    problems: list[Problem] = []
    if not SLUG_RE.match(slug):
        problems.append(
            Problem(
                "E140",
                "error",
                Location(rel_path),
                f"report name '{slug}' is not a valid URL slug",
                "rename the file: lowercase letters, digits and '-' (e.g. 2026-q3.md)",
            )
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None, [
            Problem(
                "E100", "error", Location(rel_path), "report is not UTF-8 text", "save it as UTF-8"
            )
        ]
    front_text, body, body_line = _split_front(text)
    front = FrontMatter()
    if front_text is not None:
        doc, yaml_problems = parse_yaml(front_text, rel_path)
        # front matter starts on line 2 of the file
        problems += [_shift(p, 1) for p in yaml_problems]
        if doc is not None:
            try:
                front = FrontMatter.model_validate(doc.data or {})
            except ValidationError as exc:
                problems += [_shift(p, 1) for p in problems_from(exc, doc, FrontMatter)]
    if front.period and (front.start or front.end):
        problems.append(
            Problem(
                "E143",
                "error",
                Location(rel_path, 2),
                "give either `period` or `start`/`end`, not both",
                "remove one of them",
            )
        )
    if (
        front.period
        and front.period not in definition.periods
        and front.period not in ("baseline", "current")
    ):
        close = get_close_matches(
            front.period, [*definition.periods, "baseline", "current"], n=1, cutoff=0.5
        )
        problems.append(
            Problem(
                "E142",
                "error",
                Location(rel_path, 2),
                f"period '{front.period}' is not defined in stream.yaml",
                (f"did you mean '{close[0]}'? " if close else "")
                + "name a key of periods: in stream.yaml, or give start/end dates",
            )
        )
    if (front.start is None) != (front.end is None):
        problems.append(
            Problem(
                "E143",
                "error",
                Location(rel_path, 2),
                "a report period needs both `start` and `end`",
                "add the missing date",
            )
        )
    if front.start and front.end and front.end < front.start:
        problems.append(
            Problem(
                "E116",
                "error",
                Location(rel_path, 2),
                f"end {front.end} is before start {front.start}",
                "both ends are included dates",
            )
        )
    refs, ref_problems = parse_references(body, body_line, rel_path, definition)
    problems += ref_problems
    if any(p.severity == "error" for p in problems):
        return None, problems
    return ReportDef(slug, rel_path, front, body, body_line, tuple(refs)), problems


def _shift(problem: Problem, lines: int) -> Problem:
    loc = problem.location
    if loc.line is None:
        return problem
    return Problem(
        problem.code,
        problem.severity,
        Location(loc.path, loc.line + lines, loc.col),
        problem.message,
        problem.hint,
    )


def code_ranges(body: str) -> list[tuple[int, int]]:
    """Start and end offsets of the fenced code blocks and inline code spans of a Markdown body."""
    fences = [m.span() for m in FENCE_RE.finditer(body)]
    spans = [
        m.span()
        for m in INLINE_CODE_RE.finditer(body)
        if not _in_code(m.start(), fences) and not _in_code(m.end() - 1, fences)
    ]
    return sorted(fences + spans)


def _in_code(offset: int, ranges: list[tuple[int, int]]) -> bool:
    return any(start <= offset < end for start, end in ranges)


def parse_references(
    body: str, body_line: int, path: str, definition: StreamDef
) -> tuple[list[Reference], list[Problem]]:
    refs: list[Reference] = []
    problems: list[Problem] = []
    metrics = metric_paths(definition)
    comparisons = comparison_keys(definition)
    code = code_ranges(body)
    for match in REF_RE.finditer(body):
        if _in_code(match.start(), code):
            continue
        line = body_line + body.count("\n", 0, match.start())
        col = match.start() - (body.rfind("\n", 0, match.start()) + 1) + 1
        words = match.group(1).split()
        kind = words[0] if words else ""
        arg = " ".join(words[1:])
        loc = Location(path, line, col)
        known: list[str] | None = {
            "metric": metrics,
            "compare": comparisons,
            "verdict": comparisons,
            "chart": list(CHARTS),
            "map": [],
            "scenario": [s.id for s in definition.scenarios],
            "forecast": [],
        }.get(kind)
        if known is None:
            close = get_close_matches(
                kind,
                ["metric", "compare", "verdict", "chart", "map", "scenario", "forecast"],
                n=1,
                cutoff=0.5,
            )
            problems.append(
                Problem(
                    "E141",
                    "error",
                    loc,
                    f"unknown reference '{{{{ {match.group(1)} }}}}'",
                    (f"did you mean '{close[0]}'? " if close else "")
                    + "use metric, compare, verdict, chart, map, scenario or forecast (see docs/reports.md)",
                )
            )
            continue
        if kind == "map":
            if arg:
                problems.append(
                    Problem(
                        "E141", "error", loc, "'{{ map }}' takes no argument", "write {{ map }}"
                    )
                )
                continue
        elif kind == "forecast":
            _, wrong = parse_forecast_ref(arg)
            if wrong:
                problems.append(Problem("E141", "error", loc, wrong, USAGE))
                continue
        elif arg not in known:
            close = get_close_matches(arg, known, n=1, cutoff=0.5)
            names = (
                f"the scenarios of stream.yaml: {', '.join(known)}"
                if kind == "scenario" and known
                else "stream.yaml has no scenarios: (docs/scenarios.md)"
                if kind == "scenario"
                else "see docs/reports.md for the names"
            )
            problems.append(
                Problem(
                    "E141",
                    "error",
                    loc,
                    f"unknown {kind} '{arg}'",
                    (f"did you mean '{close[0]}'? " if close else "") + names,
                )
            )
            continue
        refs.append(Reference(kind, arg, match.start(), match.end(), line, col))
    return refs, problems
