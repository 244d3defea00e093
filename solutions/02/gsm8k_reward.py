"""The GSM8K rule reward (reference solution), identical to verl's ``verl/utils/reward_score/gsm8k.py``."""

from __future__ import annotations

import re

CLIP_CHARS = 300


def extract_solution(solution_str: str, method: str = "strict") -> str | None:
    if method not in ("strict", "flexible"):
        raise ValueError(f"method must be 'strict' or 'flexible', not {method!r}")
    # Only the tail is searched: the answer is at the end, and regexes on huge outputs are slow.
    if len(solution_str) > CLIP_CHARS:
        solution_str = solution_str[-CLIP_CHARS:]
    if method == "strict":
        solutions = re.findall(r"#### (\-?[0-9\.\,]+)", solution_str)
        if not solutions:
            return None
        # The last "#### N" wins: the model may revise itself. "$" cannot be captured by the
        # pattern, so the replace is only a safeguard; commas are what actually gets stripped.
        return solutions[-1].replace(",", "").replace("$", "")
    numbers = re.findall(r"(\-?[0-9\.\,]+)", solution_str)
    # Flexible: the last run of digits/dots/commas that is not a lone "." (no comma stripping).
    for candidate in reversed(numbers):
        if candidate not in ("", "."):
            return candidate
    return numbers[0] if numbers else None


def compute_score(
    solution_str: str, ground_truth: str, method: str = "strict", format_score: float = 0.0, score: float = 1.0
) -> float:
    answer = extract_solution(solution_str=solution_str, method=method)
    if answer is None:
        return 0  # no answer at all: not even the format score
    return score if answer == ground_truth else format_score
