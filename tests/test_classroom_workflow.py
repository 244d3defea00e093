"""GitHub Classroom's workflow (classroom/github/classroom.yml): valid for GitHub, consistent inside.

* It validates against GitHub's workflow schema, as check-jsonschema ships it (``vendor.github-workflows``,
  no network).
* Every ``steps.<id>.outputs.result`` it reads is written by a step of that id, and the reporter's
  runners are exactly the chapters it grades, each with its ``<ID>_RESULTS`` variable.
* It installs without the rollout engine unless chapter 06 is assigned, and says which.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from verlings.paths import ROOT

WORKFLOW = ROOT / "classroom" / "github" / "classroom.yml"
REPORTER = "classroom-resources/autograding-grading-reporter"


def _load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _steps(workflow: dict) -> list[dict]:
    return workflow["jobs"]["autograding"]["steps"]


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def problems(workflow: dict) -> list[str]:
    """What is wrong with the runners and the outputs they read (empty when all agree)."""
    found = []
    steps = _steps(workflow)
    by_id = {s["id"]: s for s in steps if "id" in s}
    reporters = [s for s in steps if str(s.get("uses", "")).startswith(REPORTER)]
    if len(reporters) != 1:
        return [f"expected one {REPORTER} step, found {len(reporters)}"]
    reporter = reporters[0]
    runners = [r.strip() for r in str(reporter.get("with", {}).get("runners", "")).split(",") if r.strip()]
    env = reporter.get("env", {})
    for runner in runners:
        if runner not in by_id:
            found.append(f"runner {runner} has no step with id {runner}")
        elif "result=" not in by_id[runner].get("run", "") or "GITHUB_OUTPUT" not in by_id[runner].get("run", ""):
            found.append(f"step {runner} does not write result= to $GITHUB_OUTPUT")
        if env.get(f"{runner.upper()}_RESULTS") != f"${{{{ steps.{runner}.outputs.result }}}}":
            found.append(f"reporter env {runner.upper()}_RESULTS does not read steps.{runner}.outputs.result")
    text = yaml.safe_dump(workflow)
    for ref in sorted(set(re.findall(r"steps\.([A-Za-z0-9_-]+)\.outputs\.result", text))):
        if ref not in runners:
            found.append(f"steps.{ref}.outputs.result is read but {ref} is not a listed runner")
    for key in env:
        if key.endswith("_RESULTS") and key[: -len("_RESULTS")].lower() not in runners:
            found.append(f"reporter env {key} belongs to no listed runner")
    graded = {m for s in steps for m in re.findall(r"grader\.py (\d\d) ", s.get("run", ""))}
    assigned = set(str(workflow.get("env", {}).get("VERLINGS_CHAPTERS", "")).split())
    if graded != assigned:
        found.append(f"VERLINGS_CHAPTERS lists {sorted(assigned)} but the steps grade {sorted(graded)}")
    if {f"ch{c}" for c in graded} != set(runners):
        found.append(f"runners {runners} are not the graded chapters {sorted(graded)}")
    return found


def test_workflow_is_valid_for_github():
    result = _check_jsonschema(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_can_fail(tmp_path):
    broken = _load()
    broken["jobs"]["autograding"]["steps"][0] = {"uses": "actions/checkout@v4", "runs": "echo misspelt key"}
    bad = tmp_path / "classroom.yml"
    bad.write_text(yaml.safe_dump(broken))
    assert _check_jsonschema(bad).returncode != 0


def test_runners_and_outputs_agree():
    assert problems(_load()) == []


@pytest.mark.parametrize("break_it", ["wrong step id", "missing env", "unlisted runner", "chapter not listed"])
def test_the_consistency_check_can_fail(break_it):
    workflow = copy.deepcopy(_load())
    reporter = next(s for s in _steps(workflow) if str(s.get("uses", "")).startswith(REPORTER))
    if break_it == "wrong step id":
        reporter["env"]["CH03_RESULTS"] = "${{ steps.ch3.outputs.result }}"
    elif break_it == "missing env":
        reporter["env"].pop("CH03_RESULTS")
    elif break_it == "unlisted runner":
        reporter["with"]["runners"] = "ch03,ch04"
    else:
        workflow["env"]["VERLINGS_CHAPTERS"] = "04"
    assert problems(workflow)


def _install_step() -> str:
    return next(s["run"] for s in _steps(_load()) if s.get("name") == "Install the course")


@pytest.mark.parametrize(("chapters", "engine"), [("03", False), ("01 03 05", False), ("03 06", True), ("06", True)])
def test_engine_only_when_chapter_06_is_assigned(tmp_path, chapters, engine):
    (tmp_path / "install.sh").write_text('echo "install.sh args: [$*]"\n')
    result = subprocess.run(
        ["bash", "-c", _install_step()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "VERLINGS_CHAPTERS": chapters},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    if engine:
        assert "install.sh args: []" in result.stdout and "chapter 06 is assigned" in result.stdout
    else:
        assert "install.sh args: [--no-engine]" in result.stdout and "not assigned" in result.stdout
