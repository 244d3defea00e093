"""Chapter 07's run plumbing, without running verl: task, warm-start data, overrides, metrics.

The run itself is graded by ``exercises/07/test_agent_rl.py`` (07.training).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from verlings import target as target_mod
from verlings.agent_rl import launcher, metrics, plugin, task
from verlings.paths import SOLUTIONS


def test_held_out_products_are_never_trained_on():
    held = set(task.TASK.held_out())
    assert len(held) == task.TASK.n_held_out
    train = {(r["prompt"][0]["content"]) for r in task.make_rows(2000, seed=3)}
    sft = {r["messages"][0]["content"] for r in task.sft_rows(2000, seed=3)}
    questions = {task.question(a, b) for a, b in held}
    assert not (train | sft) & questions
    val = task.make_rows(16, seed=0, split="val")
    assert [r["prompt"][0]["content"] for r in val] == [task.question(a, b) for a, b in sorted(held)[:16]]
    assert all(r["reward_model"]["ground_truth"] == str(eval(r["prompt"][0]["content"][8:-1])) for r in val)


@pytest.mark.timeout(300)  # importing verl's SFT dataset (datasets, pyarrow) is slow on a busy machine
def test_warm_start_rows_train_the_call_and_the_answer_with_verls_sft_dataset(tmp_path):
    """verl's MultiTurnSFTDataset on the chapter's rows: the loss is on the assistant's tool call
    and final answer (with their end-of-turn tokens), nothing else; the sequence fits max_length."""
    import pandas as pd
    from omegaconf import OmegaConf
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    from verlings.agent_rl.warm_start import RECIPE
    from verlings.fixtures.tokenizer import local_tokenizer

    path = tmp_path / "sft.parquet"
    pd.DataFrame(task.sft_rows(4, seed=1)).to_parquet(path, index=False)
    tok = local_tokenizer()
    cfg = OmegaConf.create({"messages_key": "messages", "max_length": RECIPE.max_length, "pad_mode": "no_padding",
                            "truncation": "error"})
    ds = MultiTurnSFTDataset([str(path)], tok, cfg)
    row = task.sft_rows(4, seed=1)[0]
    item = ds[0]
    a_times_b = row["messages"][2]["content"]
    expression = row["messages"][1]["tool_calls"][0]["function"]["arguments"]["expression"]
    trained = tok.decode(item["input_ids"][item["loss_mask"].bool()])
    assert trained == ('<tool_call>\n{"name": "calculator", "arguments": {"expression": "' + expression
                       + '"}}\n</tool_call><|im_end|>\n' + a_times_b + "<|im_end|>\n")
    assert len(item["input_ids"]) <= RECIPE.max_length


def test_warm_start_drills_are_a_seeded_share_of_training_pairs():
    """The warm start's rows (ch07 §5.1): three in four are drills, each half "question -> call" and
    half "tool's answer -> answer" with no schema; the rest are whole conversations; never a held-out pair."""
    from verlings.agent_rl.warm_start import DRILLS_TASK, RECIPE
    from verlings.capstone import sft

    assert RECIPE.task == DRILLS_TASK and RECIPE.fp32 and not RECIPE.remove_padding
    rows = sft.ROW_MAKERS[DRILLS_TASK](2000, 1)
    assert rows == task.sft_rows_with_drills(2000, 1, drill_share=0.75)  # seeded: the same rows every time
    drills = [r for r in rows if r["tools"] == []]
    full = [r for r in rows if r["tools"] == [task.TOOL_SCHEMA]]
    assert len(drills) + len(full) == 2000 and abs(len(drills) / 2000 - 0.75) < 0.03
    calls = [r for r in drills if r["messages"][-1].get("tool_calls")]
    answers = [r for r in drills if r["messages"][1]["role"] == "tool"]
    assert len(calls) + len(answers) == len(drills) and abs(len(calls) / len(drills) - 0.5) < 0.05
    assert all(r["messages"][0] == {"role": "system", "content": ""} for r in drills)
    assert all(r["messages"][1]["content"] == r["messages"][2]["content"] for r in answers)  # the copy to learn
    held = {task.question(a, b) for a, b in task.TASK.held_out()}
    asked = {m["content"] for r in rows for m in r["messages"] if m["role"] == "user"}
    assert asked and not asked & held  # the answer drills carry no question: their pairs are drawn alike
    with pytest.raises(ValueError, match="unknown drill kind"):
        task.drill_rows(3, 4, "other")


def test_prompt_with_the_tool_schema_fits_the_graded_prompt_length():
    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    longest = max(task.TASK.held_out(), key=lambda p: len(task.question(*p)))
    ids = tok.apply_chat_template([{"role": "user", "content": task.question(999, 99)}], tools=[task.TOOL_SCHEMA],
                                  add_generation_prompt=True, tokenize=True)["input_ids"]
    assert len(ids) <= launcher.GRADED.max_prompt_length, longest
    whole = tok.apply_chat_template(task.conversation(999, 99), tools=[task.TOOL_SCHEMA], tokenize=True)["input_ids"]
    assert len(whole) - len(ids) <= launcher.GRADED.max_response_length


def _compose(overrides: list[str]):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    spec = importlib.util.find_spec("verl")
    config_dir = Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name="ppo_trainer", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("demo", [False, True])
def test_run_overrides_compose_and_validate_with_verl(tmp_path, demo):
    from verl.utils.config import validate_config

    from verlings.agent_rl.cli import DEMO
    from verlings.capstone.launcher import plan

    saved = target_mod.active()
    target_mod.set_active(SOLUTIONS)
    try:
        learner = target_mod.load_module("07", "agent_rl")
        tool_config = launcher.write_tool_config(learner, tmp_path)
        overrides = launcher.learner_overrides(learner, SOLUTIONS / "07" / "agent_rl.py", tool_config)
    finally:
        target_mod.set_active(saved)
    config = replace(launcher.GRADED, **DEMO) if demo else launcher.GRADED
    p = plan(config, tmp_path, "cpu", learner_overrides=overrides, python="py", model=tmp_path / "model",
             modules=[launcher.PLUGIN_MODULE])
    assert p.env["VERL_USE_EXTERNAL_MODULES"].endswith(launcher.PLUGIN_MODULE)
    cfg = _compose(p.command[3:])
    r = cfg.actor_rollout_ref.rollout
    assert r.multi_turn.enable is True and r.multi_turn.tool_config_path == str(tool_config)
    assert r.agent.default_agent_loop == "verlings_tool_agent" and r.multi_turn.max_assistant_turns == 2
    assert cfg.algorithm.adv_estimator == plugin.ESTIMATOR and cfg.trainer.experiment_name == "agent"
    assert cfg.reward.custom_reward_function.path == str(SOLUTIONS / "07" / "agent_rl.py")
    validate_config(config=cfg, use_reference_policy=False, use_critic=False)
    from verl.tools.tool_registry import initialize_tools_from_config

    target_mod.set_active(SOLUTIONS)
    try:
        (tool,) = initialize_tools_from_config(str(tool_config))
    finally:
        target_mod.set_active(saved)
    assert tool.name == "calculator" and type(tool).__module__.endswith("ch05.tools")


def test_agent_series_from_recorded_trajectories(tmp_path):
    def traj(step, split, calls, answers):
        return {"global_steps": step, "split": split, "turns": [{"text": "", "calls": calls}],
                "response_ids": answers}

    decode = {1: "<tool_response>\n12\n</tool_response>", 2: "<tool_response>\nError: no\n</tool_response>",
              0: ""}
    rows = [traj(1, "train", [{"name": "calculator"}], [1]), traj(1, "train", [], [0]),
            traj(2, "train", [{"name": "calculator"}], [2]), traj(2, "train", [{"name": "calculator"}], [1]),
            traj(2, "val", [], [0])]
    (tmp_path / "trajectories.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{cut", encoding="utf-8")
    series = metrics.agent_series(tmp_path, decode=lambda ids: "".join(decode[i] for i in ids))
    # step 1: 1 of 2 trajectories called; its one answer is a number. step 2: 2 of 2; 1 of 2 answers
    assert series[metrics.TOOL_CALL_RATE] == [[1, 0.5], [2, 1.0]]
    assert series[metrics.TOOL_SUCCESS_RATE] == [[1, 1.0], [2, 0.5]]
    assert series[metrics.VAL_TOOL_CALL_RATE] == [[2, 0.0]]


def test_cli_refuses_bad_steps(capsys):
    from verlings.agent_rl.cli import main

    assert main(["--solutions", "--steps", "0"]) == 2
    assert "--steps" in capsys.readouterr().out
