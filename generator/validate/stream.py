"""Find the streams of a project and validate each definition, collecting every problem."""

from __future__ import annotations

from difflib import get_close_matches
from pathlib import Path

from pydantic import ValidationError

from generator.errors import Location, Problem
from generator.load.yaml_doc import YamlDoc, parse_yaml
from generator.model import Project, StageMap, StreamConfig
from generator.sources import KINDS
from generator.validate.paths import unsafe_reason
from generator.validate.pydantic_errors import problems_from
from generator.validate.reports import load_report
from generator.validate.rules import check_rules
from generator.validate.schema import STREAM_ID_RE, ProjectDef, StreamDef


def rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def load_project(root: Path, only: set[str] | None = None) -> tuple[Project, list[Problem]]:
    """Validate vsm.yaml and every streams/<id>/stream.yaml under `root`."""
    problems: list[Problem] = []
    settings, settings_problems = _load_settings(root)
    problems += settings_problems
    streams_dir = root / "streams"
    if not streams_dir.is_dir():
        problems.append(
            Problem(
                "E130",
                "error",
                Location("streams"),
                "no streams/ folder in the project",
                "run from the folder that holds streams/, pass --project DIR, or create one with `vsm new ID`",
            )
        )
        return Project(str(root), settings, ()), problems
    streams = []
    folders = sorted(p for p in streams_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        problems.append(
            Problem(
                "E130",
                "error",
                Location("streams"),
                "streams/ holds no stream folders",
                "create one with `vsm new ID`",
            )
        )
    for folder in folders:
        if only is not None and folder.name not in only:
            continue
        stream, stream_problems = load_stream(root, folder)
        problems += stream_problems
        if stream is not None:
            streams.append(stream)
    return Project(str(root), settings, tuple(streams)), problems


def _load_settings(root: Path) -> tuple[ProjectDef, list[Problem]]:
    path = root / "vsm.yaml"
    if not path.is_file():
        return ProjectDef(), []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return ProjectDef(), [
            Problem(
                "E100",
                "error",
                Location("vsm.yaml"),
                "vsm.yaml is not UTF-8 text",
                "save it as UTF-8",
            )
        ]
    doc, problems = parse_yaml(text, "vsm.yaml")
    if doc is None:
        return ProjectDef(), problems
    try:
        return ProjectDef.model_validate(doc.data or {}), problems
    except ValidationError as exc:
        return ProjectDef(), problems + problems_from(exc, doc, ProjectDef)


def load_stream(root: Path, folder: Path) -> tuple[StreamConfig | None, list[Problem]]:
    """Validate one stream folder; None when its definition has errors."""
    yaml_path = folder / "stream.yaml"
    yaml_rel = rel(yaml_path, root)
    problems: list[Problem] = []
    if not STREAM_ID_RE.match(folder.name):
        problems.append(
            Problem(
                "E121",
                "error",
                Location(rel(folder, root)),
                f"'{folder.name}' is not a valid stream id",
                "rename the folder: lowercase letters, digits and '-', starting with a letter",
            )
        )
    if not yaml_path.is_file():
        problems.append(
            Problem(
                "E122",
                "error",
                Location(yaml_rel),
                "stream.yaml not found",
                "every stream folder needs a stream.yaml (create one with `vsm new ID`)",
            )
        )
        return None, problems
    try:
        text = yaml_path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.append(
            Problem(
                "E100",
                "error",
                Location(yaml_rel),
                "stream.yaml is not UTF-8 text",
                "save it as UTF-8",
            )
        )
        return None, problems
    doc, parse_problems = parse_yaml(text, yaml_rel)
    problems += parse_problems
    if doc is None:
        return None, problems
    if not isinstance(doc.data, dict):
        problems.append(
            Problem(
                "E103",
                "error",
                doc.locate(()),
                "stream.yaml must be a mapping of keys (name:, sources:, stages:, ...)",
                "see docs/stream-yaml.md",
            )
        )
        return None, problems
    try:
        definition = StreamDef.model_validate(doc.data)
    except ValidationError as exc:
        problems += problems_from(exc, doc, StreamDef)
        # still check the sources so every problem is reported at once
        problems += _check_sources(doc.data.get("sources"), doc, root, folder)[1]
        return None, problems
    problems += check_rules(definition, doc)
    sources, source_problems = _check_sources(doc.data.get("sources"), doc, root, folder)
    problems += source_problems
    if any(p.severity == "error" for p in problems):
        return None, problems
    notes = folder / "notes.md"
    reports_dir = folder / "reports"
    report_paths = (
        sorted(rel(p, root) for p in reports_dir.glob("*.md")) if reports_dir.is_dir() else []
    )
    reports = []
    for report_path in report_paths:
        report, report_problems = load_report(root, report_path, definition)
        problems += report_problems
        if report is not None:
            reports.append(report)
    if any(p.severity == "error" for p in problems):
        return None, problems
    config = StreamConfig(
        id=folder.name,
        folder=rel(folder, root),
        definition=definition,
        sources=tuple(sources),
        yaml_path=yaml_rel,
        notes_path=rel(notes, root) if notes.is_file() else None,
        reports=tuple(reports),
        stage_map=StageMap.build(definition),
    )
    return config, problems


def _check_sources(
    raw: object, doc: YamlDoc, root: Path, folder: Path
) -> tuple[list[object], list[Problem]]:
    if not isinstance(raw, list):
        return [], []
    out: list[object] = []
    problems: list[Problem] = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            continue
        kind = entry.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            if kind is None:
                problems.append(
                    Problem(
                        "E102",
                        "error",
                        doc.locate(("sources", i)),
                        f"sources[{i}]: required key 'kind' is missing",
                        f"add kind: one of {', '.join(sorted(KINDS))}",
                    )
                )
            else:
                close = get_close_matches(str(kind), list(KINDS), n=1, cutoff=0.5)
                hint = (
                    f"did you mean '{close[0]}'? " if close else ""
                ) + f"known kinds: {', '.join(sorted(KINDS))}"
                problems.append(
                    Problem(
                        "E105",
                        "error",
                        doc.locate(("sources", i, "kind")),
                        f"sources[{i}].kind: unknown source kind '{kind}'",
                        hint,
                    )
                )
            continue
        options_model = KINDS[kind].Options
        try:
            options = options_model.model_validate(entry)
        except ValidationError as exc:
            problems += problems_from(exc, doc, options_model, prefix=("sources", i))
            continue
        for name in options_model.path_fields:
            value = getattr(options, name, None)
            if value is None:
                continue
            reason = unsafe_reason(str(value), folder, root)
            if reason:
                problems.append(
                    Problem(
                        "E120",
                        "error",
                        doc.locate(("sources", i, name)),
                        f"sources[{i}].{name}: {reason} ('{value}')",
                        "write a path relative to the stream's folder that stays inside the project",
                    )
                )
                continue
            if not (folder / str(value)).exists():
                problems.append(
                    Problem(
                        "E122",
                        "error",
                        doc.locate(("sources", i, name)),
                        f"sources[{i}].{name}: '{value}' does not exist",
                        "check the path; it is relative to the stream's folder",
                    )
                )
                continue
        out.append(options)
    return out, problems
