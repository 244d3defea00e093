"""Failure messages: the pair at the max, a row's inputs, causes named only where isolated, Chinese lines."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from verlings.dev.mutants import Mutant, wrong_causes
from verlings.messages import CAUSE_EN, CAUSES, cause_line, named_causes, translate
from verlings.messages_zh import WHY_ZH
from verlings.paths import EXERCISES, ROOT
from verlings.report import why_lines
from verlings.testing import assert_close, matches


def _message(seen, expected, **kwargs) -> str:
    with pytest.raises(AssertionError) as info:
        assert_close(seen, expected, what="x", **kwargs)
    return str(info.value)


def test_the_pair_shown_is_the_pair_at_the_max():
    # Two misses: 0.1 at [0, 0] (the first) and 42 at [1, 2] (the largest). Issue 16 saw the
    # first pair printed next to the max; the pair must be the one at the max.
    expected = torch.zeros(2, 4)
    seen = expected.clone()
    seen[0, 0], seen[1, 2] = 0.1, 42.0
    text = _message(seen, expected)
    assert "max |Δ| 42 at [1, 2]" in text, text
    assert "expected: 0   seen: 42" in text, text


def test_nan_counts_as_the_largest_miss():
    seen = torch.tensor([0.5, float("nan"), 0.0])
    text = _message(seen, torch.zeros(3))
    assert "at [1]" in text and "seen: nan" in text, text


def test_row_inputs_are_shown_and_cut_to_fit():
    expected = torch.zeros(3, 200)
    seen = expected.clone()
    seen[2, 150] = 1.0
    rewards = torch.arange(600, dtype=torch.float32).reshape(3, 200)
    text = _message(seen, expected, inputs={"rewards": rewards, "uid": np.array(["a", "b", "c"])})
    lines = text.splitlines()
    assert "  inputs of row 2:" in lines
    row = next(line for line in lines if line.startswith("    rewards:"))
    assert "[550]" in row, "the column of the max is marked"
    assert row.startswith("    rewards: … ") and row.endswith(" …") and len(row) <= 80, row
    assert "    uid: c" in lines


def test_cause_is_named_only_when_asked():
    text = _message(torch.ones(2), torch.zeros(2), why="the golden batch", cause="grpo_population_std")
    assert named_causes(text) == {"grpo_population_std"}
    assert named_causes(_message(torch.ones(2), torch.zeros(2), why="the golden batch")) == set()
    with pytest.raises(KeyError, match="unknown cause"):
        cause_line("no_such_cause")


def test_matches_is_assert_close_as_a_question():
    assert matches(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0 + 1e-7]))
    assert not matches(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]))
    assert not matches(torch.zeros(2), torch.zeros(3))


def test_a_test_that_blames_another_cause_is_reported():
    mutant = Mutant("grpo_population_std", "03.grpo", "advantages", "")
    messages = {
        "t.py::test_a": "x differs\n  " + cause_line("grpo_population_std"),
        "t.py::test_b": "x differs\n  " + cause_line("grpo_groups_by_position"),
        "t.py::test_c": "x differs\n  the golden batch reshuffled",
    }
    assert wrong_causes(mutant, messages) == ["test_b names grpo_groups_by_position"]
    declared = Mutant("some_name", "03.grpo", "advantages", "", mistake="grpo_groups_by_position")
    assert wrong_causes(declared, {"t.py::test_b": messages["t.py::test_b"]}) == []


def _causes_used() -> dict[str, set[str]]:
    """Graded test module -> the cause keys it names."""
    used: dict[str, set[str]] = {}
    for path in EXERCISES.glob("*/test_*.py"):
        text = path.read_text(encoding="utf-8")
        keys = set(re.findall(r"""cause=["']([a-z0-9_]+)["']""", text)) | {k for k in CAUSES if f'"{k}"' in text}
        if keys:
            used[f"{path.parent.name}/{path.stem}"] = keys
    return used


def test_causes_used_by_graded_tests_exist_and_their_mutants_are_checked():
    used = _causes_used()
    assert used, "chapter 03's GRPO tests name causes"
    for module, keys in used.items():
        assert keys <= set(CAUSES), f"{module}: unknown causes {keys - set(CAUSES)}"
        chapter, test_module = module.split("/")
        mutants = ROOT / "tests" / f"test_mutants_{chapter}_{test_module.removeprefix('test_')}.py"
        assert mutants.is_file() and "caught(" in mutants.read_text(), (
            f"{module} names causes: its mutants must run through verlings.dev.mutants.caught, which checks them"
        )


def test_why_lines_keep_the_cause_and_drop_the_hint_pointer():
    message = (
        "AssertionError: x: 2 of 9 values differ (max |Δ| 1 at [1, 2])\n  expected: 0   seen: 1\n"
        "  inputs of row 1:\n"
        + "".join(f"    v{i}: 1 2 3\n" for i in range(12))
        + "  the golden batch\n  "
        + cause_line("grpo_population_std")
        + "\n  hint: python grader.py hint 03.grpo"
    )
    lines = why_lines(message)
    assert lines[0].startswith("x: 2 of 9 values differ") and lines[-1].strip().startswith(CAUSE_EN)
    assert not any("grader.py hint" in line for line in lines)


def test_chinese_translates_the_short_lines_and_keeps_values():
    assert (
        translate("  " + cause_line("grpo_population_std"), "zh")
        == "  可能的原因：" + CAUSES["grpo_population_std"]["zh"]
    )
    zh = translate("x: 2 of 9 values differ (max |Δ| 1 at [1, 2])", "zh")
    assert zh == "x：9 个值中有 2 个不同（最大 |Δ| 1，位于 [1, 2]）"
    assert translate("  expected: 0   seen: 1", "zh") == "  expected: 0   seen: 1", "values stay as they are"
    assert translate("  an unknown line", "zh") == "  an unknown line"
    assert translate("  an unknown line", "en") == "  an unknown line"
    for en, zh in WHY_ZH.items():  # the harness's own lines and every graded test's why-lines
        assert translate("  " + en, "zh") == "  " + zh, en
    harness = (  # verlings.testing.assert_close's own lines
        "masked positions are right; the valid tokens are not",
        "the differences are only where the mask is 0 — are masked positions handled?",
        "your result has NaN where none is expected (0/0, inf - inf, 0 * inf or log of 0?)",
    )
    for en in harness:
        assert en in (ROOT / "verlings" / "testing.py").read_text(encoding="utf-8"), en
        assert re.search(r"[\u4e00-\u9fff]", translate(en, "zh")), en


def test_chapter_03_why_lines_have_chinese():
    # --lang zh translates the short why-lines; chapter 03 is covered line by line (a line missing
    # from verlings/messages_zh.py shows in English: add it there).
    import ast

    missing = []
    for path in sorted((EXERCISES / "03").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "why"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
                and node.value.value not in WHY_ZH
            ):
                missing.append(f"{path.name}: {node.value.value}")
    assert not missing, "why-lines without Chinese:\n  " + "\n  ".join(missing)
