"""Known-wrong chapter-05 pieces that a real chapter-07 run must catch (issue 15).

Each variant (``verlings/agent_rl/sick.py``) is chapter 05's reference with one classic
mistake — a parser that finds no calls, a loop that masks tool output as 1, a loop that
re-templates the conversation. Each goes through ``07.training``: a real verl multi-turn GRPO run
with the broken piece (minutes each on two cores), whose graded checks on the trained batch must
fail — the check that explains the mistake among them.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from verlings.agent_rl.sick import EXERCISE, MUTANTS, build_target
from verlings.dev.mutants import graded_failures

# The graded test that names each mistake: the one a learner with this bug should be sent to.
EXPECTED = {
    "parser_finds_no_calls": "test_tool_calls_in_the_batch_were_parsed_by_your_parser",
    "tool_output_mask_1": "test_response_mask_is_1_on_model_tokens_and_0_on_tool_tokens",
    "retemplating_loop": "test_token_sequence_equals_the_template_where_the_lesson_says",
}


def _engine_or_skip() -> None:
    from verlings.capstone.launcher import engine_missing

    missing = engine_missing()
    if missing:
        pytest.skip(missing)  # the same reason 07.training itself is skipped for


def test_every_variant_names_the_test_that_must_catch_it():
    assert set(EXPECTED) == set(MUTANTS)
    source = (Path(__file__).resolve().parents[1] / "exercises" / "07" / "test_agent_rl.py").read_text()
    for test in EXPECTED.values():
        assert f"def {test}(" in source, f"{test} is no longer a graded test of chapter 07"


@pytest.mark.slow
@pytest.mark.timeout(3000)
@pytest.mark.parametrize("name", sorted(MUTANTS))
def test_a_real_run_catches(name):
    _engine_or_skip()
    mutant = MUTANTS[name]
    with tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
        failed, passed = graded_failures(build_target(mutant, Path(tmp)), EXERCISE)
    names = {nodeid.split("::")[-1] for nodeid in failed}
    assert names, f"no graded test of {EXERCISE} fails on the known-wrong variant {name!r} (passed: {passed})"
    assert EXPECTED[name] in names, (
        f"{name!r} made {sorted(names)} fail, but not {EXPECTED[name]}, the test whose message explains it"
    )
