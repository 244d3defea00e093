"""The learner's part of a run: their functions called once before it starts, their error first after.

:func:`preflight` calls the learner's chapter 06 functions in this process (milliseconds) before a
run of minutes; :func:`learner_error` finds, in a failed run's output, the part the learner wrote:
the probe's record, a traceback through their files, or Hydra's message about a bad override.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from verlings.capstone import probe

_HYDRA_ERROR = r"^(Could not override '.*|Error (?:merging|parsing|in) .*|Key '.*' is not in struct.*)$"
_TRACEBACK = re.compile(r"^(?:\(\w+ pid=\d+[^)]*\)\s*)?Traceback \(most recent call last\):", re.M)


def learner_error(out_dir: Path, log: str, learner_files: list[Path]) -> str | None:
    """The learner's part of a failure: the probe's record, else a traceback through their files,
    else Hydra's message about a bad override."""
    recorded = Path(out_dir) / probe.ERROR
    if recorded.is_file():
        return recorded.read_text(encoding="utf-8")
    names = [str(f) for f in learner_files]
    starts = [m.start() for m in _TRACEBACK.finditer(log)]
    for i, s in enumerate(starts):
        block = log[s : starts[i + 1] if i + 1 < len(starts) else len(log)]
        if any(n in block for n in names):
            return "\n".join(block.splitlines()[:60])
    hydra = re.search(_HYDRA_ERROR, log, re.M)
    if hydra:
        following = log[hydra.start() :].splitlines()[:6]
        return "verl rejected an override:\n" + "\n".join(following)
    return None


def _checked_estimator(learner: Any, rewards: Any, mask: Any) -> None:
    """The learner's estimator on a 2-group batch (one group of equal rewards: std 0); its output
    must be what verl can train on (:func:`probe.estimator_problem`)."""
    import numpy as np

    out = learner.grpo_estimator(token_level_rewards=rewards, response_mask=mask,
                                 index=np.array(["a", "a", "b", "b"], dtype=object), config=None)
    problem = probe.estimator_problem(out, rewards)
    if problem:
        raise ValueError(problem)


def preflight(target: Path | None = None) -> str | None:
    """Call the learner's functions once in this process (milliseconds) before a run of minutes.

    ``None`` when they all return; else which one raised and how, naming its exercise."""
    import traceback

    import torch

    from verlings import target as target_mod

    root = Path(target).resolve() if target is not None else target_mod.active()
    saved = target_mod.active()
    target_mod.set_active(root)
    try:
        learner = target_mod.load_module("06", "capstone", root=root)
        mask = torch.ones(4, 3)
        rewards = torch.zeros(4, 3)
        rewards[:, -1] = torch.tensor([1.0, 0.0, 0.5, 0.5])
        checks = [
            ("06.overrides", "plug_in_overrides", lambda: learner.plug_in_overrides(str(root / "06" / "capstone.py"))),
            ("06.reward", "compute_score",
             lambda: learner.compute_score(data_source="verlings/arith", solution_str="42", ground_truth="42",
                                           extra_info={})),
            ("06.estimator", "grpo_estimator", lambda: _checked_estimator(learner, rewards, mask)),
        ]
        for exercise, name, call in checks:
            try:
                call()
            except Exception as exc:
                here = Path(__file__).resolve()
                frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() != here]
                where = "".join([*traceback.format_list(frames[-4:]), *traceback.format_exception_only(type(exc), exc)])
                return (f"{name} raised before training started — pass {exercise} first "
                        f"(python -m pytest exercises/06 --exercise {exercise}):\n{where}")
    except AssertionError as exc:  # LearnerCodeError: missing file or function
        return str(exc)
    finally:
        target_mod.set_active(saved)
    return None
