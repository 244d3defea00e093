"""Graded differential tests for exercises/02/gsm8k_reward.py: your functions against verl 0.9.1's
``verl/utils/reward_score/gsm8k.py`` (its own file, run without importing the verl package) on
generated completions — unicode digits, odd whitespace after '####', '$', commas, dots and strings
around the 300-character clip. Hypothesis is derandomized: the same examples on every run; a
failure shows the smallest completion it found.
"""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import PROPERTY_SETTINGS, assert_agrees, verl_source_module

reward = learner_module("02", "gsm8k_reward")

# The pieces a completion is made of: the marker and its near misses, every kind of whitespace a
# model writes after it, ASCII and non-ASCII digits (Arabic-Indic, full-width, superscript — the
# pattern [0-9] matches none of them, \d matches the first two), and the characters around numbers.
PIECES = [
    "####", "#### ", "###", "# ", " ", "  ", "\n", "\t", "\u00a0", "\u2003",
    "0", "1", "2", "7", "9", "72", "1,200", "٧٢", "٣", "７２", "²",
    ",", ".", "-", "$", "x", "The answer is ", "\\boxed{72}",
]
_text = st.lists(st.sampled_from(PIECES), max_size=10).map("".join)
# head + filler + tail with the total around 300: the clip can cut a '#### N' anywhere.
completions = st.one_of(
    _text,
    st.builds(lambda head, n, tail: head + "y" * n + tail, _text, st.integers(270, 310), _text),
)
truths = st.sampled_from(["72", "1200", "1,200", "-3", "0", "7.5", "٧٢"])


def _verl():
    return verl_source_module("utils/reward_score/gsm8k.py")


@pytest.mark.exercise("02.extract_solution")
@PROPERTY_SETTINGS
@given(solution_str=completions, method=st.sampled_from(["strict", "flexible"]))
def test_extract_solution_agrees_with_verl_on_generated_text(solution_str, method):
    assert_agrees(
        "extract_solution", reward.extract_solution, _verl().extract_solution, (solution_str, method),
        types=(str, type(None)),
        why="verl: the last 300 characters; strict = the last '#### (-?[0-9.,]+)' (one plain space, ASCII "
            "digits only), commas stripped; flexible = the last '-?[0-9.,]+' that is not '.'",
    )


@pytest.mark.exercise("02.compute_score")
@PROPERTY_SETTINGS
@given(
    solution_str=completions, ground_truth=truths, method=st.sampled_from(["strict", "flexible"]),
    format_score=st.sampled_from([0.0, 0.1]), score=st.sampled_from([1.0, 2.0]),
)
def test_compute_score_agrees_with_verl_on_generated_text(solution_str, ground_truth, method, format_score, score):
    assert_agrees(
        "compute_score", reward.compute_score, _verl().compute_score,
        (solution_str, ground_truth), {"method": method, "format_score": format_score, "score": score},
        types=(int, float),
        why="no answer → 0 (not the format score); the answer string equal to ground_truth → score; "
            "else format_score",
    )


@pytest.mark.exercise("02.extract_solution")
@pytest.mark.parametrize(
    ("text", "method"),
    [
        ("####\n72", "strict"),       # the marker is '#### ' with ONE space: a newline is not it
        ("####\t72", "strict"),
        ("#### \u00a072", "strict"),  # a no-break space after the space: no number right after '#### '
        ("#### ٧٢", "strict"),        # Arabic-Indic digits: [0-9] is ASCII only
        ("#### ٧٢", "flexible"),
        ("#### ７２", "strict"),       # full-width digits
        # The clip's exact edge: 301 characters lose the first one, 300 keep it ("#### 12" is 7 long).
        ("#### 12" + "x" * 294, "strict"),   # 301 long: the tail starts at "### 12" → None
        ("#### 12" + "x" * 293, "strict"),   # 300 long: all of it is searched → "12"
        ("7" + "x" * 300, "flexible"),       # 301 long: the "7" is cut off → None
        ("7" + "x" * 299, "flexible"),       # 300 long → "7"
        ("#### 72", None),                   # method left out: verl's default is "strict"
        ("I think 72", None),
    ],
)
def test_extract_solution_unicode_and_whitespace_edges(text, method):
    # Hand-picked from the generated cases above, so the lesson's examples are always run.
    assert_agrees(
        "extract_solution", reward.extract_solution, _verl().extract_solution, (text,) if method is None
        else (text, method),
        types=(str, type(None)),
        why="verl's pattern is '#### (\\-?[0-9\\.\\,]+)': one ASCII space, ASCII digits — \\s+ or \\d accept more",
    )


@pytest.mark.exercise("02.compute_score")
@pytest.mark.parametrize("text", ["#### 72", "I think 72", "#### 1,200"])
def test_compute_score_default_method_and_scores(text):
    # Only solution_str and ground_truth given: verl's defaults are method="strict", format_score=0.0, score=1.0.
    assert_agrees("compute_score", reward.compute_score, _verl().compute_score, (text, "72"), types=(int, float),
                  why="the defaults are verl's: method='strict', format_score=0.0, score=1.0")
