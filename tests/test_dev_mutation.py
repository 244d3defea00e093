"""python -m verlings.dev mutation: mutmut's operators on a reference module, and the equivalents file
names only mutants that still exist (a stale entry would hide nothing and mislead)."""

import pytest

from verlings.dev import mutation  # needs mutmut==2.5.1 (pyproject's dev extra)


def test_mutations_are_single_line_edits_of_the_reference():
    found = mutation.mutations("02/gsm8k_reward")
    assert len(found) > 20
    for m in found:
        assert m.before != m.after, m
        compile(m.source, m.module, "exec")
    assert any(m.before == "CLIP_CHARS = 300" and m.after == "CLIP_CHARS = 301" for m in found)


# mutmut regenerates the mutants of each recorded line: seconds, more at load 30.
@pytest.mark.timeout(300)
def test_every_recorded_equivalent_is_a_current_mutant_with_a_reason():
    equivalents = mutation.load_equivalents()
    assert equivalents, "the equivalents file is empty or missing"
    lines: dict[str, set[str]] = {}
    for module, before, _ in equivalents:
        lines.setdefault(module, set()).add(before)
    # only the recorded lines are mutated (the same keys, seconds instead of minutes)
    current = {m.key for module, befores in lines.items() for m in mutation.mutations(module, befores)}
    stale = [key for key in equivalents if key not in current]
    assert not stale, f"equivalents that match no mutant of the current reference (update or remove): {stale}"
    assert all(reason.strip() for reason in equivalents.values())


def test_module_selection():
    assert mutation.modules_of(["02.gsm8k_reward"]) == ["02/gsm8k_reward"]
    chapter = mutation.modules_of(["02"])
    assert "02/gsm8k_reward" in chapter and "02/reward_manager" in chapter
    with pytest.raises(SystemExit):
        mutation.modules_of(["02/no_such_module"])


def test_the_score_leaves_equivalents_out():
    r = mutation.ModuleResult("x")
    m = mutation.Mutation("x", 1, "a", "b", "")
    r.killed += [m] * 9
    r.survived.append(m)
    r.equivalent += [m] * 5
    assert r.score == 0.9
