"""Stubs state the contract, not the recipe: no stub gives away its exercise's last hint or any line
of its reference solution's body (issue 16). The how stays in the lessons and the staged hints."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from verlings.chapters import Exercise, all_chapters
from verlings.paths import EXERCISES, SOLUTIONS

MIN_CODE = 20  # characters (whitespace removed) of a shared fragment that count as giving code away
CODE_CHARS = set("()[]=*/+<>")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _definitions(path: Path, names: tuple[str, ...]) -> dict[str, ast.AST]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.name: n
        for n in ast.walk(tree)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and n.name in names
    }


def _source(path: Path, node: ast.AST) -> str:
    return "\n".join(path.read_text(encoding="utf-8").splitlines()[node.lineno - 1 : node.end_lineno])


def _is_trivial(line: str) -> bool:
    """Lines any implementation (or a docstring's signature) shares: too short or pure syntax."""
    s = _squash(line)
    return (
        len(s) < MIN_CODE
        or line.startswith(("#", "def ", "class ", "import ", "from ", "@", "raise "))
        or line.startswith("super().__init__(")
        or not _looks_like_code(s)
    )


def _looks_like_code(s: str) -> bool:
    """An operation or a call with several arguments — not a bare name, a one-argument call
    (``register_adv_est(name)``: where it lives in verl is contract), a key or a message."""
    if re.fullmatch(r"\+?[\w.]+=[\w.\-/\[\],]+", s):
        return False  # a Hydra override (``algorithm.norm_adv_by_std_in_grpo=False``) is data, not code
    return bool(re.search(r"[=+\-*/<>]|\w\([^()]*,", s))


def _stub_methods(node: ast.AST) -> set[str] | None:
    """Methods of a stub class that are exercises (raise NotImplementedError); None for a function."""
    if not isinstance(node, ast.ClassDef):
        return None
    return {
        m.name
        for m in node.body
        if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
        and any(isinstance(n, ast.Raise) and "NotImplementedError" in ast.unparse(n) for n in ast.walk(m))
    }


def _body_lines(path: Path, node: ast.AST, only: set[str] | None = None) -> list[str]:
    """Non-trivial lines of a reference definition's body (docstrings and comments left out).

    For a class, ``only`` names the methods to read: those the stub leaves to the learner
    (code a stub gives, such as an ``__init__``, is the same in both by design).
    """
    if only is not None:
        return [
            line
            for m in node.body
            if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef) and m.name in only
            for line in _body_lines(path, m)
        ]
    body = list(node.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring
    lines = path.read_text(encoding="utf-8").splitlines()
    # a method's signature is part of the contract a stub class must show: not counted
    signature = {
        i
        for n in ast.walk(node)
        if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n is not node
        for i in range(n.lineno, n.body[0].lineno)
    }
    docstrings = {
        i
        for n in ast.walk(node)
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
        for i in range(n.lineno, n.end_lineno + 1)
    }
    out = []
    for stmt in body:
        for no in range(stmt.lineno, stmt.end_lineno + 1):
            code = lines[no - 1].split("  #")[0].strip()
            if code and no not in signature and no not in docstrings and not _is_trivial(code):
                out.append(code)
    return out


def _code_fragments(hint: str) -> list[str]:
    """The code-looking pieces of a hint: split on prose separators, keep what has code characters."""
    # quoted strings (metric keys, error messages, override names) are contract, not recipe
    hint = re.sub(r"f?'[^']*'|f?\"[^\"]*\"", " \x00 ", hint)
    pieces = re.split(r" — |；|; |。|: (?=[a-z])|, then | and then |\x00", hint)
    return [p.strip(" .`") for p in pieces if (set(p) & CODE_CHARS) and len(_squash(p)) >= MIN_CODE]


def _longest_shared(a: str, b: str) -> str:
    from difflib import SequenceMatcher

    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return a[m.a : m.a + m.size]


def _cases() -> list[tuple[Exercise, str]]:
    return [(ex, fn) for ch in all_chapters() for ex in ch.exercises for fn in ex.functions]


def _stub_and_reference(ex: Exercise, fn: str) -> tuple[str, Path, ast.AST | None, set[str] | None]:
    stub_path = EXERCISES / ex.chapter / f"{ex.module}.py"
    stub_node = _definitions(stub_path, (fn,)).get(fn)
    assert stub_node is not None, f"{stub_path.name}: no {fn} in the stub"
    ref_path = SOLUTIONS / ex.chapter / f"{ex.module}.py"
    return (_source(stub_path, stub_node), ref_path, _definitions(ref_path, (fn,)).get(fn), _stub_methods(stub_node))


@pytest.mark.parametrize(("ex", "fn"), _cases(), ids=lambda v: v.id if isinstance(v, Exercise) else v)
def test_stub_holds_no_line_of_the_reference(ex: Exercise, fn: str) -> None:
    stub, ref_path, ref, methods = _stub_and_reference(ex, fn)
    assert ref is not None, f"{ref_path}: no {fn} in the reference solution"
    squashed = _squash(stub)
    given = [line for line in _body_lines(ref_path, ref, methods) if _squash(line) in squashed]
    assert not given, (
        f"exercises/{ex.chapter}/{ex.module}.py `{fn}` spells out lines of the reference solution:\n  "
        + "\n  ".join(given)
        + "\nstate the contract (what) in the docstring; the how belongs to the lesson and hints"
    )


@pytest.mark.parametrize(("ex", "fn"), _cases(), ids=lambda v: v.id if isinstance(v, Exercise) else v)
def test_stub_holds_no_code_of_the_last_hint(ex: Exercise, fn: str) -> None:
    if not ex.hints:
        pytest.fail(f"{ex.id} has no staged hints")
    stub, _, _, _ = _stub_and_reference(ex, fn)
    squashed = _squash(stub)
    leaks = []
    for lang in ("en", "zh"):
        for piece in _code_fragments(ex.hints[-1].text(lang)):
            shared = _longest_shared(_squash(piece), squashed)
            if len(shared) >= MIN_CODE and _looks_like_code(shared):
                leaks.append(shared)
    assert not leaks, (
        f"exercises/{ex.chapter}/{ex.module}.py `{fn}` contains the code of {ex.id}'s last hint: "
        + ", ".join(sorted(set(leaks)))
    )


def test_the_checks_can_fail(tmp_path: Path) -> None:
    # the same checks, fed a stub that copies its reference: both must notice
    ref = SOLUTIONS / "03" / "masks.py"
    node = _definitions(ref, ("masked_mean",))["masked_mean"]
    lines = _body_lines(ref, node)
    assert lines, "masked_mean's reference has a non-trivial line"
    copied = _squash(_source(ref, node))
    assert all(_squash(line) in copied for line in lines)
    hint = next(e for c in all_chapters() for e in c.exercises if e.id == "03.masked_mean").hints[-1].en
    assert _code_fragments(hint), "the last hint of 03.masked_mean has code"
