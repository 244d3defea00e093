"""Reference solutions of exercises/02/gsm8k_reward.py agree with live verl 0.9.1 on thousands of cases."""

import random

import pytest

from verlings.fixtures.gsm8k import noisy_completions
from verlings.goldens import differences, makers
from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("02", "gsm8k_reward", root=SOLUTIONS)
from verl.utils.reward_score import gsm8k  # noqa: E402 - verl is required for meta-tests

PIECES = ["#### ", "####", "#### -", "$", ",", ".", " ", "\n", "-", "1", "23", "456", "7,890", "0.5", "abc ", "The "]


def fuzz(n: int, seed: int) -> list[tuple[str, str]]:
    """Random strings made of the pieces that matter to the regexes, some longer than the 300-char clip."""
    rng = random.Random(seed)
    cases = []
    for _ in range(n):
        text = "".join(rng.choice(PIECES) for _ in range(rng.choice([1, 3, 10, 40, 120])))
        truth = rng.choice(["1", "23", "456", "7890", "0.5", "-1", "123"])
        cases.append((text, truth))
    return cases


CASES = [(c["solution_str"], c["ground_truth"]) for c in noisy_completions(3000, seed=11)] + fuzz(3000, seed=12)


@pytest.mark.parametrize("method", ["strict", "flexible"])
def test_extract_solution_agrees(method):
    bad = [(t[-80:], verl_a, ref_a) for t, _ in CASES
           if (verl_a := gsm8k.extract_solution(t, method=method)) != (ref_a := ref.extract_solution(t, method=method))]
    assert not bad, f"{len(bad)} of {len(CASES)} differ, first: {bad[0]}"


@pytest.mark.parametrize("method", ["strict", "flexible"])
@pytest.mark.parametrize(("format_score", "score"), [(0.0, 1.0), (0.1, 2.0)])
def test_compute_score_agrees(method, format_score, score):
    bad = []
    for text, truth in CASES:
        expected = gsm8k.compute_score(text, truth, method=method, format_score=format_score, score=score)
        seen = ref.compute_score(text, truth, method=method, format_score=format_score, score=score)
        if seen != expected or type(seen) is not type(expected):
            bad.append((text[-80:], truth, expected, seen))
    assert not bad, f"{len(bad)} of {len(CASES)} differ, first: {bad[0]}"


def test_cases_cover_every_outcome():
    """The generated cases reach right, wrong-but-extracted and not-extracted in both modes."""
    for method in ("strict", "flexible"):
        outcomes = {gsm8k.compute_score(t, g, method=method, format_score=0.5) for t, g in CASES}
        assert outcomes == {0, 0.5, 1.0}, (method, outcomes)


def test_committed_goldens_match_verl():
    problems = [p for m in makers("02") for p in differences(m)]
    assert not problems, "regenerate with `python -m verlings.goldens 02`: " + "; ".join(problems)
