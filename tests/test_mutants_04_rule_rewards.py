"""Known-wrong variants of exercises/04/rule_rewards.py: each must fail at least one graded test.

Each mutant is an edit of solutions/04/rule_rewards.py (``replace={reference text: wrong text}``);
``code`` (appended to the edited copy) only where the mistake is another way of doing it.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

# Texts of solutions/04/rule_rewards.py that the edits below replace (each occurs once there).
BOXED_END = "                return text[start + len(BOXED) : i]\n    return None\n"
FULLMATCH = "return 1.0 if regex.fullmatch(response.strip()) else 0.0"
RAMP = "return float(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0))"
CLEAN = "    a, b = _clean(pred), _clean(truth)\n"
MISSING = "    missing = [k for k in components if k not in weights]\n"
COMBINED = "return {\"score\": total, **{k: float(v) for k, v in components.items()}}"

MUTANTS = [
    # Found by `python -m verlings.dev never-failing 04`: graded tests no variant made fail.
    # DOTALL added to a compiled pattern too: its own flags are lost
    Mutant("format_recompiles_a_compiled_pattern", "04.format_reward", "rule_rewards", replace={
        "regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.DOTALL)":
        "regex = re.compile(getattr(pattern, 'pattern', pattern), re.DOTALL)"}),
    # ngram=0 accepted: a list of empty tuples, a penalty instead of a ValueError
    Mutant("repetition_accepts_ngram_zero", "04.repetition_penalty", "rule_rewards", replace={
        "if ngram < 1:": "if ngram < 0:"}),
    # Subtle (issue 24): clamped at -penalty_factor; verl's DAPO manager is not when the response outgrows
    # max_resp_len. Caught by the differential test on generated lengths.
    Mutant("overlong_clamped_at_minus_factor", "04.overlong_penalty", "rule_rewards", replace={
        "return float(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0))":
        "return float(max(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0), -penalty_factor))"}),
    Mutant("boxed_first_instead_of_last", "04.last_boxed", "rule_rewards",
           replace={"start = text.rfind(BOXED)": "start = text.find(BOXED)  # the draft wins"}),
    Mutant("boxed_unbalanced_accepted", "04.last_boxed", "rule_rewards",
           replace={BOXED_END: BOXED_END.replace("    return None", "    return text[start + len(BOXED) :]")}),
    Mutant(
        "boxed_lazy_regex",
        "04.last_boxed",
        "rule_rewards",
        """
        def last_boxed(text):
            found = re.findall(r"\\\\boxed\\{(.*?)\\}", text)
            return found[-1] if found else None
        """,
    ),
    Mutant(
        "math_equal_no_fractions",
        "04.math_equal",
        "rule_rewards",
        """
        def math_equal(pred, truth):
            if pred is None:
                return False
            a, b = _clean(pred), _clean(truth)
            try:
                return float(a.replace(",", "")) == float(b.replace(",", ""))  # 1/2 is not a float literal
            except ValueError:
                return a == b
        """,
    ),
    Mutant("math_equal_plain_strings", "04.math_equal", "rule_rewards",
           replace={CLEAN: "    return pred.strip() == truth.strip()\n" + CLEAN}),
    Mutant("math_equal_float_tolerance", "04.math_equal", "rule_rewards",  # 0.333 "equals" 1/3
           replace={"return x == y  # exact": "return abs(float(x) - float(y)) < 1e-2  # tolerance"}),
    Mutant("math_equal_commas_dropped_everywhere", "04.math_equal", "rule_rewards", replace={  # "1,2" becomes 12
        CLEAN: "    a, b = _clean(pred).replace(\",\", \"\"), _clean(truth).replace(\",\", \"\")\n"}),
    Mutant("format_search_not_fullmatch", "04.format_reward", "rule_rewards",
           replace={FULLMATCH: "return 1.0 if regex.search(response) else 0.0"}),
    Mutant("format_without_dotall", "04.format_reward", "rule_rewards",
           replace={"re.compile(pattern, re.DOTALL)": "re.compile(pattern)"}),
    Mutant("format_no_strip", "04.format_reward", "rule_rewards",
           replace={FULLMATCH: "return 1.0 if regex.fullmatch(response) else 0.0"}),
    Mutant("overlong_sign_flipped", "04.overlong_penalty", "rule_rewards",
           replace={RAMP: "return float(max(exceed_len / overlong_buffer_len * penalty_factor, 0.0))"}),
    Mutant("overlong_buffer_starts_at_max", "04.overlong_penalty", "rule_rewards",
           replace={"response_length - expected_len": "response_length - max_response_length"}),
    Mutant("overlong_ramp_from_zero", "04.overlong_penalty", "rule_rewards",
           replace={RAMP: "return float(-response_length / max_response_length * penalty_factor)"}),
    Mutant("overlong_no_validation", "04.overlong_penalty", "rule_rewards",
           replace={
               "if overlong_buffer_len <= 0:": "if False:",  # neither check: no ValueError at all
               "if max_response_length < overlong_buffer_len:": "if False:",
               RAMP: "if overlong_buffer_len == 0:\n        return 0.0\n    " + RAMP,
           }),
    Mutant("repetition_positive", "04.repetition_penalty", "rule_rewards",
           replace={"return -(len(grams) - len(set(grams)))": "return (len(grams) - len(set(grams)))"}),
    Mutant("repetition_character_ngrams", "04.repetition_penalty", "rule_rewards",
           replace={"words = text.split()": "words = text  # characters, not words"}),
    Mutant("repetition_case_insensitive", "04.repetition_penalty", "rule_rewards",
           replace={"words = text.split()": "words = text.lower().split()"}),
    Mutant("combine_drops_components", "04.combine", "rule_rewards", replace={COMBINED: "return {\"score\": total}"}),
    Mutant("combine_skips_unweighted", "04.combine", "rule_rewards", replace={  # silently drops a term
        MISSING: "    components = {k: v for k, v in components.items() if k in weights}\n" + MISSING}),
    Mutant("combine_logs_weighted_values", "04.combine", "rule_rewards",
           replace={COMBINED: COMBINED.replace("**{k: float(v)", "**{k: float(weights[k]) * float(v)")}),
    Mutant("combine_key_error_for_a_missing_weight", "04.combine", "rule_rewards",  # KeyError names the key
           replace={"    if missing:\n": "    if False:\n"}),
    # a component called "score" silently overwrites the weighted total in the returned dict
    Mutant("combine_accepts_a_score_component", "04.combine", "rule_rewards",
           replace={'    if "score" in components:\n': '    if False:\n'}),
    # a typo in a weight's name ("formt") goes unnoticed: that term is then weighted 0
    Mutant("combine_ignores_unknown_weights", "04.combine", "rule_rewards",
           replace={"    if unused:\n": "    if False:\n"}),
    Mutant("combine_drops_zero_weight", "04.combine", "rule_rewards",
           replace={COMBINED: COMBINED.replace("components.items()}}", "components.items() if weights[k] != 0}}")}),
    Mutant(
        "math_equal_no_latex_spacing",
        "04.math_equal",
        "rule_rewards",  # "1\\,000" stays "1\\,000": not a number, and math-verify may not be there
        replace={r'("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""), ("~", ""),': ""},
    ),
    Mutant(
        "math_equal_text_units_only",
        "04.math_equal",
        "rule_rewards",
        replace={r'_TEXT = re.compile(r"\\(?:text|mbox|mathrm|textbf)\{': r'_TEXT = re.compile(r"\\(?:text)\{'},
    ),
    Mutant(
        "math_equal_alarm_in_worker_threads",
        "04.math_equal",
        "rule_rewards",  # signal.alarm outside the main thread: math-verify fails, every symbolic answer scores 0
        replace={"limit = 5 if threading.current_thread() is threading.main_thread() else None": "limit = 5"},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
