"""Deliberately flawed rewards for the sick runs of chapter 06 §10 (``scripts/record_sick_runs.py``).

Each is the capstone's reference reward (``solutions/06/capstone.py``) with one realistic mistake,
and each still reports the *true* exact-match ``acc``, so verl's validation on the held-out
prompts measures what the model really learned while the training reward measures what it was
paid for:

* :func:`at_least_reward` — the verifier compares the final number with ``>=`` where ``==`` was
  meant: every answer at least as large as the truth is paid as right (a hackable reward);
* :func:`substring_reward` — the verifier checks ``ground_truth in answer`` instead of comparing
  the final number: ``"122"`` is paid as a right answer to ``"22"`` (hackable too, but recorded
  12 steps did not find the hack: the lesson's §11.1 says so);
* :func:`unshaped_reward` — any number in the answer may be the right one (a lenient grader), the
  dense term counts digits instead of taking their share, and the length term (DAPO's overlong
  shaping) is gone: a longer answer is paid more, and nothing charges for length (a length blow-up).

verl imports this file by path (``reward.custom_reward_function.path=...``) in its reward worker.
"""

from __future__ import annotations

import re
from typing import Any

ANSWER = r"-?\d+"
MAX_CHARS = 24
BUFFER_CHARS = 16
WEIGHTS = {"correct": 1.0, "format": 0.5, "digits": 1.0, "length": 0.5}


def _rules() -> Any:
    from verlings.target import chapter_module

    return chapter_module("04", "rule_rewards")


def _truly_correct(numbers: list[str], ground_truth: str) -> float:
    return 1.0 if numbers and _rules().math_equal(numbers[-1], ground_truth) else 0.0


def _with_wrong_verifier(solution_str: str, ground_truth: str, correct) -> dict:
    """The capstone's reward with ``correct(text, numbers, ground_truth)`` as its verifier."""
    rules = _rules()
    text = solution_str.strip()
    numbers = re.findall(ANSWER, text)
    components = {
        "correct": correct(text, numbers, ground_truth),
        "format": rules.format_reward(text, ANSWER),
        "digits": sum(c.isdigit() for c in text) / len(text) if text else 0.0,
        "length": rules.overlong_penalty(min(len(text), MAX_CHARS), MAX_CHARS, BUFFER_CHARS, 1.0),
    }
    return {**rules.combine(components, WEIGHTS), "acc": _truly_correct(numbers, ground_truth)}


def at_least_reward(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    # THE BUG: >= where == was meant
    def at_least(text: str, numbers: list[str], truth: str) -> float:
        return 1.0 if numbers and float(numbers[-1]) >= float(truth) else 0.0

    return _with_wrong_verifier(solution_str, ground_truth, at_least)


def substring_reward(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    # THE BUG: a substring is not an answer
    return _with_wrong_verifier(solution_str, ground_truth, lambda text, numbers, truth: float(truth in text))


def unshaped_reward(data_source: str, solution_str: str, ground_truth: str, extra_info: dict | None = None) -> dict:
    rules = _rules()
    text = solution_str.strip()
    numbers = re.findall(ANSWER, text)
    components = {
        # THE BUGS: any listed number counts, and nothing charges for length (no overlong shaping)
        "correct": 1.0 if any(rules.math_equal(n, ground_truth) for n in numbers) else 0.0,
        "digits": sum(c.isdigit() for c in text) / 8,  # a count, not a share: grows with the answer
    }
    weights = {"correct": 1.0, "digits": 1.0}
    return {**rules.combine(components, weights), "acc": _truly_correct(numbers, ground_truth)}
