"""The 2024 DORA software delivery performance levels, and which of them a measured value matches.

Source: Accelerate State of DevOps Report 2024 (DORA, Google Cloud), table "Software delivery
performance levels", p. 13 (four clusters found by cluster analysis, each described by the
survey answer its respondents typically gave); the elite-versus-low comparison is on p. 14 and
the measures' definitions on pp. 10-12. The 2025 report replaced clusters with archetypes.

A cluster's lead time, deployment frequency and recovery time are survey answer ranges ("between
one day and one week"), so a measured value matches the clusters whose range holds it, and no
cluster where the report's ranges leave it out (a recovery of three days, a lead time over six
months, fewer than one deployment in six months). For the change fail rate the report gives one
typical percentage per cluster (5%, 20%, 10%, 40%) and no range or threshold, so a rate is never
assigned a level: the product says so rather than inventing boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY_NS = 86_400 * 10**9
HOUR_NS = 3_600 * 10**9
MONTH_DAYS = 365.25 / 12
SIX_MONTHS_DAYS = 365.25 / 2

CITATION = (
    "Accelerate State of DevOps Report 2024 (DORA, Google Cloud), "
    '"Software delivery performance levels", p. 13'
)
LEVELS = ("elite", "high", "medium", "low")  # best first


@dataclass(frozen=True)
class Cluster:
    """One performance level of the 2024 report, as the report words it (p. 13)."""

    level: str
    share: float  # of respondents
    lead_time: str
    deployment_frequency: str
    change_failure_rate: float
    recovery_time: str


DORA_2024: tuple[Cluster, ...] = (
    Cluster(
        "elite",
        0.19,
        "less than one day",
        "on demand (multiple deploys per day)",
        0.05,
        "less than one hour",
    ),
    Cluster(
        "high",
        0.22,
        "between one day and one week",
        "between once per day and once per week",
        0.20,
        "less than one day",
    ),
    Cluster(
        "medium",
        0.35,
        "between one week and one month",
        "between once per week and once per month",
        0.10,
        "less than one day",
    ),
    Cluster(
        "low",
        0.25,
        "between one month and six months",
        "between once per month and once every six months",
        0.40,
        "between one week and one month",
    ),
)

# Why a measure with data matched no cluster (shown beside "no 2024 level").
NO_RANGE = {
    "change_failure_rate": (
        "the 2024 report gives one typical rate per cluster (elite 5%, high 20%, medium 10%, "
        "low 40%) and no thresholds, so a rate is not assigned a level"
    ),
}
OUTSIDE = {
    "deployment_frequency": "fewer than once every six months: below every 2024 cluster's range",
    "lead_time": "more than six months: beyond every 2024 cluster's range",
    "recovery_time": (
        "the 2024 clusters' recovery times are under an hour, under a day, or one week to one month; "
        "this value is in none of them"
    ),
}


def level_deployment_frequency(per_day: float) -> list[str]:
    """Elite: more than once a day; high: once a day to once a week; medium: once a week to once a
    month; low: once a month to once every six months; below that, no cluster."""
    if per_day > 1:
        return ["elite"]
    if per_day >= 1 / 7:
        return ["high"]
    if per_day >= 1 / MONTH_DAYS:
        return ["medium"]
    if per_day >= 1 / SIX_MONTHS_DAYS:
        return ["low"]
    return []


def level_lead_time(days: float) -> list[str]:
    """Elite: under a day; high: a day to a week; medium: a week to a month; low: a month to six
    months; beyond, no cluster."""
    if days < 1:
        return ["elite"]
    if days <= 7:
        return ["high"]
    if days <= MONTH_DAYS:
        return ["medium"]
    if days <= SIX_MONTHS_DAYS:
        return ["low"]
    return []


def level_recovery(days: float) -> list[str]:
    """Failed deployment recovery time. Elite: under an hour; high and medium (both "less than one
    day"): an hour to a day; low: a week to a month. A day to a week, and over a month, are no
    cluster's range."""
    if days * DAY_NS < HOUR_NS:
        return ["elite"]
    if days < 1:
        return ["high", "medium"]
    if 7 <= days <= MONTH_DAYS:
        return ["low"]
    return []


def performance_level(by_metric: dict[str, list[str] | None]) -> str | None:
    """The cluster matched by most measures (ties go to the lower level); None without any match."""
    votes = {level: 0 for level in LEVELS}
    for levels in by_metric.values():
        for level in levels or []:
            votes[level] += 1
    best = max(votes.values())
    if best == 0:
        return None
    return [level for level in LEVELS if votes[level] == best][-1]


def period_levels(
    per_day: float | None, lead_p50: float | None, rate: float | None, recovery_p50: float | None
) -> dict[str, object]:
    """`level` of a period: overall, by_metric (matched clusters, [] for none, None without data),
    notes (why a measure with data has no level) and the source."""
    by_metric: dict[str, list[str] | None] = {
        "deployment_frequency": level_deployment_frequency(per_day)
        if per_day is not None
        else None,
        "lead_time": level_lead_time(lead_p50) if lead_p50 is not None else None,
        "change_failure_rate": [] if rate is not None else None,
        "recovery_time": level_recovery(recovery_p50) if recovery_p50 is not None else None,
    }
    notes = {
        name: NO_RANGE.get(name) or OUTSIDE[name]
        for name, levels in by_metric.items()
        if levels == []
    }
    return {
        "overall": performance_level(by_metric),
        "by_metric": by_metric,
        "notes": notes,
        "source": CITATION,
    }
