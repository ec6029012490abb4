"""Plain sentences for what-if scenarios: what each change did, and what the scenario would do."""

from __future__ import annotations

from typing import Any

MIN_ITEMS = 5  # fewer completed items: the figures are indicative (as on the map)
DASH = "\u2013"


def days_text(x: float) -> str:
    """'36.1 days', or hours under a day ('5.0 hours')."""
    return f"{x * 24:.1f} hours" if abs(x) < 1 else f"{x:.1f} days"


def _number(x: float) -> str:
    return f"{x * 24:.1f}" if abs(x) < 1 else f"{x:.1f}"


def from_to(a: float, b: float) -> str:
    """'from 36.1 to 31.0 days' (one unit when both read in the same one)."""
    if (abs(a) < 1) == (abs(b) < 1):
        return f"from {_number(a)} to {days_text(b)}"
    return f"from {days_text(a)} to {days_text(b)}"


def range_text(interval: list[float] | None) -> str:
    if not interval:
        return "no interval"
    low, high = interval
    if (abs(low) < 1) == (abs(high) < 1):
        return f"{_number(low)}{DASH}{days_text(high)}"
    return f"{days_text(low)}{DASH}{days_text(high)}"


def percent(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def change_text(effect: dict[str, Any], names: dict[str, str], label: str, n: int) -> str:
    """What one change did to the period's items, in a sentence."""
    stage = names.get(effect["stage"], effect["stage"])
    kind = effect["kind"]
    if kind == "wait":
        return f"{stage}: every item's waiting time cut by {percent(effect['cut'])}."
    if kind == "remove_stage":
        return f"{stage} removed: the items skip it, and its time is gone."
    if kind == "rework":
        sent, spared = effect["items_sent_back"], effect["items_spared"]
        if not sent:
            return f"{stage} sent no item back in {label}: nothing to cut."
        trips = days_text(effect["round_trip_days_mean"])
        how = (
            "all of them"
            if spared == sent
            else f"{spared} of them, spread evenly over the round-trip times,"
        )
        return (
            f"{stage} sent {sent} of the {n} items back (a round trip of {trips} on average, from "
            f"the visit that sent it back until it was there again); {how} are spared the round trip."
        )
    wip, limit = effect["wip_mean"], effect["limit"]
    if not effect["binding"]:
        return f"{stage} held {wip:.1f} items on average in {label}, not above the limit of {limit}: no change."
    return (
        f"{stage} held {wip:.1f} items on average in {label} (time-weighted); by Little's law at "
        f"unchanged throughput, a limit of {limit} scales the time in it by {limit} / {wip:.1f} "
        f"= {effect['factor']:.2f}."
    )


def sentence(name: str, figures: dict[str, Any], label: str) -> str:
    """The scenario in one sentence: lead time p85 and median, current to projected, with the
    intervals of the projected values, and flow efficiency."""
    lead = figures["lead_time"]
    now, then = lead["current"], lead["projected"]
    n = figures["items"]
    if now["p85"] is None or then["p85"] is None:
        return f"{name}: no completed items in {label} to project."
    caveat = (
        f" Only {n} completed item{'' if n == 1 else 's'} in {label}: the figures are indicative."
        if n < MIN_ITEMS
        else ""
    )
    same = days_text(now["p85"]) == days_text(then["p85"]) and days_text(now["p50"]) == days_text(
        then["p50"]
    )
    if same:
        return (
            f"{name} would leave lead time about where it was in {label}: p85 "
            f"{days_text(now['p85'])}, median {days_text(now['p50'])}.{caveat}"
        )
    flow = figures["flow_efficiency"]
    tail = ""
    if flow["current"] is not None and flow["projected"] is not None:
        tail = (
            f"; flow efficiency would stay at {percent(flow['current'])}"
            if percent(flow["current"]) == percent(flow["projected"])
            else f"; flow efficiency would go from {percent(flow['current'])} to {percent(flow['projected'])}"
        )
    p85 = f"(95% interval {range_text(lead['p85_interval'])})"
    p50 = f"({range_text(lead['p50_interval'])})"
    p85_same = days_text(now["p85"]) == days_text(then["p85"])
    if p85_same:
        first = f"leave lead time p85 at {days_text(now['p85'])} {p85}"
    else:
        first = f"move lead time p85 {from_to(now['p85'], then['p85'])} {p85}"
    if days_text(now["p50"]) == days_text(then["p50"]):
        second = f"keep the median at {days_text(now['p50'])} {p50}"
    else:
        second = f"{'move ' if p85_same else ''}the median {from_to(now['p50'], then['p50'])} {p50}"
    return f"{name} would {first} and {second}{tail}.{caveat}"
