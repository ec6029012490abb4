"""The ready-made profiles: the two example streams and the benchmark stream of any size."""

from __future__ import annotations

import datetime as dt

from generator.synthetic.profile import (
    OFFICE,
    Blocking,
    Cancel,
    Close,
    Detour,
    Hours,
    ItemType,
    ProcessChange,
    Profile,
    Reopen,
    Rework,
    Role,
    State,
)

# --------------------------------------------------------------------------- ready-made profiles

_DEV_OBJECTS = (
    "coupon code field",
    "payment retry flow",
    "basket summary",
    "address lookup",
    "invoice PDF",
    "checkout timeout",
    "currency rounding",
    "gift card balance",
    "order history page",
    "shipping estimate",
    "saved cards list",
    "3-D Secure challenge",
    "tax calculation",
    "refund webhook",
    "express checkout button",
    "order confirmation e-mail",
    "delivery slot picker",
    "basket merge on login",
    "promo banner",
    "fraud score check",
)
_DEV_CONTEXTS = (
    "",
    "",
    "",
    " on mobile",
    " for guest users",
    " in the EU region",
    " after login",
    " for returning customers",
    " behind a feature flag",
    " in the admin panel",
    " for B2B accounts",
)
_DEV_TYPES = (
    ItemType(
        "Story",
        0.52,
        1.0,
        ("Add", "Allow editing the", "Show", "Support", "Redesign", "Personalise"),
    ),
    ItemType(
        "Bug", 0.25, 0.7, ("Fix", "Crash in", "Wrong value in", "Error when loading", "Flaky")
    ),
    ItemType(
        "Tech Debt", 0.10, 1.1, ("Refactor", "Remove legacy", "Upgrade library behind", "Migrate")
    ),
    ItemType(
        "Risk",
        0.07,
        1.2,
        ("Assess", "Pen-test findings for", "Mitigate outage risk in", "PCI review of"),
    ),
    ItemType(
        "Sub-task",
        0.06,
        0.5,
        ("Write tests for", "Update docs for", "Add tracking to", "Review copy for"),
    ),
)

DEVELOPMENT = Profile(
    name="development",
    key_prefix="DEV",
    url_prefix="https://tracker.example.com/browse/",
    timezone="Europe/Amsterdam",
    timestamp_style="offset",
    start=dt.date(2025, 4, 1),
    end=dt.date(2026, 9, 30),
    n_items=1_900,
    first_key=1001,
    states=(
        State("Open", "wait", 8.0, 0.8, role="pm"),
        State("Selected for Development", "wait", 4.0, 0.8, role="pm"),
        State("In Progress", "active", 3.5, 0.7, role="dev"),
        State("Ready for Review", "wait", 8.5, 0.6, role="dev"),
        State("In Review", "active", 0.8, 0.6, role="reviewer"),
        State("Ready for QA", "wait", 2.0, 0.8, role="reviewer", skip=0.15),
        State("In QA", "active", 1.2, 0.6, role="qa", skip=0.15),
        State("Ready to Deploy", "wait", 2.5, 0.6, role="qa"),
    ),
    done=(("Done", 0.85), ("Closed", 0.15)),
    done_role="release",
    item_types=_DEV_TYPES,
    roles=(
        Role("pm", ("pm-a", "pm-b", "po-c"), OFFICE),
        Role("dev", tuple(f"dev-{c}" for c in "abcdefgh"), OFFICE),
        Role("reviewer", tuple(f"dev-{c}" for c in "abcdefgh"), OFFICE, distinct_from="dev"),
        Role("qa", ("qa-a", "qa-b", "qa-c"), OFFICE),
        Role("release", ("release-bot",), OFFICE),
    ),
    title_openers=("Improve",),
    title_objects=_DEV_OBJECTS,
    title_contexts=_DEV_CONTEXTS,
    special_titles=(
        'Show "Save & continue" on the <b>payment</b> step',
        "Coupon codes containing & or < are rejected",
        "Basket total < 0 after a partial refund",
        "Escape ' and \" in search suggestions",
        "Strip <script> tags from gift messages",
        "Tax line shows &amp; instead of &",
    ),
    weekend_rate=0.03,
    blocking=Blocking(("In Progress", "In Review", "In QA", "Ready to Deploy"), 0.035, 3.0, 0.7),
    rework=(
        Rework("In Review", "In Progress", 0.15, role="reviewer"),
        Rework("In QA", "In Progress", 0.12, role="qa"),
    ),
    detours=(
        Detour("Triage", (), 0.03, 1.5, 0.6, role="pm"),
        Detour("On Hold", ("Selected for Development",), 0.02, 10.0, 0.6, role="pm"),
        Detour("Blocked", ("In Progress", "In QA"), 0.012, 4.0, 0.6),
    ),
    reopen=Reopen(0.003, "In Progress", 6.0, role="qa"),
    cancel=Cancel(
        "Won't Do",
        0.07,
        (
            ("Open", 0.6),
            ("Selected for Development", 0.2),
            ("In Progress", 0.15),
            ("In Review", 0.05),
        ),
        role="pm",
    ),
    change=ProcessChange(
        dt.date(2026, 5, 4), "Review rota introduced", (("Ready for Review", 0.4),)
    ),
)
"""Software development, feature request to production: 18 months to 2026-09-30."""

_SUP_OBJECTS = (
    "customer portal",
    "invoice download",
    "order tracking page",
    "password reset e-mail",
    "mobile app login",
    "payment confirmation",
    "delivery address form",
    "loyalty points balance",
    "subscription renewal",
    "API token page",
    "two-factor setup",
    "return label",
)
_SUP_CONTEXTS = (
    "",
    "",
    " since this morning",
    " for business accounts",
    " on Android",
    " after the last update",
    " in the EU shop",
    " (urgent)",
)
_SUP_TYPES = (
    ItemType(
        "Incident", 0.28, 0.6, ("Cannot access", "Error when opening", "Timeout on", "Outage of")
    ),
    ItemType(
        "Question", 0.38, 0.7, ("How do I change the", "Question about the", "Where can I find the")
    ),
    ItemType(
        "Bug report",
        0.20,
        1.4,
        ("Wrong total in", "Typo in", "Broken link in", "Incorrect date on"),
    ),
    ItemType(
        "Change request",
        0.11,
        2.2,
        ("Please add export to", "Extend the", "Add a second contact to"),
    ),
    ItemType("Sub-task", 0.03, 0.6, ("Follow-up:", "Check logs for", "Update macro for")),
)

SUPPORT = Profile(
    name="support",
    key_prefix="SUP",
    url_prefix="https://support.example.com/tickets/",
    timezone="Europe/Berlin",
    timestamp_style="naive",
    start=dt.date(2025, 10, 1),
    end=dt.date(2026, 9, 30),
    n_items=2_600,
    first_key=4001,
    states=(
        State("New", "wait", 0.1, 0.8, role="customer"),
        State("In Triage", "active", 0.04, 0.6, role="dispatch", size_weight=0.0),
        State("Waiting for Agent", "wait", 0.8, 0.9, role="dispatch"),
        State("In Progress", "active", 0.35, 0.9, role="agent"),
    ),
    done=(("Resolved", 1.0),),
    done_role="agent",
    item_types=_SUP_TYPES,
    roles=(
        Role("customer", ("customer",), Hours(6.0, 23.0, False)),
        Role("dispatch", ("dispatch-a", "dispatch-b"), OFFICE),
        Role("agent", tuple(f"agent-{i:02d}" for i in range(1, 13)), Hours(8.0, 19.0, True)),
        Role("bot", ("auto-close",), Hours(6.0, 7.0, False)),
    ),
    title_openers=("Problem with the",),
    title_objects=_SUP_OBJECTS,
    title_contexts=_SUP_CONTEXTS,
    special_titles=(
        'Invoice shows "&lt;none&gt;" as company name',
        'Login fails: "password < 8 characters"',
        "Order link <broken> in confirmation e-mail",
        "Refund for R&D department account",
        "<script>alert(1)</script> typed into contact form",
    ),
    weekend_rate=0.35,
    detours=(
        Detour(
            "Waiting for Customer",
            ("In Progress",),
            0.45,
            1.8,
            0.9,
            return_role="customer",
            repeat=0.3,
        ),
        Detour("Pending Vendor", ("In Progress",), 0.03, 4.0, 0.6),
        Detour("Escalated", ("In Progress",), 0.025, 1.5, 0.7),
    ),
    reopen=Reopen(0.04, "In Progress", 2.0, role="customer"),
    cancel=Cancel(
        "Rejected",
        0.06,
        (("New", 0.3), ("In Triage", 0.6), ("Waiting for Agent", 0.1)),
        role="dispatch",
    ),
    close=Close("Closed", 7.0, role="bot"),
)
"""Customer support, ticket to resolution: 12 months to 2026-09-30, naive Berlin wall times."""


def bench_profile(n_items: int) -> Profile:
    """A plain, large stream for benchmarks: exactly 7 events per item over about two years.

    Every item goes Open -> Selected for Development -> In Progress -> In Review
    -> In QA -> Ready to Deploy -> Done (states the development stream maps),
    timestamps are all `YYYY-MM-DDTHH:MM:SS+00:00`, blocked and actor are empty.
    Nothing is cut at an end date, so the last items' events run past
    2026-09-30 (a site computed as of 2026-10-01 ignores those).
    """
    return Profile(
        name="bench",
        key_prefix="BENCH",
        url_prefix="https://tracker.example.com/browse/",
        timezone="UTC",
        timestamp_style="offset",
        start=dt.date(2024, 10, 1),
        end=None,
        arrival_days=730,
        n_items=n_items,
        states=(
            State("Open", "wait", 6.0, 0.9),
            State("Selected for Development", "wait", 3.0, 0.8),
            State("In Progress", "active", 3.0, 0.7),
            State("In Review", "active", 1.0, 0.6),
            State("In QA", "active", 1.0, 0.6),
            State("Ready to Deploy", "wait", 2.0, 0.6),
        ),
        done=(("Done", 1.0),),
        done_role="",
        item_types=_DEV_TYPES[:4],
        roles=(),
        title_openers=("Improve",),
        title_objects=_DEV_OBJECTS,
        title_contexts=_DEV_CONTEXTS,
        weekend_rate=0.3,
        holiday_rate=1.0,
    )


PROFILES: dict[str, Profile] = {"development": DEVELOPMENT, "support": SUPPORT}
