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

verl imports this file by path, not as part of a package, so ``import rule_rewards`` would not
find the module next to it: :func:`_load_sibling` (provided) loads it from this file's folder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

# The response must think first, then give a boxed answer (fullmatch, re.DOTALL).
FORMAT_PATTERN = r"<think>.+?</think>.*\\boxed\{.+\}.*"
WEIGHTS = {"correct": 1.0, "format": 0.1, "length": 0.5}
MAX_RESPONSE_LENGTH = 512
OVERLONG_BUFFER_LEN = 128
PENALTY_FACTOR = 1.0


def _load_sibling(name: str) -> ModuleType:
    """Provided: import ``<name>.py`` from this file's folder, under a name unique to its path.

    A unique name (not plain ``rule_rewards``) keeps two course folders (yours, the reference) from
    sharing one cached module when both are loaded in the same process.
    """
    path = Path(__file__).resolve().with_name(f"{name}.py")
    key = f"_verlings_sibling_{hashlib.sha1(str(path).encode()).hexdigest()[:10]}_{name}"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[key]
            raise
    return sys.modules[key]


rules = _load_sibling("rule_rewards")  # your last_boxed, math_equal, format_reward, overlong_penalty, combine


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
