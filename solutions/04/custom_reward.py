"""Reference solution: a multi-objective reward (correct + format + length) that verl loads by path."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from verlings.target import chapter_module

FORMAT_PATTERN = r"<think>.+?</think>.*\\boxed\{.+\}.*"
WEIGHTS = {"correct": 1.0, "format": 0.1, "length": 0.5}
MAX_RESPONSE_LENGTH = 512
OVERLONG_BUFFER_LEN = 128
PENALTY_FACTOR = 1.0


rules = chapter_module("04", "rule_rewards")


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
    # Token count when the caller knows it (verl's reward managers do), else a word count.
    info = extra_info or {}
    length = info["response_length"] if info.get("response_length") is not None else len(solution_str.split())
    components = {
        "correct": 1.0 if rules.math_equal(rules.last_boxed(solution_str), str(ground_truth)) else 0.0,
        "format": rules.format_reward(solution_str, FORMAT_PATTERN),
        "length": rules.overlong_penalty(int(length), max_response_length, overlong_buffer_len, penalty_factor),
    }
    # combine keeps every component next to the total, so verl logs each one.
    return rules.combine(components, WEIGHTS if weights is None else weights)
