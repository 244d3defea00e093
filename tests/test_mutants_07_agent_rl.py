"""Known-wrong variants of exercises/07/agent_rl.py's fast exercises: each must fail a graded test.

``07.tool_config``, ``07.overrides`` and ``07.reward`` take seconds (verl's tool loader, verl's
Hydra config, hand-made trajectories). ``07.training``'s variants are real runs:
``tests/test_mutants_07_agent_run.py`` (slow).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

MODULE = "agent_rl"
ENTRY = '"class_name": class_name, "config": {"type": "native"}, "tool_schema": tool_schema'

MUTANTS = [
    # --- 07.tool_config
    Mutant(
        "tool_config_class_is_a_constant",
        "07.tool_config",
        MODULE,
        replace={ENTRY: ENTRY.replace("class_name,", '"verlings.agent_rl.learner_tools.CalculatorTool",')},
    ),
    Mutant(
        "tool_config_type_function",
        "07.tool_config",
        MODULE,
        replace={ENTRY: ENTRY.replace('"type": "native"', '"type": "function"')},
    ),
    Mutant(
        "tool_config_without_the_tools_key",
        "07.tool_config",
        MODULE,
        replace={'return {"tools": [{' + ENTRY + "}]}": "return [{" + ENTRY + "}]"},
    ),
    # --- 07.overrides
    Mutant(
        "overrides_max_turns_a_constant",
        "07.overrides",
        MODULE,
        replace={'f"{r}.multi_turn.max_assistant_turns={max_turns}",': 'f"{r}.multi_turn.max_assistant_turns=3",'},
    ),
    Mutant(
        "overrides_user_turns_not_assistant_turns",
        "07.overrides",
        MODULE,
        replace={'f"{r}.multi_turn.max_assistant_turns={max_turns}",': 'f"{r}.multi_turn.max_user_turns={max_turns}",'},
    ),
    Mutant(
        "overrides_multi_turn_not_enabled",
        "07.overrides",
        MODULE,
        replace={'        f"{r}.multi_turn.enable=True",\n': ""},
    ),
    # --- 07.reward
    Mutant(
        "reward_counts_the_tools_number",
        "07.reward",
        MODULE,
        replace={"tail = solution_str.rsplit(TOOL_RESPONSE_END, 1)[-1]": "tail = solution_str"},
    ),
    Mutant(
        "reward_compares_strings",
        "07.reward",
        MODULE,
        replace={"int(answer) == int(ground_truth)": "answer == ground_truth"},
    ),
    Mutant(
        "reward_returns_a_float",
        "07.reward",
        MODULE,
        replace={'return {"score": score, "acc": correct}': "return score"},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
