"""Known-wrong variants of exercises/02/gsm8k_reward.py: each must fail at least one graded test.

Each mutant is an edit of solutions/02/gsm8k_reward.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

EXTRACT, SCORE = "02.extract_solution", "02.compute_score"
STRICT_PATTERN = 'r"#### (\\-?[0-9\\.\\,]+)"'
STRICT_ANSWER = "return solutions[-1].replace(\",\", \"\").replace(\"$\", \"\")"
FLEXIBLE_ANSWER = "            return candidate\n"
SCORE_LINE = "    return score if answer == ground_truth else format_score"

MUTANTS = [
    Mutant("first_hash_not_last", EXTRACT, "gsm8k_reward",
           replace={STRICT_ANSWER: STRICT_ANSWER.replace("solutions[-1]", "solutions[0]")}),
    Mutant("commas_kept", EXTRACT, "gsm8k_reward", replace={STRICT_ANSWER: "return solutions[-1]"}),
    Mutant("dollar_accepted", EXTRACT, "gsm8k_reward",
           replace={STRICT_PATTERN: 'r"#### \\$?(\\-?[0-9\\.\\,]+)"'}),
    Mutant("whole_string_searched", EXTRACT, "gsm8k_reward", replace={"CLIP_CHARS = 300": "CLIP_CHARS = 10**9"}),
    Mutant("flexible_takes_a_lone_dot", EXTRACT, "gsm8k_reward",
           replace={"if candidate not in (\"\", \".\"):": "if True:"}),
    Mutant("flexible_strips_commas", EXTRACT, "gsm8k_reward",
           replace={FLEXIBLE_ANSWER: "            return candidate.replace(\",\", \"\")\n"}),
    Mutant("strip_trailing_dot", EXTRACT, "gsm8k_reward", replace={
        STRICT_ANSWER: STRICT_ANSWER.replace("return", "answer =") + "\n        return answer.rstrip(\".\") or answer",
        FLEXIBLE_ANSWER: "            return candidate.rstrip(\".\") or candidate\n"}),
    # Subtle ones (issue 24): caught by the differential tests on generated text.
    Mutant("strict_any_whitespace", EXTRACT, "gsm8k_reward",
           replace={STRICT_PATTERN: 'r"####\\s+(\\-?[0-9\\.\\,]+)"'}),
    Mutant("unicode_digits", EXTRACT, "gsm8k_reward",
           replace={STRICT_PATTERN: 'r"#### (\\-?[\\d\\.\\,]+)"'}),
    Mutant("format_score_without_answer", SCORE, "gsm8k_reward", replace={
        "    if answer is None:\n        return 0  # no answer at all: not even the format score\n": ""}),
    Mutant("numeric_comparison", SCORE, "gsm8k_reward", replace={
        SCORE_LINE: "    try:\n        return score if float(answer) == float(ground_truth) else format_score\n"
        "    except ValueError:\n        return format_score"}),
    # "flexible" as the default: an answer without "####" earns the score when only text and truth are given
    Mutant("compute_score_flexible_by_default", SCORE, "gsm8k_reward",
           replace={'method: str = "strict", format_score': 'method: str = "flexible", format_score'}),
    Mutant("score_and_format_swapped", SCORE, "gsm8k_reward",
           replace={SCORE_LINE: "    return score if answer == ground_truth else 0.0"}),
]


@pytest.mark.timeout(300)  # runs an exercise's graded tests in-process; some import verl
@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
