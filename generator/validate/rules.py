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
    out += _scenarios(d, doc)
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


# which stage kinds each scenario change applies to (docs/scenarios.md explains why)
CHANGE_FITS = {
    "wait": ("wait",),
    "remove_stage": ("wait",),
    "rework": ("wait", "active", "done"),
    "wip_limit": ("wait", "active"),
}
CHANGE_FIT_HINTS = {
    "wait": "a wait cut shortens a queue: name a stage of kind wait (for an active stage use wip_limit)",
    "remove_stage": "only a queue (a wait stage) can be designed out; the work of an active stage has to go somewhere",
    "rework": "name the stage that sends work back (a wait, active or done stage after the first one)",
    "wip_limit": "a WIP limit applies to a wait or an active stage",
}


def _scenarios(d: StreamDef, doc: YamlDoc) -> list[Problem]:
    """Scenario ids unique; each change one kind, naming a stage of a kind it fits, none contradicting another."""
    out: list[Problem] = []
    ids = [s.id for s in d.stages]
    kinds = {s.id: s.kind for s in d.stages}
    seen: dict[str, int] = {}
    for i, scenario in enumerate(d.scenarios):
        at = ("scenarios", i)
        if scenario.id in seen:
            out.append(
                Problem(
                    "E160",
                    "error",
                    doc.locate((*at, "id")),
                    f"scenarios[{i}].id: '{scenario.id}' is used twice (also scenarios[{seen[scenario.id]}])",
                    "give every scenario its own id (it names the scenario in reports and metrics.json)",
                )
            )
        seen.setdefault(scenario.id, i)
        touched: dict[tuple[str, str], int] = {}
        for j, change in enumerate(scenario.changes):
            where = (*at, "changes", j)
            name = f"scenarios[{i}].changes[{j}]"
            if len(change.kinds) != 1:
                given = ", ".join(change.kinds) if change.kinds else "none"
                out.append(
                    Problem(
                        "E161",
                        "error",
                        doc.locate(where),
                        f"{name}: a change names exactly one of {', '.join(CHANGE_FITS)} (given: {given})",
                        "write one change per list entry, e.g. - wait: {stage: review-queue, cut: 0.5}",
                    )
                )
                continue
            kind, stage = change.kind, change.stage
            stage_at = (*where, kind) if kind == "remove_stage" else (*where, kind, "stage")
            if stage not in ids:
                close = get_close_matches(stage, ids, n=1, cutoff=0.5)
                out.append(
                    Problem(
                        "E162",
                        "error",
                        doc.locate(stage_at),
                        f"{name}.{kind}: '{stage}' is not a stage id",
                        f"did you mean '{close[0]}'?" if close else f"use one of: {', '.join(ids)}",
                    )
                )
                continue
            first = ids[0] == stage
            if kinds[stage] not in CHANGE_FITS[kind] or (kind == "rework" and first):
                what = (
                    "the first stage, which has nothing before it"
                    if first and kind == "rework"
                    else f"a {kinds[stage]} stage"
                )
                out.append(
                    Problem(
                        "E163",
                        "error",
                        doc.locate(stage_at),
                        f"{name}.{kind}: '{stage}' is {what}",
                        CHANGE_FIT_HINTS[kind],
                    )
                )
                continue
            conflict = _conflict(touched, kind, stage)
            if conflict is not None:
                out.append(
                    Problem(
                        "E164",
                        "error",
                        doc.locate(where),
                        f"{name}: {kind} on '{stage}' contradicts changes[{conflict}] of the same scenario",
                        "change a stage once per scenario (a removed stage cannot be cut or limited as well)",
                    )
                )
                continue
            touched[(kind, stage)] = j
    return out


def _conflict(touched: dict[tuple[str, str], int], kind: str, stage: str) -> int | None:
    """The earlier change this one contradicts: the same kind on the same stage, or any change
    on a removed stage (and removing a stage that another change already names)."""
    if (kind, stage) in touched:
        return touched[(kind, stage)]
    for (k, s), j in touched.items():
        if s == stage and "remove_stage" in (k, kind):
            return j
    return None
