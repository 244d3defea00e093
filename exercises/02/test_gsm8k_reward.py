"""Graded tests for exercises/02/gsm8k_reward.py (goldens from verl 0.9.1: verlings/goldens/ch02_rewards.py)."""

import pytest

from verlings import learner_module
from verlings.testing import assert_equal, golden

reward = learner_module("02", "gsm8k_reward")

STRICT_HINTS = {
    "several_hashes": "several '#### N' lines: the LAST one is the answer",
    "correct_commas": "'#### 1,200' must give '1200': strip the commas",
    "dollar": "verl's pattern has no '$': '#### $1,200' is not an answer in strict mode",
    "hidden_early": "only the last 300 characters are searched",
    "cut_by_clip": "only the last 300 characters are searched (here they start inside the number)",
    "long_correct": "only the last 300 characters are searched",
    "no_space": "the pattern is '#### ' with one space: '####72' is not an answer",
    "trailing_period": "the pattern captures digits, dots and commas: '#### 72.' gives '72.'",
}
FLEXIBLE_HINTS = {
    "dots": "flexible mode skips a lone '.': take the last number that is not '.'",
    "correct_commas": "flexible mode keeps commas: verl strips them only in strict mode",
    "hidden_early": "only the last 300 characters are searched",
    "comma_only": "',' counts as a number in flexible mode (verl only skips '' and '.')",
}


def _cases():
    g = golden("02", "gsm8k_scores")
    return [
        {k: g[k][i].item() for k in g}
        for i in range(len(g["solution_str"]))
    ]


def _first_miss(fn, expected_key, found_key=None):
    """The first golden case where fn(case) differs from verl, or None."""
    for case in _cases():
        expected = case[expected_key]
        if found_key is not None and not case[found_key]:
            expected = None
        seen = fn(case)
        if seen != expected:
            return case, seen, expected
    return None


@pytest.mark.exercise("02.extract_solution")
@pytest.mark.parametrize("method", ["strict", "flexible"])
def test_extract_solution_matches_verl(method):
    miss = _first_miss(
        lambda c: reward.extract_solution(solution_str=c["solution_str"], method=method),
        f"{method}_answer", f"{method}_found",
    )
    if miss:
        case, seen, expected = miss
        hints = STRICT_HINTS if method == "strict" else FLEXIBLE_HINTS
        assert_equal(
            seen, expected,
            what=f"extract_solution(method={method!r}) on a {case['kind']!r} completion ending in "
                 f"{case['solution_str'][-60:]!r}",
            why=hints.get(case["kind"], "compare with verl/utils/reward_score/gsm8k.py"),
        )


@pytest.mark.exercise("02.extract_solution")
def test_extract_solution_hand_worked():
    # The last "#### N" wins; commas go; the tail after the number does not matter.
    assert_equal(reward.extract_solution(solution_str="#### 5\nno wait\n#### 1,200 apples", method="strict"), "1200",
                 what="strict on '#### 5 ... #### 1,200 apples'",
                 why="take the last match and strip its commas")
    # No "#### " at all → None (not "", not 0).
    assert_equal(reward.extract_solution(solution_str="The answer is 72", method="strict"), None,
                 what="strict without '####'", why="return None when nothing matched")
    # Flexible: the last number-like run is "72." (dots are part of the pattern).
    assert_equal(reward.extract_solution(solution_str="I got 5, then 72.", method="flexible"), "72.",
                 what="flexible on 'I got 5, then 72.'",
                 why="flexible = the last match of -?[0-9.,]+ that is not '.'; it keeps the trailing dot")
    # "#### 9" followed by 400 characters: outside the last 300 characters, so nothing is found.
    assert_equal(reward.extract_solution(solution_str="#### 9" + "x" * 400, method="strict"), None,
                 what="strict with the answer 400 characters before the end",
                 why="verl searches only solution_str[-300:]")


@pytest.mark.exercise("02.compute_score")
@pytest.mark.parametrize("method", ["strict", "flexible"])
def test_compute_score_matches_verl(method):
    miss = _first_miss(
        lambda c: reward.compute_score(solution_str=c["solution_str"], ground_truth=c["ground_truth"], method=method),
        f"{method}_score",
    )
    if miss:
        case, seen, expected = miss
        assert_equal(seen, expected,
                     what=f"compute_score({method!r}) on {case['solution_str'][-60:]!r}, "
                          f"ground_truth {case['ground_truth']!r}",
                     why="score if the extracted answer == ground_truth (string equality), else format_score; "
                         "0 when nothing was extracted")


@pytest.mark.exercise("02.compute_score")
@pytest.mark.parametrize("method", ["strict", "flexible"])
def test_compute_score_format_score_only_when_extracted(method):
    miss = _first_miss(
        lambda c: reward.compute_score(solution_str=c["solution_str"], ground_truth=c["ground_truth"], method=method,
                                       format_score=0.1, score=2.0),
        f"{method}_score_custom",
    )
    if miss:
        case, seen, expected = miss
        assert_equal(seen, expected,
                     what=f"compute_score({method!r}, format_score=0.1, score=2.0) on "
                          f"{case['solution_str'][-60:]!r}, ground_truth {case['ground_truth']!r}",
                     why="format_score pays for a well-formed but wrong answer; no answer at all scores 0")


@pytest.mark.exercise("02.compute_score")
def test_compute_score_hand_worked():
    # Right answer with commas → score; "$" is not part of the pattern → nothing extracted → 0, not format_score.
    assert_equal(reward.compute_score(solution_str="#### 1,200", ground_truth="1200", format_score=0.1), 1.0,
                 what="'#### 1,200' vs '1200'")
    assert_equal(reward.compute_score(solution_str="#### $1,200", ground_truth="1200", format_score=0.1), 0,
                 what="'#### $1,200' vs '1200' with format_score=0.1",
                 why="verl's pattern '#### (-?[0-9.,]+)' cannot match '$', so no answer is extracted → 0")
    # "#### 72." extracts "72." which is not the string "72": well-formed, wrong → format_score.
    assert_equal(reward.compute_score(solution_str="So #### 72.", ground_truth="72", format_score=0.1), 0.1,
                 what="'#### 72.' vs '72' with format_score=0.1",
                 why="answers are compared as strings: '72.' != '72'")
