"""A multi-objective custom reward for verl: correctness + format + length, every term logged.

Lesson: exercises/04/README.md §4 (中文: README.zh-CN.md §4).
Mirrors verl 0.9.1: ``verl/trainer/ppo/reward.py::get_custom_reward_fn`` loads this file by path
(``reward.custom_reward_function.path`` / ``name``, plus ``reward_kwargs`` merged into every
call), and the reward managers in ``verl/experimental/reward_loop/reward_manager/`` call it once
per sample as ``compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)``.
A dict result is split: ``"score"`` is the reward, every key is logged (``reward_extra_info``).

Use it in a training run (chapter 06)::

    reward.custom_reward_function.path=exercises/04/custom_reward.py
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.max_response_length=1024

verl imports this file by path, not as part of a package, so neither ``import rule_rewards`` nor a
relative import finds the module next to it: ``chapter_module("04", "rule_rewards")`` (from
``verlings.target``) does, and hands back the very module the grader loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verlings.target import chapter_module

# The response must think first, then give a boxed answer (fullmatch, re.DOTALL).
FORMAT_PATTERN = r"<think>.+?</think>.*\\boxed\{.+\}.*"
WEIGHTS = {"correct": 1.0, "format": 0.1, "length": 0.5}
MAX_RESPONSE_LENGTH = 512
OVERLONG_BUFFER_LEN = 128
PENALTY_FACTOR = 1.0

rules = chapter_module("04", "rule_rewards")  # your last_boxed, math_equal, format_reward, overlong_penalty, combine


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any,
    extra_info: dict | None = None,
    weights: Mapping[str, float] | None = None,
    max_response_length: int = MAX_RESPONSE_LENGTH,
    overlong_buffer_len: int = OVERLONG_BUFFER_LEN,
    penalty_factor: float = PENALTY_FACTOR,
    **kwargs: Any,
) -> dict[str, float]:
    r"""Three reward terms and their weighted total, as verl wants it.

    Components:

    * ``"correct"``: ``1.0`` if ``rules.math_equal(rules.last_boxed(solution_str), str(ground_truth))``
      else ``0.0`` (``ground_truth`` may arrive as a number: compare its ``str``);
    * ``"format"``: ``rules.format_reward(solution_str, FORMAT_PATTERN)`` — think, then a boxed answer;
    * ``"length"``: ``rules.overlong_penalty(length, max_response_length, overlong_buffer_len,
      penalty_factor)``, where ``length`` is ``extra_info["response_length"]`` (tokens) when the caller
      gives it, else the number of words ``len(solution_str.split())``.

    Returns:
        ``rules.combine(components, weights)`` with ``weights`` defaulting to :data:`WEIGHTS`:
        ``{"score": total, "correct": ..., "format": ..., "length": ...}``.

    Args:
        data_source: the row's dataset name (unused here; a reward can dispatch on it).
        solution_str: the decoded response.
        ground_truth: the reference answer (``reward_model.ground_truth`` of the row).
        extra_info: the row's ``extra_info`` (verl adds keys such as ``num_turns``); may be ``None``.
        weights, max_response_length, overlong_buffer_len, penalty_factor: settings, overridable from
            verl's ``reward.custom_reward_function.reward_kwargs``.
        **kwargs: anything else verl passes — accept and ignore.

    Example (default settings):
        >>> compute_score("toy", "<think>2+2=4</think> The answer is \\boxed{4}.", "4")
        {'score': 1.1, 'correct': 1.0, 'format': 1.0, 'length': 0.0}
        >>> compute_score("toy", r"\boxed{1/2}", "0.5", {"response_length": 480})   # -(480-384)/128 = -0.75
        {'score': 0.625, 'correct': 1.0, 'format': 0.0, 'length': -0.75}
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.custom_reward`).
    raise NotImplementedError("implement compute_score — see exercises/04/README.md §4.1")
