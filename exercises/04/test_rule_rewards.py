"""Graded tests for exercises/04/rule_rewards.py (goldens from verl 0.9.1: verlings/goldens/ch04_rewards.py)."""

import random
import re
from fractions import Fraction

import numpy as np
import pytest

from verlings import learner_module
from verlings.testing import assert_close, assert_equal, golden, hint_line

rules = learner_module("04", "rule_rewards")


# --- §1.1 last_boxed ----------------------------------------------------------------------------


@pytest.mark.exercise("04.last_boxed")
def test_last_boxed_matches_verl():
    g = golden("04", "boxed")
    for text, found, content in zip(g["text"], g["found"], g["content"]):
        text = str(text)
        expected = str(content) if found else None
        seen = rules.last_boxed(text=text)
        if seen != expected:
            last = text.rfind("\\boxed{")
            why = (
                "there is no '\\boxed{' at all: return None" if last < 0 else
                "the LAST '\\boxed{' decides; it never closes here: no answer (None)" if expected is None else
                "take the last '\\boxed{' and count braces: +1 for '{', -1 for '}', stop when the count is back to 0"
            )
            assert_equal(seen, expected, what=f"last_boxed({text!r})", why=why)


@pytest.mark.exercise("04.last_boxed")
@pytest.mark.parametrize(
    ("text", "expected", "why"),
    [
        # The draft is boxed first, the answer last: "2" wins.
        ("First guess \\boxed{1}. Checking... final: \\boxed{2}.", "2", "the LAST box is the answer, not the first"),
        # Nested braces: the box closes at the brace that brings the count back to 0.
        ("so \\boxed{\\frac{1}{2}} done", "\\frac{1}{2}", "count nested braces; a lazy regex stops at the first '}'"),
        # An earlier closed box does not rescue an unclosed last one (verl's rule).
        ("\\boxed{3} and then \\boxed{4", None, "the last box never closes: unbalanced means no answer"),
        ("\\boxed{{1}", None, "unbalanced: two '{' but one '}'"),
        ("nothing here", None, "no box at all: None"),
        ("\\boxed{}", "", "an empty box is an empty answer, not None"),
    ],
)
def test_last_boxed_hand_worked(text, expected, why):
    assert_equal(rules.last_boxed(text=text), expected, what=f"last_boxed({text!r})",
                 why=why)


# --- §1.2 math_equal ----------------------------------------------------------------------------

# Each pair is worked by hand: the same exact number written two ways (True) or two numbers (False).
EQUAL_PAIRS = [
    ("3", "3.0", "3 = 3.0"),
    ("+3", "3", "a leading + is still 3"),
    ("-2.50", "-2.5", "trailing zeros do not change a decimal"),
    ("1/2", "0.5", "1/2 = 0.5: parse fractions"),
    ("0.5", "1/2", "the truth may be the fraction"),
    ("\\frac{1}{2}", "0.5", "\\frac{1}{2} = 1/2 = 0.5"),
    ("\\dfrac{3}{4}", "0.75", "\\dfrac is \\frac: 3/4 = 0.75"),
    ("\\tfrac12", "0.5", "\\tfrac12 is shorthand for \\frac{1}{2}"),
    ("-\\frac{3}{2}", "-1.5", "a sign in front of \\frac: -3/2 = -1.5"),
    ("\\frac{-3}{2}", "-1.5", "a sign inside the numerator: -3/2 = -1.5"),
    ("1,000", "1000", "thousands commas: 1,000 = 1000"),
    ("1,234,567", "1234567", "several thousands commas"),
    ("1{,}000", "1000", "LaTeX writes a thousands comma as {,}"),
    ("$18", "18", "a dollar sign is decoration"),
    ("\\$18", "18", "an escaped dollar sign is decoration"),
    ("5 cm", "5", "a trailing unit word is optional"),
    ("5\\text{ cm}", "5", "a \\text{...} unit is optional"),
    ("12 apples", "12", "a trailing word after a space is a unit"),
    ("10 dollars", "10", "a trailing word after a space is a unit (math-verify alone misses this one)"),
    ("7", "7 apples", "the truth may carry the unit"),
    ("90^\\circ", "90", "degrees are decoration"),
    ("50\\%", "50", "a percent sign is decoration"),
]
NOT_EQUAL_PAIRS = [
    ("2", "3", "2 is not 3"),
    ("0.333", "1/3", "0.333 is not exactly 1/3: compare exactly, not with a tolerance"),
    ("1/3", "0.33", "1/3 is not 0.33"),
    ("1,2", "12", "'1,2' is not a thousands number (groups of three digits only)"),
    ("2x", "2", "'2x' is not '2 x': a unit needs a space (or \\text{})"),
    ("\\frac{1}{0}", "1", "a zero denominator is never equal to anything"),
    ("", "0", "an empty answer is never right"),
    ("-1/2", "0.5", "the sign matters"),
]


@pytest.mark.exercise("04.math_equal")
@pytest.mark.parametrize(("pred", "truth", "why"), EQUAL_PAIRS, ids=[p[0] + "|" + p[1] for p in EQUAL_PAIRS])
def test_math_equal_same_number(pred, truth, why):
    assert_equal(rules.math_equal(pred=pred, truth=truth), True, what=f"math_equal({pred!r}, {truth!r})",
                 why=why)


@pytest.mark.exercise("04.math_equal")
@pytest.mark.parametrize(("pred", "truth", "why"), NOT_EQUAL_PAIRS, ids=[p[0] + "|" + p[1] for p in NOT_EQUAL_PAIRS])
def test_math_equal_different_numbers(pred, truth, why):
    assert_equal(rules.math_equal(pred=pred, truth=truth), False, what=f"math_equal({pred!r}, {truth!r})",
                 why=why)


@pytest.mark.exercise("04.math_equal")
def test_math_equal_none_is_wrong():
    assert_equal(rules.math_equal(pred=None, truth="1"), False, what="math_equal(None, '1')",
                 why="None means no answer was extracted: never correct, never an error")


@pytest.mark.exercise("04.math_equal")
def test_math_equal_random_fractions():
    # p/q with q in {2, 4, 5, 8, 10, 20, 25} has a finite decimal; Fraction gives it exactly,
    # so the expected value comes from exact arithmetic, not from the function under test.
    rng = random.Random(404)
    for _ in range(60):
        q = rng.choice([2, 4, 5, 8, 10, 20, 25])
        p = rng.randint(-60, 60)
        value = Fraction(p, q)
        decimal = f"{float(value):.6f}".rstrip("0").rstrip(".")
        forms = [f"{p}/{q}", f"\\frac{{{p}}}{{{q}}}", f"\\dfrac{{{p}}}{{{q}}}"]
        for form in forms:
            assert_equal(rules.math_equal(pred=form, truth=decimal), True,
                         what=f"math_equal({form!r}, {decimal!r})",
                         why=f"{p}/{q} = {decimal} exactly")
        other = f"{float(value + Fraction(1, q)):.6f}".rstrip("0").rstrip(".")
        assert_equal(rules.math_equal(pred=forms[0], truth=other), False,
                     what=f"math_equal({forms[0]!r}, {other!r})",
                     why=f"{p}/{q} = {decimal}, not {other}")


# --- §1.3 format_reward -------------------------------------------------------------------------

THINK_ANSWER = r"<think>.+?</think>\s*<answer>.+?</answer>"


@pytest.mark.exercise("04.format_reward")
@pytest.mark.parametrize(
    ("response", "expected", "why"),
    [
        ("<think>2+2 is 4</think><answer>4</answer>", 1.0, "the exact shape"),
        ("<think>2+2\nis 4</think>\n<answer>4</answer>", 1.0, "a think block spans lines: compile with re.DOTALL"),
        ("  \n<think>x</think> <answer>4</answer>\n\n", 1.0, "surrounding whitespace is ignored (strip)"),
        ("<think>x</think><answer>4</answer> Hope this helps!", 0.0,
         "text after </answer> breaks the format: the WHOLE response must match (fullmatch, not search)"),
        ("Sure! <think>x</think><answer>4</answer>", 0.0, "text before <think> breaks the format (fullmatch)"),
        ("<answer>4</answer>", 0.0, "no think block"),
        ("<think></think><answer>4</answer>", 0.0, "'.+?' needs at least one character inside <think>"),
    ],
)
def test_format_reward_think_answer(response, expected, why):
    seen = rules.format_reward(response=response, pattern=THINK_ANSWER)
    assert_equal(seen, expected, what=f"format_reward({response!r})", why=why)
    assert isinstance(seen, float), f"format_reward returned {type(seen).__name__}; a reward is a float"


@pytest.mark.exercise("04.format_reward")
def test_format_reward_compiled_pattern_used_as_is():
    # Compiled WITHOUT DOTALL on purpose: '.' must not cross the newline, so this response fails.
    compiled = re.compile(r"<answer>.+</answer>")
    assert_equal(rules.format_reward(response="<answer>4</answer>", pattern=compiled), 1.0,
                 what="format_reward with a compiled pattern",
                 why="a compiled re.Pattern is used as it is (re.fullmatch(compiled, s, re.DOTALL) raises)")
    assert_equal(rules.format_reward(response="<answer>4\n5</answer>", pattern=compiled), 0.0,
                 what="format_reward with a compiled pattern without DOTALL on a two-line answer",
                 why="keep the compiled pattern's own flags; do not add DOTALL to it")


# --- §1.4 overlong_penalty ----------------------------------------------------------------------


@pytest.mark.exercise("04.overlong_penalty")
def test_overlong_penalty_matches_verl_dapo():
    g = golden("04", "overlong")
    seen = np.array([
        rules.overlong_penalty(response_length=int(n), max_response_length=int(m), overlong_buffer_len=int(b),
                               penalty_factor=float(f))
        for n, m, b, f in zip(g["response_length"], g["max_response_length"], g["overlong_buffer_len"],
                              g["penalty_factor"])
    ], dtype=np.float64)
    bad = ~np.isclose(seen, g["penalty"], rtol=1e-5, atol=1e-6)
    why = "expected_len = max - buffer; exceed = length - expected_len; penalty = min(-exceed / buffer * factor, 0)"
    if bad.any():
        i = int(np.argmax(bad))
        if seen[i] > 0:
            why = "a penalty is never positive: min(..., 0) — check the sign of -exceed_len"
        elif seen[i] != 0 and g["penalty"][i] == 0:
            why = "no penalty before max - buffer: the ramp starts at expected_len = max - buffer, not at 0"
        why += (f" (length {int(g['response_length'][i])}, max {int(g['max_response_length'][i])}, "
                f"buffer {int(g['overlong_buffer_len'][i])}, factor {float(g['penalty_factor'][i])})")
    assert_close(seen, g["penalty"], what="overlong_penalty over a grid of lengths (verl's DAPO reward manager)",
                 why=why)


@pytest.mark.exercise("04.overlong_penalty")
def test_overlong_penalty_hand_worked():
    # max 20, buffer 4, factor 1: expected_len = 16.
    # 16 → exceed 0 → 0; 18 → exceed 2 → -2/4 = -0.5; 20 → exceed 4 → -1.0; 10 → exceed -6 → min(1.5, 0) = 0.
    seen = [rules.overlong_penalty(response_length=n, max_response_length=20, overlong_buffer_len=4, penalty_factor=1.0)
            for n in (10, 16, 18, 20)]
    assert_close(np.array(seen), np.array([0.0, 0.0, -0.5, -1.0]), what="overlong_penalty(n, 20, 4, 1.0) for n in "
                 "(10, 16, 18, 20)",
                 why="free up to max - buffer = 16, then a linear ramp to -factor at max; never a bonus")


@pytest.mark.exercise("04.overlong_penalty")
@pytest.mark.parametrize(("max_len", "buffer"), [(20, 0), (20, -4), (4, 8)])
def test_overlong_penalty_rejects_bad_buffers(max_len, buffer):
    call = f"overlong_penalty(response_length=3, max_response_length={max_len}, overlong_buffer_len={buffer}, " \
           "penalty_factor=1.0)"
    rule = "the buffer must satisfy 0 < overlong_buffer_len <= max_response_length (the ramp divides by it)"
    try:
        rules.overlong_penalty(response_length=3, max_response_length=max_len, overlong_buffer_len=buffer,
                               penalty_factor=1.0)
    except ValueError:
        return
    except NotImplementedError:
        raise  # still a stub: the harness reports it as such
    except Exception as exc:
        raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}\n  expected ValueError — {rule}\n"
                             + hint_line()) from None
    raise AssertionError(f"{call} returned without an error\n  expected ValueError — {rule}\n"
                         + hint_line())


# --- §1.5 repetition_penalty --------------------------------------------------------------------


@pytest.mark.exercise("04.repetition_penalty")
@pytest.mark.parametrize(
    ("text", "ngram", "expected", "why"),
    [
        # 4-grams of 8 words: abcd bcda cdab dabc abcd → 5 total, 4 distinct → -(5-4)/5.
        ("a b c d a b c d", 4, -0.2, "5 four-grams, one of them a repeat: -(5 - 4) / 5"),
        # 2-grams of "x x x x x": 4 total, all "x x" → 1 distinct → -(4-1)/4.
        ("x x x x x", 2, -0.75, "4 bigrams, 1 distinct: -(4 - 1) / 4"),
        ("the cat sat on the mat", 4, 0.0, "no repeated 4-gram"),
        ("too short", 4, 0.0, "fewer words than ngram: no n-gram, no penalty"),
        ("", 4, 0.0, "an empty response has no n-gram"),
        # Unigrams of "a A a": words a, A, a → 3 total, 2 distinct (case-sensitive) → -1/3.
        ("a A a", 1, -1 / 3, "words are case-sensitive: 'a' and 'A' differ"),
        # Whitespace of any kind splits: "a\nb\ta b" → a b a b → bigrams ab ba ab → 3 total, 2 distinct.
        ("a\nb\ta b", 2, -1 / 3, "split on any whitespace (str.split())"),
    ],
)
def test_repetition_penalty_hand_worked(text, ngram, expected, why):
    seen = rules.repetition_penalty(text=text, ngram=ngram)
    assert_close(seen, expected, what=f"repetition_penalty({text!r}, ngram={ngram})",
                 why=why)


@pytest.mark.exercise("04.repetition_penalty")
def test_repetition_penalty_loop_is_near_minus_one():
    # "the answer is " * 100 → 300 words, 297 four-grams; only 3 distinct (the cycle has period 3).
    text = "the answer is " * 100
    assert_close(rules.repetition_penalty(text=text, ngram=4), -(297 - 3) / 297,
                 what="repetition_penalty of a 100-times loop",
                 why="a loop repeats almost every n-gram: the penalty is -(total - distinct) / total")


@pytest.mark.exercise("04.repetition_penalty")
def test_repetition_penalty_rejects_bad_ngram():
    with pytest.raises(ValueError):
        rules.repetition_penalty(text="a b c", ngram=0)


# --- §1.6 combine -------------------------------------------------------------------------------


@pytest.mark.exercise("04.combine")
def test_combine_weighted_total_and_every_component():
    components = {"correct": 1.0, "format": 0.0, "length": -0.5}
    weights = {"correct": 1.0, "format": 0.2, "length": 0.5}
    seen = rules.combine(components=components, weights=weights)
    # 1.0 * 1.0 + 0.2 * 0.0 + 0.5 * -0.5 = 0.75
    assert_equal(sorted(seen), sorted(["score", "correct", "format", "length"]), what="keys of combine(...)",
                 why="return 'score' AND every component, so verl logs each term")
    assert_close(seen["score"], 0.75, what="combine(...)['score']",
                 why="score = sum(weights[k] * components[k])")
    for key, value in components.items():
        assert_close(seen[key], value, what=f"combine(...)[{key!r}]",
                     why="components are logged raw (unweighted), so you can see which term moves")


@pytest.mark.exercise("04.combine")
def test_combine_keeps_a_zero_weight_component():
    # Weight 0 switches a term off in the total, but it must still be logged: 2.0 * 0.5 = 1.0.
    seen = rules.combine(components={"correct": 0.5, "repetition": -0.4}, weights={"correct": 2.0, "repetition": 0.0})
    assert_equal(sorted(seen), ["correct", "repetition", "score"], what="keys of combine with a zero weight",
                 why="a zero-weighted component is still logged")
    assert_close(seen["score"], 1.0, what="score with a zero weight")
    assert_close(seen["repetition"], -0.4, what="the zero-weighted component")


def _combine_value_error(components, weights, rule: str) -> ValueError:
    """The ValueError combine raises on these arguments; any other outcome fails with the input and the rule."""
    call = f"combine(components={components}, weights={weights})"
    try:
        rules.combine(components=components, weights=weights)
    except ValueError as exc:
        return exc
    except NotImplementedError:
        raise  # still a stub: the harness reports it as such
    except Exception as exc:
        raise AssertionError(f"{call} raised {type(exc).__name__}: {exc}\n  expected ValueError — {rule} (the "
                             "docstring's contract; a KeyError from weights[k] is an accident, not a message)\n"
                             + hint_line()) from None
    raise AssertionError(f"{call} returned without an error\n  expected ValueError — {rule}\n" + hint_line())


@pytest.mark.exercise("04.combine")
def test_combine_missing_weight_is_an_error_naming_it():
    err = _combine_value_error({"correct": 1.0, "format": 1.0}, {"correct": 1.0},
                               "a component without a weight would be dropped silently")
    assert "format" in str(err), f"the error should name the component without a weight ('format'): {err}"


@pytest.mark.exercise("04.combine")
def test_combine_unknown_weight_is_an_error_naming_it():
    err = _combine_value_error({"correct": 1.0}, {"correct": 1.0, "fromat": 0.2},
                               "a weight for no component is a typo")
    assert "fromat" in str(err), f"a weight for no component is a typo; name it ('fromat') in the error: {err}"


@pytest.mark.exercise("04.combine")
def test_combine_component_named_score_is_an_error():
    _combine_value_error({"score": 1.0}, {"score": 1.0}, "'score' is the key of the weighted total")


@pytest.mark.exercise("04.combine")
def test_combine_empty():
    assert_equal(rules.combine(components={}, weights={}), {"score": 0.0}, what="combine({}, {})",
                 why="no component: the total is 0.0")
