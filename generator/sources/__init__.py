"""Source kinds: each module turns one export format into the canonical frames of sources/base.py.

A kind's module defines `Options` (a SourceOptions subclass with a literal
`kind`) and `read(options, ctx) -> SourceData`. Every kind is documented in
docs/sources.md.
"""

from __future__ import annotations

import importlib
from types import ModuleType

# kind -> module name under generator.sources
_MODULES = {
    "events-csv": "events_csv",
    "items-csv": "items_csv",
    "events-parquet": "events_parquet",
    "items-parquet": "items_parquet",
    "dates-csv": "dates_csv",
    "jira-json": "jira_json",
    "jira-csv": "jira_csv",
    "github-issues": "github_issues",
    "gitlab-issues": "gitlab_issues",
    "azure-devops-updates": "azure_devops",
    "git-history": "git_history",
    "deployments-csv": "deployments_csv",
    "incidents-csv": "incidents_csv",
    "github-deployments": "github_deployments",
    "gitlab-deployments": "gitlab_deployments",
}


def _load() -> dict[str, ModuleType]:
    kinds: dict[str, ModuleType] = {}
    for kind, name in _MODULES.items():
        try:
            kinds[kind] = importlib.import_module(f"generator.sources.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"generator.sources.{name}":
                raise
    return kinds


KINDS: dict[str, ModuleType] = _load()
