"""Rules that relate parts of a stream definition to each other, each with its own code."""

from __future__ import annotations

from difflib import get_close_matches
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from generator.errors import Problem
from generator.load.yaml_doc import YamlDoc
from generator.model import normalize_state
from generator.validate.forecast_rules import check_forecast
from generator.validate.schema import StreamDef


def check_rules(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    out: list[Problem] = []
    out += _stage_ids(d, doc)
    out += _stage_order(d, doc)
    out += _commitment(d, doc)
    out += _states_twice(d, doc)
    out += _timezone(d, doc)
    out += _periods(d, doc)
    out += _events(d, doc)
    out += check_forecast(d, doc)
    return out


def _stage_ids(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    seen: dict[str, int] = {}
    out = []
    for i, stage in enumerate(d.stages):
        if stage.id == "unmapped":
            out.append(
                Problem(
                    "E110",
                    "error",
                    doc.locate(("stages", i, "id")),
                    f"stages[{i}].id: 'unmapped' is reserved for time in states no stage lists",
                    "choose another id",
                )
            )
        if stage.id in seen:
            out.append(
                Problem(
                    "E110",
                    "error",
                    doc.locate(("stages", i, "id")),
                    f"stages[{i}].id: '{stage.id}' is used twice (also stages[{seen[stage.id]}])",
                    "give every stage its own id",
                )
            )
        seen.setdefault(stage.id, i)
    return out


def _stage_order(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    out = []
    kinds = [s.kind for s in d.stages]
    if "done" not in kinds:
        out.append(
            Problem(
                "E111",
                "error",
                doc.locate(("stages",)),
                "stages: no stage has kind 'done'",
                "add a stage with kind: done listing the states that mean delivered",
            )
        )
    ended = False
    for i, stage in enumerate(d.stages):
        if stage.kind in ("done", "cancelled"):
            ended = True
        elif ended:
            out.append(
                Problem(
                    "E112",
                    "error",
                    doc.locate(("stages", i)),
                    f"stages[{i}] '{stage.id}' ({stage.kind}) comes after a done or cancelled stage",
                    "list done and cancelled stages last, after every wait and active stage",
                )
            )
    return out


def _commitment(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    ids = [s.id for s in d.stages]
    if d.commitment not in ids:
        close = get_close_matches(d.commitment, ids, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(ids)}"
        return [
            Problem(
                "E113",
                "error",
                doc.locate(("commitment",)),
                f"commitment: '{d.commitment}' is not a stage id",
                hint,
            )
        ]
    if d.stage(d.commitment).kind in ("done", "cancelled"):
        return [
            Problem(
                "E113",
                "error",
                doc.locate(("commitment",)),
                f"commitment: '{d.commitment}' is a {d.stage(d.commitment).kind} stage",
                "commitment is where work starts: pick the first stage the team commits to",
            )
        ]
    return []


def _states_twice(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    owner: dict[str, str] = {}
    out = []
    for i, stage in enumerate(d.stages):
        for j, state in enumerate(stage.states):
            key = normalize_state(state)
            if key in owner:
                out.append(
                    Problem(
                        "E114",
                        "error",
                        doc.locate(("stages", i, "states", j)),
                        f"state '{state}' is listed twice (also in {owner[key]})",
                        "a state belongs to one stage; remove one of them",
                    )
                )
            owner.setdefault(key, f"stage '{stage.id}'")
    for j, state in enumerate(d.blocked.states):
        key = normalize_state(state)
        if key in owner:
            out.append(
                Problem(
                    "E114",
                    "error",
                    doc.locate(("blocked", "states", j)),
                    f"blocked state '{state}' is also listed in {owner[key]}",
                    "a blocked state keeps the item in its stage; remove it from the stage",
                )
            )
        owner.setdefault(key, "blocked.states")
    return out


def _timezone(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    try:
        ZoneInfo(d.timezone)
        return []
    except (ZoneInfoNotFoundError, ValueError):
        close = get_close_matches(d.timezone, sorted(available_timezones()), n=1, cutoff=0.6)
        hint = (
            f"did you mean '{close[0]}'?"
            if close
            else "use an IANA name such as Europe/Berlin or America/New_York"
        )
        return [
            Problem(
                "E117",
                "error",
                doc.locate(("timezone",)),
                f"timezone: '{d.timezone}' is not a known IANA time zone",
                hint,
            )
        ]


def _periods(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    out = []
    for name, period in d.periods.items():
        if period.end < period.start:
            out.append(
                Problem(
                    "E116",
                    "error",
                    doc.locate(("periods", name, "end")),
                    f"periods.{name}: end {period.end} is before start {period.start}",
                    "both ends are included; end must be on or after start",
                )
            )
    return out


def _events(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    ids = [s.id for s in d.stages]
    out = []
    for i, event in enumerate(d.events):
        if event.stage is not None and event.stage not in ids:
            close = get_close_matches(event.stage, ids, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(ids)}"
            out.append(
                Problem(
                    "E115",
                    "error",
                    doc.locate(("events", i, "stage")),
                    f"events[{i}].stage: '{event.stage}' is not a stage id",
                    hint,
                )
            )
    return out
