"""Known-wrong variants of exercises/04/rule_rewards.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

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
    Mutant(
        "boxed_first_instead_of_last",
        "04.last_boxed",
        "rule_rewards",
        """
        def last_boxed(text):
            start = text.find(BOXED)  # find, not rfind: the draft wins
            if start < 0:
                return None
            depth = 0
            for i in range(start + len(BOXED) - 1, len(text)):
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                    if depth == 0:
                        return text[start + len(BOXED) : i]
            return None
        """,
    ),
    Mutant(
        "boxed_unbalanced_accepted",
        "04.last_boxed",
        "rule_rewards",
        """
        def last_boxed(text):
            start = text.rfind(BOXED)
            if start < 0:
                return None
            depth = 0
            for i in range(start + len(BOXED) - 1, len(text)):
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                    if depth == 0:
                        return text[start + len(BOXED) : i]
            return text[start + len(BOXED) :]  # an unclosed box still "answers"
        """,
    ),
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
    Mutant(
        "math_equal_plain_strings",
        "04.math_equal",
        "rule_rewards",
        """
        def math_equal(pred, truth):
            return pred is not None and pred.strip() == truth.strip()
        """,
    ),
    Mutant(
        "math_equal_float_tolerance",
        "04.math_equal",
        "rule_rewards",
        """
        def math_equal(pred, truth):
            if pred is None:
                return False
            x, y = _number(_clean(pred)), _number(_clean(truth))
            if x is None or y is None:
                return _clean(pred) == _clean(truth)
            return abs(float(x) - float(y)) < 1e-2  # 0.333 "equals" 1/3
        """,
    ),
    Mutant(
        "math_equal_commas_dropped_everywhere",
        "04.math_equal",
        "rule_rewards",
        """
        _orig_number = _number

        def math_equal(pred, truth):
            if pred is None:
                return False
            a, b = _clean(pred).replace(",", ""), _clean(truth).replace(",", "")  # "1,2" becomes 12
            x, y = _orig_number(a), _orig_number(b)
            if x is not None and y is not None:
                return x == y
            return a == b
        """,
    ),
    Mutant(
        "format_search_not_fullmatch",
        "04.format_reward",
        "rule_rewards",
        """
        def format_reward(response, pattern):
            regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.DOTALL)
            return 1.0 if regex.search(response) else 0.0
        """,
    ),
    Mutant(
        "format_without_dotall",
        "04.format_reward",
        "rule_rewards",
        """
        def format_reward(response, pattern):
            regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern)
            return 1.0 if regex.fullmatch(response.strip()) else 0.0
        """,
    ),
    Mutant(
        "format_no_strip",
        "04.format_reward",
        "rule_rewards",
        """
        def format_reward(response, pattern):
            regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.DOTALL)
            return 1.0 if regex.fullmatch(response) else 0.0
        """,
    ),
    Mutant(
        "overlong_sign_flipped",
        "04.overlong_penalty",
        "rule_rewards",
        """
        def overlong_penalty(response_length, max_response_length, overlong_buffer_len, penalty_factor):
            if overlong_buffer_len <= 0 or max_response_length < overlong_buffer_len:
                raise ValueError("bad buffer")
            exceed_len = response_length - (max_response_length - overlong_buffer_len)
            return float(max(exceed_len / overlong_buffer_len * penalty_factor, 0.0))
        """,
    ),
    Mutant(
        "overlong_buffer_starts_at_max",
        "04.overlong_penalty",
        "rule_rewards",
        """
        def overlong_penalty(response_length, max_response_length, overlong_buffer_len, penalty_factor):
            if overlong_buffer_len <= 0 or max_response_length < overlong_buffer_len:
                raise ValueError("bad buffer")
            exceed_len = response_length - max_response_length  # the ramp never starts
            return float(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0))
        """,
    ),
    Mutant(
        "overlong_ramp_from_zero",
        "04.overlong_penalty",
        "rule_rewards",
        """
        def overlong_penalty(response_length, max_response_length, overlong_buffer_len, penalty_factor):
            if overlong_buffer_len <= 0 or max_response_length < overlong_buffer_len:
                raise ValueError("bad buffer")
            return float(-response_length / max_response_length * penalty_factor)
        """,
    ),
    Mutant(
        "overlong_no_validation",
        "04.overlong_penalty",
        "rule_rewards",
        """
        def overlong_penalty(response_length, max_response_length, overlong_buffer_len, penalty_factor):
            expected_len = max_response_length - overlong_buffer_len
            exceed_len = response_length - expected_len
            if overlong_buffer_len == 0:
                return 0.0
            return float(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0))
        """,
    ),
    Mutant(
        "repetition_positive",
        "04.repetition_penalty",
        "rule_rewards",
        """
        def repetition_penalty(text, ngram=4):
            if ngram < 1:
                raise ValueError("ngram")
            words = text.split()
            grams = [tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
            return (len(grams) - len(set(grams))) / len(grams) if grams else 0.0
        """,
    ),
    Mutant(
        "repetition_character_ngrams",
        "04.repetition_penalty",
        "rule_rewards",
        """
        def repetition_penalty(text, ngram=4):
            if ngram < 1:
                raise ValueError("ngram")
            grams = [text[i : i + ngram] for i in range(len(text) - ngram + 1)]
            return -(len(grams) - len(set(grams))) / len(grams) if grams else 0.0
        """,
    ),
    Mutant(
        "repetition_case_insensitive",
        "04.repetition_penalty",
        "rule_rewards",
        """
        def repetition_penalty(text, ngram=4):
            if ngram < 1:
                raise ValueError("ngram")
            words = text.lower().split()
            grams = [tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
            return -(len(grams) - len(set(grams))) / len(grams) if grams else 0.0
        """,
    ),
    Mutant(
        "combine_drops_components",
        "04.combine",
        "rule_rewards",
        """
        def combine(components, weights):
            missing = [k for k in components if k not in weights]
            if missing or [k for k in weights if k not in components]:
                raise ValueError(f"weights and components differ: {missing}")
            return {"score": sum(weights[k] * v for k, v in components.items())}
        """,
    ),
    Mutant(
        "combine_skips_unweighted",
        "04.combine",
        "rule_rewards",
        """
        def combine(components, weights):
            kept = {k: v for k, v in components.items() if k in weights}  # silently drops a term
            return {"score": sum(weights[k] * v for k, v in kept.items()), **kept}
        """,
    ),
    Mutant(
        "combine_logs_weighted_values",
        "04.combine",
        "rule_rewards",
        """
        def combine(components, weights):
            if set(components) != set(weights) or "score" in components:
                raise ValueError(f"keys differ: {sorted(set(components) ^ set(weights))}")
            weighted = {k: weights[k] * v for k, v in components.items()}
            return {"score": sum(weighted.values()), **weighted}
        """,
    ),
    Mutant(
        "combine_key_error_for_a_missing_weight",
        "04.combine",
        "rule_rewards",
        """
        def combine(components, weights):
            if "score" in components or any(k not in components for k in weights):
                raise ValueError(f"bad keys: {sorted(set(components) ^ set(weights))}")
            total = sum(float(weights[k]) * float(v) for k, v in components.items())  # KeyError names the key
            return {"score": total, **{k: float(v) for k, v in components.items()}}
        """,
    ),
    Mutant(
        "combine_drops_zero_weight",
        "04.combine",
        "rule_rewards",
        """
        def combine(components, weights):
            if set(components) != set(weights) or "score" in components:
                raise ValueError(f"keys differ: {sorted(set(components) ^ set(weights))}")
            kept = {k: float(v) for k, v in components.items() if weights[k] != 0}
            return {"score": sum(weights[k] * v for k, v in kept.items()), **kept}
        """,
    ),
    # Clean-up rules tested one by one without math-verify (issue 24): test_rule_rewards_normalise.py.
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
