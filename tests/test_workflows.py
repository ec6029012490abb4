"""The GitHub workflows: valid against GitHub's workflow schema, lint-clean, least privilege, and building the
site with the same command as `make site` (offline: check-jsonschema ships the schema, zizmor runs --offline)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
WORKFLOWS = REPO / ".github" / "workflows"
PAGES = WORKFLOWS / "pages.yml"
CI = WORKFLOWS / "ci.yml"
BIN = Path(sys.executable).parent


def load(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in doc:  # YAML 1.1 reads the key `on` as the boolean true
        doc["on"] = doc.pop(True)
    return doc  # type: ignore[no-any-return]


def tool(name: str) -> str | None:
    found = BIN / name
    return str(found) if found.is_file() else shutil.which(name)


def step(job: dict[str, Any], uses_prefix: str) -> dict[str, Any]:
    matches = [s for s in job["steps"] if str(s.get("uses", "")).startswith(uses_prefix)]
    assert len(matches) == 1, uses_prefix
    return matches[0]


def run_step(job: dict[str, Any], command_start: str) -> dict[str, Any]:
    matches = [s for s in job["steps"] if str(s.get("run", "")).startswith(command_start)]
    assert len(matches) == 1, command_start
    return matches[0]


def makefile_site_command() -> str:
    """The `vsm build ...` line of the Makefile's `site` target, without the venv prefix."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    target = re.search(r"^site:.*\n((?:\t.*\n)+)", text, re.M)
    assert target, "no site target in the Makefile"
    line = next(line.strip() for line in target.group(1).splitlines() if "vsm build" in line)
    return line[line.index("vsm build") :]


@pytest.mark.parametrize("workflow", [PAGES, CI], ids=lambda p: p.name)
def test_valid_against_githubs_workflow_schema(workflow: Path) -> None:
    exe = tool("check-jsonschema")
    if exe is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    result = subprocess.run([exe, "--builtin-schema", "vendor.github-workflows", str(workflow)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    """Unpinned or over-privileged actions, credential leaks, template injection (policy in .github/zizmor.yml)."""
    exe = tool("zizmor")
    if exe is None:
        pytest.skip("zizmor is not installed")
    result = subprocess.run([exe, "--offline", "--config", str(REPO / ".github" / "zizmor.yml"), str(WORKFLOWS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pages_builds_with_the_documented_command() -> None:
    command = makefile_site_command()
    assert command == "vsm build --project . --out _site"
    build = load(PAGES)["jobs"]["build"]
    step_ = run_step(build, command)
    assert step_["run"] == command + ' --base-url "$BASE_URL"'
    assert step_["env"]["BASE_URL"] == "${{ steps.pages.outputs.base_url }}"


def test_pages_workflow_shape() -> None:
    doc = load(PAGES)
    assert doc["on"]["push"]["branches"] == ["main"] and "pull_request" in doc["on"]
    assert doc["permissions"] == {"contents": "read"}
    build, deploy = doc["jobs"]["build"], doc["jobs"]["deploy"]
    assert "permissions" not in build  # read-only, from the top
    checkout = step(build, "actions/checkout@")
    assert checkout["uses"] == "actions/checkout@v4" and checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["persist-credentials"] is False
    setup = step(build, "actions/setup-python@")
    assert setup["uses"] == "actions/setup-python@v5"
    assert setup["with"]["cache"] == "pip" and setup["with"]["cache-dependency-path"] == "constraints.txt"
    assert run_step(build, "pip install")["run"] == "pip install -c constraints.txt -e ."
    configure = step(build, "actions/configure-pages@")
    assert configure["uses"] == "actions/configure-pages@v5" and configure["id"] == "pages"
    upload = step(build, "actions/upload-pages-artifact@")
    assert upload["uses"] == "actions/upload-pages-artifact@v3" and upload["with"]["path"] == "_site"
    order = [s.get("uses", s.get("run", "")).split("@")[0].split(" ")[0] for s in build["steps"]]
    assert order.index("actions/configure-pages") < order.index("vsm") < order.index("actions/upload-pages-artifact")

    assert deploy["needs"] == "build"
    assert deploy["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert deploy["concurrency"] == {"group": "pages", "cancel-in-progress": False}
    deploy_step = step(deploy, "actions/deploy-pages@")
    assert deploy_step["uses"] == "actions/deploy-pages@v4" and deploy_step["id"] == "deployment"


def test_ci_runs_the_ci_script_with_the_same_python() -> None:
    ci, pages = load(CI), load(PAGES)
    assert ci["permissions"] == {"contents": "read"}
    job = ci["jobs"]["test"]
    assert job["runs-on"] == "ubuntu-latest"
    assert run_step(job, "bash .ci/run")["run"] == "bash .ci/run"
    assert step(job, "actions/setup-python@") == step(pages["jobs"]["build"], "actions/setup-python@")
    assert (REPO / ".ci" / "run").is_file()


@pytest.mark.parametrize("workflow", [PAGES, CI], ids=lambda p: p.name)
def test_actions_are_pinned_and_no_job_writes_but_deploy(workflow: Path) -> None:
    doc = load(workflow)
    for name, job in doc["jobs"].items():
        for s in job["steps"]:
            if "uses" in s:
                action, _, ref = s["uses"].partition("@")
                assert re.fullmatch(r"[0-9a-f]{40}", ref) or (action.startswith("actions/") and re.fullmatch(r"v\d+", ref)), s["uses"]
        writes = {k for k, v in job.get("permissions", {}).items() if v == "write"}
        assert not writes or (workflow == PAGES and name == "deploy"), (name, writes)
