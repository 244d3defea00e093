"""Reference solutions: rule-based rewards (boxed answers, math equality, format, length, repetition)."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from fractions import Fraction

BOXED = "\\boxed{"


def last_boxed(text: str) -> str | None:
    # Like verl's math_dapo.last_boxed_only_string + remove_boxed: only the LAST "\boxed{"
    # counts (a model often boxes a draft first), and braces are counted, not regex-matched,
    # because answers such as \frac{1}{2} nest them. An unclosed last box is no answer.
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
    return None


# --- math_equal ---------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_FRAC = re.compile(r"([-+]?)\\frac\{([^{}]+)\}\{([^{}]+)\}")
_FRAC_SHORT = re.compile(r"([-+]?)\\frac(\d)(\d)")
_SLASH = re.compile(r"([-+]?[\d.]+)/([\d.]+)")
_TEXT = re.compile(r"\\(?:text|mbox|mathrm|textbf)\{[^{}]*\}")
_UNIT_TAIL = re.compile(r"^(.*?[\d}])\s+[A-Za-z][A-Za-z\s.]*$")


def _clean(s: str) -> str:
    s = s.strip()
    for old, new in (("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\left", ""), ("\\right", ""),
                     ("{,}", ","), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""), ("~", ""),
                     ("^{\\circ}", ""), ("^\\circ", ""), ("°", ""), ("\\%", ""), ("%", ""), ("\\$", ""), ("$", "")):
        s = s.replace(old, new)
    s = _TEXT.sub("", s).strip()  # \text{ cm}: units and words, never the value
    m = _UNIT_TAIL.match(s)  # "12 apples" -> "12"
    if m:
        s = m.group(1)
    return s.replace(" ", "")


def _number(s: str) -> Fraction | None:
    """The exact value of a plain number, a/b, \\frac{a}{b} or \\frac12 (None if it is something else)."""
    if _THOUSANDS.fullmatch(s):
        s = s.replace(",", "")
    if _NUMBER.fullmatch(s):
        return Fraction(s)
    for pattern in (_FRAC, _FRAC_SHORT):
        m = pattern.fullmatch(s)
        if m:
            num, den = _number(m.group(2)), _number(m.group(3))
            if num is None or den is None or den == 0:
                return None
            value = num / den
            return -value if m.group(1) == "-" else value
    m = _SLASH.fullmatch(s)
    if m and _NUMBER.fullmatch(m.group(1)) and _NUMBER.fullmatch(m.group(2)) and Fraction(m.group(2)) != 0:
        return Fraction(m.group(1)) / Fraction(m.group(2))
    return None


def _math_verify_equal(pred: str, truth: str) -> bool:
    # Symbolic fallback (\sqrt{2} vs 2^{1/2}, sets, intervals...). math-verify's timeouts use
    # SIGALRM, which only works in the main thread; verl calls rewards from worker threads.
    if len(pred) > 500 or len(truth) > 500:
        return False
    try:
        from math_verify import parse, verify
    except ImportError:  # optional: the numeric rules above are the contract
        return False
    limit = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        gold = parse(f"${truth}$", parsing_timeout=limit)
        guess = parse(f"${pred}$", parsing_timeout=limit)
        return bool(gold and guess and verify(gold, guess, timeout_seconds=limit))
    except Exception:
        return False


def math_equal(pred: str | None, truth: str) -> bool:
    if pred is None:
        return False
    a, b = _clean(pred), _clean(truth)
    if not a or not b:
        return False
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return x == y  # exact: Fraction("0.5") == Fraction(1, 2), 0.333 != 1/3
    return a == b or _math_verify_equal(pred, truth)


# --- shaping terms ------------------------------------------------------------------------------


def format_reward(response: str, pattern: str | re.Pattern) -> float:
    # fullmatch, not search: text before or after the required structure breaks the format.
    # DOTALL: a <think> block spans lines, and "." must match "\n" inside it.
    regex = pattern if isinstance(pattern, re.Pattern) else re.compile(pattern, re.DOTALL)
    return 1.0 if regex.fullmatch(response.strip()) else 0.0


def overlong_penalty(
    response_length: int, max_response_length: int, overlong_buffer_len: int, penalty_factor: float
) -> float:
    if overlong_buffer_len <= 0:
        raise ValueError(f"overlong_buffer_len must be positive, got {overlong_buffer_len}")
    if max_response_length < overlong_buffer_len:
        raise ValueError(
            f"max_response_length ({max_response_length}) must be at least overlong_buffer_len ({overlong_buffer_len})"
        )
    # DAPO (verl's DAPORewardManager): free up to max - buffer, then a linear ramp down to
    # -penalty_factor at max_response_length. Never a bonus: min(..., 0).
    expected_len = max_response_length - overlong_buffer_len
    exceed_len = response_length - expected_len
    return float(min(-exceed_len / overlong_buffer_len * penalty_factor, 0.0))


def repetition_penalty(text: str, ngram: int = 4) -> float:
    if ngram < 1:
        raise ValueError(f"ngram must be at least 1, got {ngram}")
    words = text.split()
    grams = [tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]
    if not grams:
        return 0.0
    # The share of n-grams that repeat an earlier one, as a penalty (<= 0).
    return -(len(grams) - len(set(grams))) / len(grams)


def combine(components: Mapping[str, float], weights: Mapping[str, float]) -> dict[str, float]:
    if "score" in components:
        raise ValueError("a component may not be called 'score': that key holds the weighted total")
    missing = [k for k in components if k not in weights]
    unused = [k for k in weights if k not in components]
    if missing:
        raise ValueError(f"no weight for component(s) {missing}; weights are given for {sorted(weights)}")
    if unused:
        raise ValueError(f"weight(s) for unknown component(s) {unused} (a typo?); components are {sorted(components)}")
    total = sum(float(weights[k]) * float(v) for k, v in components.items())
    # Every raw component goes along (unweighted) so that verl logs each one as a metric.
    return {"score": total, **{k: float(v) for k, v in components.items()}}
