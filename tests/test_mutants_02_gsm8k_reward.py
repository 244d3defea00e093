"""Known-wrong variants of exercises/02/gsm8k_reward.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    Mutant("first_hash_not_last", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            if method == "strict":
                found = re.findall(r"#### (\\-?[0-9\\.\\,]+)", solution_str[-CLIP_CHARS:])
                return found[0].replace(",", "") if found else None
            return _reference_extract(solution_str, method)
        """),
    Mutant("commas_kept", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            if method == "strict":
                found = re.findall(r"#### (\\-?[0-9\\.\\,]+)", solution_str[-CLIP_CHARS:])
                return found[-1] if found else None
            return _reference_extract(solution_str, method)
        """),
    Mutant("dollar_accepted", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            if method == "strict":
                found = re.findall(r"#### \\$?(\\-?[0-9\\.\\,]+)", solution_str[-CLIP_CHARS:])
                return found[-1].replace(",", "") if found else None
            return _reference_extract(solution_str, method)
        """),
    Mutant("whole_string_searched", "02.extract_solution", "gsm8k_reward", """
        CLIP_CHARS = 10**9
        """),
    Mutant("flexible_takes_a_lone_dot", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            if method == "flexible":
                found = re.findall(r"(\\-?[0-9\\.\\,]+)", solution_str[-CLIP_CHARS:])
                return found[-1] if found else None
            return _reference_extract(solution_str, method)
        """),
    Mutant("flexible_strips_commas", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            answer = _reference_extract(solution_str, method)
            return answer.replace(",", "") if answer is not None and method == "flexible" else answer
        """),
    Mutant("strip_trailing_dot", "02.extract_solution", "gsm8k_reward", """
        _reference_extract = extract_solution

        def extract_solution(solution_str, method="strict"):
            answer = _reference_extract(solution_str, method)
            return answer.rstrip(".") or answer if answer is not None else None
        """),
    # Subtle ones (issue 24): caught by the differential tests on generated text.
    Mutant("strict_any_whitespace", "02.extract_solution", "gsm8k_reward",
           replace={'r"#### (\\-?[0-9\\.\\,]+)"': 'r"####\\s+(\\-?[0-9\\.\\,]+)"'}),
    Mutant("unicode_digits", "02.extract_solution", "gsm8k_reward",
           replace={'r"#### (\\-?[0-9\\.\\,]+)"': 'r"#### (\\-?[\\d\\.\\,]+)"'}),
    Mutant("format_score_without_answer", "02.compute_score", "gsm8k_reward", """
        def compute_score(solution_str, ground_truth, method="strict", format_score=0.0, score=1.0):
            answer = extract_solution(solution_str=solution_str, method=method)
            return score if answer == ground_truth else format_score
        """),
    Mutant("numeric_comparison", "02.compute_score", "gsm8k_reward", """
        def compute_score(solution_str, ground_truth, method="strict", format_score=0.0, score=1.0):
            answer = extract_solution(solution_str=solution_str, method=method)
            if answer is None:
                return 0
            try:
                return score if float(answer) == float(ground_truth) else format_score
            except ValueError:
                return format_score
        """),
    Mutant("score_and_format_swapped", "02.compute_score", "gsm8k_reward", """
        def compute_score(solution_str, ground_truth, method="strict", format_score=0.0, score=1.0):
            answer = extract_solution(solution_str=solution_str, method=method)
            if answer is None:
                return 0
            return score if answer == ground_truth else 0.0
        """),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
