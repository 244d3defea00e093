"""The GSM8K rule reward — the function that turns a model's text into a number.

Lesson: exercises/02/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1: ``verl/utils/reward_score/gsm8k.py`` (``extract_solution``,
``compute_score``). Your version must give verl's result on every input, quirks included:
the RL run you train later is judged by verl's scorer, not by a nicer one.

A completion is a plain string (the decoded response tokens). The ground truth is the
string verl's preprocessing stored in ``reward_model.ground_truth``: digits, an optional
``-`` and ``.``, no commas (see ``gsm8k_data.extract_gsm8k_answer``).
"""

from __future__ import annotations

import re  # you will need it

CLIP_CHARS = 300  # verl searches only the last 300 characters of a completion


def extract_solution(solution_str: str, method: str = "strict") -> str | None:
    """The answer a completion commits to, or ``None``.

    Args:
        solution_str: the decoded response.
        method: ``"strict"`` or ``"flexible"`` (anything else: ``ValueError``; verl asserts).

    Returns:
        * First keep only the last :data:`CLIP_CHARS` characters when the string is longer
          (regexes on huge outputs are slow, and the answer is at the end).
        * ``"strict"``: all matches of ``#### (-?[0-9.,]+)`` (one space after ``####``);
          ``None`` if there are none, else the **last** match with ``,`` and ``$`` removed.
        * ``"flexible"``: all matches of ``(-?[0-9.,]+)`` anywhere; ``None`` if there are
          none, else the last match that is not ``"."`` (commas are *kept* here). If every
          match is ``"."``, verl's loop ends on the first match, so return that.

    Example:
        >>> extract_solution("#### 5\\nWait, fix: #### 1,200")
        '1200'
        >>> extract_solution("The answer is #### $18")   # the pattern has no '$': no match
        >>> extract_solution("I got 5, then 72.", method="flexible")
        '72.'
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.extract_solution`).
    raise NotImplementedError("implement extract_solution — see exercises/02/README.md §3.1")


def compute_score(
    solution_str: str, ground_truth: str, method: str = "strict", format_score: float = 0.0, score: float = 1.0
) -> float:
    """verl's GSM8K reward: ``score`` for the right answer, ``format_score`` for a wrong one.

    Args:
        solution_str: the decoded response.
        ground_truth: the reference answer string (no commas), e.g. ``"1200"``.
        method: passed to :func:`extract_solution`.
        format_score: paid when an answer was extracted but is wrong (rewards the format).
        score: paid when the extracted answer equals ``ground_truth``.

    Returns:
        ``0`` when nothing was extracted (no format score!), ``score`` when the extracted
        string ``== ground_truth`` (string equality: ``"72."`` is not ``"72"``), else
        ``format_score``.

    Example:
        >>> compute_score("#### 1,200", "1200"), compute_score("#### 7", "1200", format_score=0.1)
        (1.0, 0.1)
        >>> compute_score("no idea", "1200", format_score=0.1)
        0
    """
    # TODO: your implementation (stuck? `python grader.py hint 02.compute_score`).
    raise NotImplementedError("implement compute_score — see exercises/02/README.md §3.2")
