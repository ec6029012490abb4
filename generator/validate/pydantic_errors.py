"""Turn pydantic validation errors into located Problems with codes and hints."""

from __future__ import annotations

from difflib import get_close_matches
from typing import Any, get_args, get_origin

from pydantic import BaseModel, ValidationError

from generator.errors import Problem
from generator.load.yaml_doc import PathKey, YamlDoc

TYPE_ERRORS = {
    "string_type",
    "int_type",
    "int_parsing",
    "float_type",
    "float_parsing",
    "bool_type",
    "bool_parsing",
    "list_type",
    "tuple_type",
    "dict_type",
    "model_type",
    "model_attributes_type",
    "date_type",
    "datetime_type",
    "int_from_float",
}


def dotted(loc: PathKey) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _model_at(model: type[BaseModel], loc: PathKey) -> type[BaseModel] | None:
    """The model class that owns the mapping at `loc` (for listing allowed keys)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    if get_origin(annotation) is None:
        return None
    return None


TYPE_TAGS = ("str", "int", "float", "date", "datetime", "tuple[str, ...]")


def _field_path(model: type[BaseModel], loc: tuple[Any, ...]) -> PathKey:
    """pydantic's error location without the tags it adds for union members and validators
    ('date', 'function-after[...]'), walking the model so that a field named like a tag stays."""
    out: list[str | int] = []
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            out.append(part)
            continue
        is_model = isinstance(current, type) and issubclass(current, BaseModel)
        if is_model and part in current.model_fields:
            out.append(part)
            current = _inner_model(current.model_fields[part].annotation)
        elif part.startswith(("function-", "constrained-")) or part in TYPE_TAGS:
            continue
        else:  # a key of a mapping (a period's name, a type in item_types)
            out.append(part)
    return tuple(out)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def problems_from(
    exc: ValidationError, doc: YamlDoc, model: type[BaseModel], prefix: PathKey = ()
) -> list[Problem]:
    out: list[Problem] = []
    for err in exc.errors(include_url=False):
        loc = _field_path(model, err["loc"])
        full = (*prefix, *loc)
        kind = err["type"]
        where = dotted(full)
        value = err.get("input")
        if kind == "extra_forbidden":
            owner = _model_at(model, loc[:-1])
            allowed = sorted(owner.model_fields) if owner else []
            key = str(loc[-1])
            close = get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else ""
            hint += (" " if hint else "") + (
                f"allowed here: {', '.join(allowed)}" if allowed else "remove it"
            )
            out.append(
                Problem(
                    "E101",
                    "error",
                    doc.locate(full, key=True),
                    f"{where}: unknown key '{key}'",
                    hint,
                )
            )
        elif kind == "missing":
            key = str(loc[-1])
            out.append(
                Problem(
                    "E102",
                    "error",
                    doc.locate(full[:-1]),
                    f"{dotted(full[:-1])}: required key '{key}' is missing",
                    f"add '{key}:' here (see docs/stream-yaml.md)",
                )
            )
        elif kind in TYPE_ERRORS:
            hint = "see docs/stream-yaml.md for the expected form"
            if kind in ("list_type", "tuple_type") and isinstance(value, str):
                hint = f'write {loc[-1]}: ["{value}"]'
            expected = {
                "list_type": "a list",
                "tuple_type": "a list",
                "dict_type": "a mapping of keys",
                "model_type": "a mapping of keys",
                "string_type": "text",
                "int_type": "a whole number",
                "int_parsing": "a whole number",
                "float_type": "a number",
                "float_parsing": "a number",
                "bool_type": "true or false",
                "bool_parsing": "true or false",
                "date_type": "a date (YYYY-MM-DD)",
                "datetime_type": "a date and time",
            }.get(kind)
            message = f"expected {expected}" if expected else err["msg"].lower()
            out.append(
                Problem(
                    "E103",
                    "error",
                    doc.locate(full),
                    f"{where}: {message}, got {_show(value)}",
                    hint,
                )
            )
        else:
            hint = "see docs/stream-yaml.md for the allowed values"
            ctx = err.get("ctx") or {}
            if kind == "literal_error" and "expected" in ctx:
                options = [
                    o.strip(" '") for o in str(ctx["expected"]).replace(" or ", ", ").split(",")
                ]
                close = get_close_matches(str(value), options, n=1, cutoff=0.5)
                hint = (
                    f"did you mean '{close[0]}'? " if close else ""
                ) + f"allowed: {', '.join(options)}"
            elif kind == "string_pattern_mismatch":
                hint = "use lowercase letters, digits, '-' and '_', starting with a letter"
            message = err["msg"]
            if message.startswith("Value error, "):
                message = message[len("Value error, ") :]
            out.append(
                Problem(
                    "E104",
                    "error",
                    doc.locate(full),
                    f"{where}: {message[0].lower() + message[1:]}, got {_show(value)}",
                    hint,
                )
            )
    return out
