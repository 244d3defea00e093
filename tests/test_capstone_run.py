"""A failing capstone run reports the learner's error first, not pages of Ray logs.

The first two cases fail in verl's driver process within seconds (no rollout engine needed);
the third fails inside a Ray reward worker, after the whole start-up (minutes, needs vLLM).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from verlings.capstone.launcher import RunConfig, engine_missing, run
from verlings.paths import SOLUTIONS


def _target(root: Path, patch: str) -> Path:
    for chapter in ("03", "04", "06"):
        shutil.copytree(SOLUTIONS / chapter, root / chapter, ignore=shutil.ignore_patterns("__pycache__"))
    capstone = root / "06" / "capstone.py"
    capstone.write_text(capstone.read_text(encoding="utf-8") + "\n\n" + patch, encoding="utf-8")
    return root


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_failing_register_estimator_is_reported_first(tmp_path):
    target = _target(tmp_path / "target", '''
def register_estimator(name=ESTIMATOR_NAME):
    raise RuntimeError("registry exploded on purpose")
''')
    result = run(RunConfig(steps=1), tmp_path / "run", target=target, device="cpu", timeout_s=500)
    assert not result.ok
    assert result.learner_error is not None, result.failure()
    assert "register_estimator('verlings_grpo') failed" in result.learner_error
    assert "registry exploded on purpose" in result.learner_error
    text = result.failure()
    assert text.index("registry exploded on purpose") < text.index("── end of the log")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_rejected_override_is_reported_first(tmp_path):
    target = _target(tmp_path / "target", '''
def plug_in_overrides(capstone_file, estimator_name=ESTIMATOR_NAME):
    return [f"algorithm.adv_estimatr={estimator_name}"]
''')
    result = run(RunConfig(steps=1), tmp_path / "run", target=target, device="cpu", timeout_s=500)
    assert not result.ok
    assert result.learner_error is not None and "verl rejected an override" in result.learner_error, result.failure()
    assert "adv_estimatr" in result.learner_error


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_reward_raising_inside_a_ray_worker_is_reported_first(tmp_path):
    missing = engine_missing()
    if missing:
        pytest.skip(missing)
    target = _target(tmp_path / "target", '''
def compute_score(data_source, solution_str, ground_truth, extra_info=None):
    raise ValueError("reward exploded on purpose")
''')
    result = run(RunConfig(steps=1), tmp_path / "run", target=target, timeout_s=1200)
    assert not result.ok and not result.timed_out, "a learner error must end the run, not hang it"
    assert result.learner_error is not None, result.failure()
    assert result.learner_error.startswith("your reward raised inside verl:")
    assert 'raise ValueError("reward exploded on purpose")' in result.learner_error
    assert str(target / "06" / "capstone.py") in result.learner_error
    text = result.failure()
    assert text.index("── your code ──") < text.index("── end of the log")
