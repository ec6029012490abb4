"""Text on the map: measured widths (DejaVu Sans metrics), word wrap, and figures as they are written."""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

from generator.render.format import duration, integer, number, percent
from generator.render.vsm_map.model import Figure, Unit

# ---------------------------------------------------------------- text


# Advance widths (em) of DejaVu Sans, the widest common sans and Chromium's default on Linux; Arial,
# Helvetica and Segoe UI are narrower, so a line that fits by these fits in them too.
_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?'\"()[]{}/\\|-_+=<>*#&%@~^$`"
_WIDTHS = (
    "613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818 592 592 525 "
    "684 686 698 770 632 575 775 752 295 295 656 557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 "
    + "636 "
    * 10
    + "318 318 318 337 337 401 531 275 460 390 390 390 390 636 636 337 337 337 361 500 838 838 838 838 500 838 "
    "780 950 1000 838 838 636 500"
)
_EM = {ch: int(w) / 1000 for ch, w in zip(_CHARS, _WIDTHS.split(), strict=True)} | {"\u00a0": 0.318}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean(text: Any) -> str:
    """Text safe to put in XML once escaped: control characters and lone surrogates become spaces."""
    line = str(text)
    if line.isprintable():  # none of them (they are all unprintable): most text, at C speed
        return line
    return _CONTROL.sub(" ", line).replace("\n", " ").replace("\t", " ")


def _units(ch: str) -> float:
    """One character's advance in em (0 for a combining mark); remembered in _UNITS."""
    if unicodedata.combining(ch):
        em = 0.0
    else:
        found = _EM.get(ch)
        if found is None:
            found = _EM.get(unicodedata.normalize("NFD", ch)[0])
        em = (
            found
            if found is not None
            else (1.05 if unicodedata.east_asian_width(ch) in ("W", "F") else 1.0)
        )
    _UNITS[ch] = em
    return em


_UNITS: dict[str, float] = {}


def _line_units(text: str, units: float = 0.0) -> float:
    """`units` plus the advance (em) of each character of `text`, added left to right: the sum
    over a line equals the sum over its start continued over the rest, to the last bit."""
    known = _UNITS
    for ch in text:
        em = known.get(ch)
        units += em if em is not None else _units(ch)
    return units


def _px(units: float, size: float, bold: bool) -> float:
    return units * size * (1.1 if bold else 1.0) * 1.04


@functools.lru_cache(maxsize=1 << 16)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width in px of one line at `size` px: DejaVu Sans metrics (bold 10% wider) plus a 4% margin;
    characters outside the table count as wide (1 em), east Asian wide ones as 1.05 em."""
    return _px(_line_units(text), size, bold)


def wrap(
    text: str, width: float, size: float, bold: bool = False, max_lines: int = 10
) -> list[str]:
    """Greedy word wrap by measured width; words longer than a line are split; at most max_lines (…)."""
    return list(_wrap(clean(text), width, size, bold, max_lines))


# a map wraps the same labels more than once, and every map of a stream its stage names
@functools.lru_cache(maxsize=1 << 14)
def _wrap(text: str, width: float, size: float, bold: bool, max_lines: int) -> tuple[str, ...]:
    lines: list[str] = []
    current, units = "", 0.0  # the line so far and its advance: each word adds its own
    for word in (w for w in text.split(" ") if w):
        trial = _line_units(" " + word, units) if current else _line_units(word)
        if _px(trial, size, bold) <= width:
            current, units = f"{current} {word}" if current else word, trial
            continue
        if current:
            lines.append(current)
        current, units = "", 0.0
        for ch in word:
            trial = _line_units(ch, units)
            if _px(trial, size, bold) > width and current:
                lines.append(current)
                current, trial = "", _line_units(ch)
            current, units = current + ch, trial
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and text_width(last + "…", size, bold) > width:
            last = last[:-1]
        lines[-1] = last + "…"
    return tuple(lines) or ("",)


def dur(days: Any) -> str:
    """Days with 1 decimal ('3.2 d'), hours under a day ('5.0 h'); a no-break space keeps the unit on the line."""
    return duration(days).replace(" ", "\u00a0")


def fmt(value: Any, unit: Unit) -> str:
    """A figure as shown: durations as `dur`, shares in %, rates per week."""
    if unit == "days":
        return dur(value)
    if unit == "share":
        return percent(value)
    if unit == "count":
        return (
            number(value) if isinstance(value, float) and not value.is_integer() else integer(value)
        )
    if unit == "rate":
        return "–" if value is None else f"{number(value)}/wk"
    return "–" if value is None else f"{number(value)}/item"


def change_parts(f: Figure) -> tuple[str, str, str]:
    """(baseline as shown, sign, verdict): the sign is ▲ higher, ▼ lower or = (same as shown), '' if unknown."""
    shown, was = fmt(f.value, f.unit), fmt(f.baseline, f.unit)
    sign = ""
    if f.value is not None and f.baseline is not None:
        sign = "=" if shown == was else ("▲" if f.value > f.baseline else "▼")
    return was, sign, f.verdict or ""


def change_text(f: Figure) -> tuple[str, str]:
    """('was 4.1 d ▼ improved', css class): the baseline, the direction as a sign, and the verdict in words.
    Colour only comes with a verdict of improved or worse, which is always written out beside it."""
    if not f.has_baseline:
        return "", ""
    was, sign, verdict = change_parts(f)
    text = " ".join(t for t in (f"was {was}", sign, verdict) if t)
    return text, {"improved": "vsm-good", "worse": "vsm-bad"}.get(verdict, "vsm-muted")
