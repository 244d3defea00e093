"""Rule-based rewards: small, exact functions that turn a response string into numbers.

Lesson: exercises/04/README.md §1 (中文: README.zh-CN.md §1).
Mirrors verl 0.9.1: ``verl/utils/reward_score/math_dapo.py`` (``last_boxed_only_string``,
``remove_boxed``), ``verl/experimental/reward_loop/reward_manager/dapo.py`` (the overlong
penalty) and the dict results every verl reward manager logs (``{"score": ..., ...}``).

A *response* is the decoded text of one rollout (``solution_str`` in verl). Every function
here is pure and cheap: a reward runs once per rollout, thousands of times per step.
"""

from __future__ import annotations

import re  # you will need it
from collections.abc import Mapping


def last_boxed(text: str) -> str | None:
    r"""The content of the **last** ``\boxed{...}`` in ``text``, or ``None``.

    Math models are asked to put their final answer in ``\boxed{}``. A response often boxes
    a draft first and the real answer last, so only the last ``\boxed{`` counts — and if that
    last box is never closed, the response has no answer (``None``), even when an earlier box
    was fine. This is verl's ``math_dapo.last_boxed_only_string`` + ``remove_boxed``.

    Answers nest braces (``\boxed{\frac{1}{2}}``), so a regex such as ``\\boxed\{(.*?)\}``
    stops too early. Count instead: from the last ``\boxed{``, +1 for every ``{``, -1 for every
    ``}``; the box closes where the count returns to 0.

    Args:
        text: the response.

    Returns:
        The text between the braces (may be ``""`` for ``\boxed{}``), or ``None`` when there is
        no ``\boxed{`` or the last one is unbalanced.

    Example:
        >>> last_boxed(r"first \boxed{3}, no wait: \boxed{\frac{1}{2}}.")
        '\\frac{1}{2}'
        >>> last_boxed(r"\boxed{3} then \boxed{4")   # the last box never closes
        >>> last_boxed("no box") is None
        True
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.last_boxed`).
    raise NotImplementedError("implement last_boxed — see exercises/04/README.md §1.1")


def math_equal(pred: str | None, truth: str) -> bool:
    r"""Do two final answers mean the same number?

    String equality is a poor reward: ``"0.5"``, ``"1/2"`` and ``"\frac{1}{2}"`` are one
    answer, and a model that writes any of them is right. Normalise both sides, then compare
    **exactly** (``fractions.Fraction``, not floats with a tolerance: ``0.333`` is *not* ``1/3``).

    The contract (what the tests check):

    * plain numbers: ``"3"`` == ``"3.0"`` == ``"+3"``; ``"-2.50"`` == ``"-2.5"``;
    * thousands commas: ``"1,000"`` == ``"1000"`` (also LaTeX's ``1{,}000``); but ``"1,2"`` is not ``12``;
    * fractions: ``"1/2"`` == ``"0.5"`` == ``"\frac{1}{2}"`` == ``"\dfrac{1}{2}"`` == ``"\tfrac12"``,
      a sign in front (``"-\frac{3}{2}"`` == ``"-1.5"``); a zero denominator is never equal;
    * decoration: ``$``, ``\$``, ``\%``, ``%``, ``^\circ``/``^{\circ}``/``°``, ``\left``/``\right``,
      spaces and LaTeX spacing (``\,`` ``\;`` ``\!`` ``\ `` ``~``: ``"1\,000"`` == ``"1000"``);
    * trailing units are optional: ``"5 cm"`` == ``"5\text{ cm}"`` == ``"5"``, ``"10 dollars"`` == ``"10"``
      (a unit is a word after a space, or any ``\text``/``\mbox``/``\mathrm``/``\textbf{...}``;
      ``"2x"`` is not ``"2"``);
    * every rule above holds without math-verify (it is optional: not installed → no fallback);
    * ``pred`` is ``None`` (no answer extracted) or empty → ``False``;
    * anything else: equal after the same clean-up, else (optionally) ask math-verify.

    math-verify (``from math_verify import parse, verify``; wrap answers as ``f"${s}$"``) knows
    symbolic maths but not every rule above (``"10 dollars"``), so normalise first. Its
    timeouts use ``signal.alarm``: pass ``parsing_timeout=None``/``timeout_seconds=None``
    outside the main thread.

    Args:
        pred: the model's answer (e.g. from :func:`last_boxed`), or ``None``.
        truth: the reference answer.

    Example:
        >>> math_equal("1/2", "0.5"), math_equal(r"\dfrac{3}{4}", "0.75"), math_equal("1,000", "1000")
        (True, True, True)
        >>> math_equal("0.333", "1/3"), math_equal(None, "1")
        (False, False)
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.math_equal`).
    raise NotImplementedError("implement math_equal — see exercises/04/README.md §1.2")


def format_reward(response: str, pattern: str | re.Pattern) -> float:
    r"""1.0 when the response has the required shape, else 0.0.

    R1-style training asks for ``<think>...</think>`` then an answer; a small format reward
    teaches the shape before the model can solve anything.

    Rules: ignore whitespace around the response (``response.strip()``); the **whole** response
    must match (``fullmatch`` — text after ``</answer>`` breaks the format); a ``str`` pattern is
    compiled with ``re.DOTALL`` (a think block spans lines); a compiled ``re.Pattern`` is used
    as it is.

    Example:
        >>> P = r"<think>.+?</think>\s*<answer>.+?</answer>"
        >>> format_reward("<think>2+2\nis 4</think> <answer>4</answer>", P)
        1.0
        >>> format_reward("<think>x</think><answer>4</answer> bye", P)
        0.0
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.format_reward`).
    raise NotImplementedError("implement format_reward — see exercises/04/README.md §1.3")


def overlong_penalty(
    response_length: int, max_response_length: int, overlong_buffer_len: int, penalty_factor: float
) -> float:
    """DAPO's soft overlong punishment (verl: ``reward.reward_kwargs.overlong_buffer_cfg``).

    A response cut at ``max_response_length`` gets no answer and reward 0 — the same as a wrong
    answer, so the model cannot tell "too long" from "wrong". DAPO adds a linear ramp in the last
    ``overlong_buffer_len`` tokens before the limit: with L = ``max_response_length``,
    B = ``overlong_buffer_len`` and f = ``penalty_factor``, the penalty is 0 up to L − B
    tokens, then falls linearly by f / B per token beyond L − B (−f at L; longer keeps falling).

    Args:
        response_length: valid tokens in the response.
        max_response_length: ``data.max_response_length``.
        overlong_buffer_len: length of the ramp; must be > 0 and <= ``max_response_length``
            (else ``ValueError``, verl asserts the same).
        penalty_factor: the penalty at the limit is ``-penalty_factor``.

    Returns:
        A float <= 0: 0 up to L − B tokens, ``-penalty_factor`` at ``max_response_length``.

    In verl: the overlong branch of ``verl/workers/reward_manager/dapo.py``.

    Example (max 20, buffer 4, factor 1):
        >>> [overlong_penalty(n, 20, 4, 1.0) for n in (10, 16, 18, 20)]
        [0.0, 0.0, -0.5, -1.0]
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.overlong_penalty`).
    raise NotImplementedError("implement overlong_penalty — see exercises/04/README.md §1.4")


def repetition_penalty(text: str, ngram: int = 4) -> float:
    """Minus the share of word n-grams that repeat an earlier n-gram.

    Degenerate policies loop ("the answer is the answer is the answer is ..."). This
    penalty is 0 for text without repeats and approaches -1 for a loop.

    Definition (the tests check exactly this):

    * words = ``text.split()`` (whitespace, case-sensitive, punctuation stays on the word);
    * n-grams = every run of ``ngram`` consecutive words: ``len(words) - ngram + 1`` of them;
    * no n-gram at all (fewer words than ``ngram``) → ``0.0``;
    * penalty = ``-(total - distinct) / total``;
    * ``ngram < 1`` → ``ValueError``.

    Example:
        >>> repetition_penalty("a b c d a b c d")   # 4-grams: abcd bcda cdab dabc abcd → 1 repeat of 5
        -0.2
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.repetition_penalty`).
    raise NotImplementedError("implement repetition_penalty — see exercises/04/README.md §1.5")


def combine(components: Mapping[str, float], weights: Mapping[str, float]) -> dict[str, float]:
    """A weighted total under ``"score"``, plus every raw component (for logging).

    verl's reward managers accept ``compute_score`` results as dicts: ``"score"`` is the
    reward, and *every* key is logged as ``reward_extra_info`` — so return each component
    too, unweighted, or you will not see which term the policy is gaming.

    Rules:

    * ``score = sum(weights[k] * components[k] for k in components)``; an empty dict scores 0.0;
    * every component appears in the result, unchanged, as a ``float``;
    * a component without a weight, or a weight without a component (a typo), raises
      ``ValueError`` naming the key — silently dropping a term is the bug this prevents;
    * a component named ``"score"`` raises ``ValueError``.

    Example:
        >>> combine({"correct": 1.0, "format": 0.0, "length": -0.5},
        ...         {"correct": 1.0, "format": 0.2, "length": 0.5})
        {'score': 0.75, 'correct': 1.0, 'format': 0.0, 'length': -0.5}
    """
    # TODO: your implementation (stuck? `python grader.py hint 04.combine`).
    raise NotImplementedError("implement combine — see exercises/04/README.md §1.6")
