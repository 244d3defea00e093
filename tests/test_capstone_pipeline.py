"""The demo's pipeline without a training run: held-out split, warm-start cache and its bad
inputs, the estimator checks that stop a run with the learner's error, export and evaluation."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from verlings.capstone import launcher, learner_checks, probe
from verlings.capstone.data import TASK, make_rows, sft_rows
from verlings.capstone.sft import DEMO_RECIPE, Recipe, WarmStartError, check_checkpoint
from verlings.paths import SOLUTIONS

# --- held-out means never trained on ------------------------------------------------------------


def _pair(row: dict) -> tuple[str, str]:
    text = (row["prompt"][0] if "prompt" in row else row["messages"][0])["content"]
    a, b = re.findall(r"\d+", text)[:2]  # the two operands come first in every task's question
    return a, b


def test_held_out_prompts_never_appear_in_training_rows():
    train, held_out = TASK.pairs()
    assert len(held_out) == TASK.held_out and not set(train) & set(held_out)
    assert len(train) + len(held_out) == (TASK.high - TASK.low + 1) ** 2
    val = {_pair(r) for r in make_rows(TASK.held_out, seed=0, split="val")}
    rl = {_pair(r) for seed in (1, 2, 3) for r in make_rows(256, seed=seed, split="train")}
    sft = {_pair(r) for r in sft_rows(4096, seed=1)}
    assert len(val) == TASK.held_out and not val & rl and not val & sft


def test_sft_rows_are_conversations_with_the_right_answer():
    row = sft_rows(3, seed=1)[0]
    user, assistant = row["messages"]
    a, b = _pair(row)
    assert user["role"] == "user" and assistant == {"role": "assistant", "content": TASK.answer(int(a), int(b))}


def test_the_demo_task_asks_for_the_larger_digit_and_the_reward_scores_it():
    from verlings.capstone.data import ADD, MAX, Task
    from verlings.target import load_module

    assert TASK is MAX and DEMO_RECIPE.task == MAX.name
    assert MAX.question(7, 5) == "Which is larger, 7 or 5? Answer with digits only."
    # worked by hand: max(7, 5) = 7, max(2, 9) = 9, max(3, 3) = 3; the former task: 7 + 5 = 12
    assert [MAX.answer(7, 5), MAX.answer(2, 9), MAX.answer(3, 3), ADD.answer(7, 5)] == ["7", "9", "3", "12"]
    assert MAX.pairs() == ADD.pairs()  # the same split of the same 100 pairs: only the question changed
    # the learner's reward (chapter 04 pieces) reads the last number: right, wrong, and no number
    score = load_module("06", "capstone", root=SOLUTIONS).compute_score
    acc = [score("verlings/arith", text, MAX.answer(2, 9))["acc"] for text in ("9", "2", "nine")]
    assert acc == [1.0, 0.0, 0.0], acc
    # split="commutative" holds out only pairs whose swapped pair is trained on
    train, held = Task(split="commutative").pairs()
    assert len(held) == 32 and all(a != b and (b, a) in train for a, b in held) and not set(train) & set(held)


# --- the lesson states the demo's own settings ------------------------------------------------------

LESSON = Path(__file__).resolve().parent.parent / "exercises" / "06"


def _sft_command_settings(text: str) -> dict[str, str]:
    """``key=value`` pairs of the lesson's ``verl.trainer.sft_trainer`` command (§5.1)."""
    block = next(b for b in text.split("```") if "verl.trainer.sft_trainer" in b)
    return dict(tok.split("=", 1) for tok in block.replace("\\\n", " ").split() if "=" in tok)


@pytest.mark.parametrize("lesson", ["README.md", "README.zh-CN.md"])
def test_lesson_shows_the_demos_recipe_and_steps(lesson):
    """§5.1 and §6 quote the warm start's recipe and the demo's GRPO settings: a change of the
    defaults (sft.Recipe, cli.DEMO/DEMO_STEPS) must reach both lessons, whose tables measure them."""
    from verlings.capstone.cli import DEMO, DEMO_STEPS

    text = (LESSON / lesson).read_text(encoding="utf-8")
    seen = _sft_command_settings(text)
    recipe = DEMO_RECIPE
    assert float(seen["optim.lr"]) == recipe.lr, (seen["optim.lr"], recipe.lr)
    assert int(seen["data.train_batch_size"]) == recipe.batch_size
    assert int(seen["trainer.total_training_steps"]) == recipe.steps
    assert seen["model.use_remove_padding"] == str(recipe.remove_padding), "§5.1 should show the packing setting"
    assert f"{recipe.n_rows}" in text
    steps = f"{DEMO_STEPS} GRPO steps" if lesson == "README.md" else f"{DEMO_STEPS} 步 GRPO"
    assert steps in text, f"{lesson} §6 should say the demo runs {DEMO_STEPS} GRPO steps"
    lr = f"lr={DEMO['lr']:.0e}".replace("e-0", "e-")  # 3e-4, as the lesson writes it
    assert f"`{lr}`" in text, f"{lesson} §6 should give the demo's GRPO learning rate as `{lr}`"


# --- the warm start's cache and its bad inputs ------------------------------------------------------


def test_recipe_key_changes_with_every_setting():
    base = Recipe()
    assert base.key() == Recipe().key()
    for change in ({"steps": 1}, {"lr": 1e-4}, {"seed": 9}, {"n_rows": 8}, {"task": "other"}, {"model": "v0"},
                   {"remove_padding": False}, {"fp32": True}):
        assert Recipe(**{**asdict(base), **change}).key() != base.key(), change


def test_recipes_made_before_the_packing_field_keep_their_key():
    # verl's default (packed rows) is left out of the record, so warm starts cached before the
    # field existed (chapter 07's, the recorded sick runs') are still found and still match
    assert "remove_padding" not in Recipe().record() and DEMO_RECIPE.record()["remove_padding"] is False
    assert "fp32" not in Recipe().record() and Recipe(fp32=True).record()["fp32"] is True
    assert DEMO_RECIPE.key() != Recipe().key()


def test_packed_rows_attend_across_sequences_under_sdpa():
    """Why the demo turns verl's packing off. verl feeds a packed row (attention_mask=None,
    position_ids restarting per sequence) and leaves the separation to flash-attn's varlen kernels;
    under sdpa the second sequence sees the first. A padded row with a mask does not. If a later
    transformers learns to read packed position_ids under sdpa, the first assertion fails: then
    packing is safe again and the demo's setting can be revisited."""
    from transformers import AutoModelForCausalLM

    from verlings.capstone.model import model_path

    model = AutoModelForCausalLM.from_pretrained(str(model_path()), attn_implementation="sdpa", dtype=torch.float32)
    model.eval()
    first, second = torch.arange(10, 17)[None], torch.arange(40, 45)[None]
    with torch.no_grad():
        alone = model(input_ids=second).logits
        packed = model(input_ids=torch.cat([first, second], 1),
                       position_ids=torch.cat([torch.arange(7), torch.arange(5)])[None]).logits[:, 7:]
        padded = model(input_ids=torch.cat([second, torch.zeros(1, 2, dtype=torch.long)], 1),
                       attention_mask=torch.tensor([[1] * 5 + [0] * 2])).logits[:, :5]
    assert not torch.allclose(packed, alone, atol=1e-4), "packed rows no longer leak under sdpa (see docstring)"
    assert torch.allclose(padded, alone, atol=1e-4)


def _fake_warm_start(folder: Path, recipe: Recipe) -> Path:
    from verlings.capstone.model import build_model

    model, tok = build_model()
    model.save_pretrained(folder / "hf")
    tok.save_pretrained(folder / "hf")
    (folder / "recipe.json").write_text(json.dumps(recipe.record()))
    return folder


def test_a_good_warm_start_is_accepted(tmp_path):
    recipe = Recipe()
    folder = _fake_warm_start(tmp_path / "ws", recipe)
    assert check_checkpoint(folder, recipe) == folder / "hf"


def test_missing_warm_start_names_the_fix(tmp_path):
    with pytest.raises(WarmStartError, match="--rebuild-warm-start"):
        check_checkpoint(tmp_path / "nothing", Recipe())


def test_corrupt_warm_start_names_the_fix(tmp_path):
    recipe = Recipe()
    folder = _fake_warm_start(tmp_path / "ws", recipe)
    weights = next((folder / "hf").glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:100])  # truncated mid-header
    with pytest.raises(WarmStartError, match=r"corrupt.*--rebuild-warm-start"):
        check_checkpoint(folder, recipe)
    weights.unlink()
    with pytest.raises(WarmStartError, match="incomplete"):
        check_checkpoint(folder, recipe)


def test_warm_start_of_another_recipe_is_never_reused(tmp_path):
    folder = _fake_warm_start(tmp_path / "ws", Recipe(steps=7))
    with pytest.raises(WarmStartError, match="another recipe"):
        check_checkpoint(folder, Recipe())
    (folder / "recipe.json").unlink()  # no record at all: not ours either
    with pytest.raises(WarmStartError, match="another recipe"):
        check_checkpoint(folder, Recipe())


def test_warm_start_uses_the_cache_and_never_retrains_silently(tmp_path, monkeypatch):
    from verlings.capstone import sft

    monkeypatch.setenv("VERLINGS_CACHE", str(tmp_path / "cache"))
    recipe = Recipe(steps=3)
    _fake_warm_start(sft.cache_dir(recipe), recipe)
    monkeypatch.setattr(sft.subprocess, "run", lambda *a, **k: pytest.fail("must not train: the cache is valid"))
    assert sft.warm_start(recipe) == sft.cache_dir(recipe) / "hf"
    (sft.cache_dir(recipe) / "recipe.json").write_text("{}")  # damaged: an error, not a silent retrain
    with pytest.raises(WarmStartError):
        sft.warm_start(recipe)


def test_two_processes_needing_one_warm_start_make_it_once(tmp_path, monkeypatch):
    """Two pytest-xdist workers (here two threads: flock locks are per open file) asking for the same
    recipe at once: one trains, the other waits on the lock, says so, and takes the cached result."""
    import threading
    import time

    from verlings.capstone import sft

    monkeypatch.setenv("VERLINGS_CACHE", str(tmp_path / "cache"))
    recipe = Recipe(steps=2, n_rows=8)
    trained = []

    def fake_trainer(cmd, cwd, **kwargs):
        trained.append(cwd)
        time.sleep(1.0)  # long enough for the other thread to reach the lock
        _fake_warm_start(Path(cwd) / "checkpoints" / f"global_step_{recipe.steps}", recipe)
        hf = Path(cwd) / "checkpoints" / f"global_step_{recipe.steps}" / "hf"
        hf.rename(hf.with_name("huggingface"))
        return __import__("subprocess").CompletedProcess(cmd, 0)

    monkeypatch.setattr(sft.subprocess, "run", fake_trainer)
    results, lines = [], []
    threads = [threading.Thread(target=lambda: results.append(sft.warm_start(recipe, log=lines.append)))
               for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.2)
    for t in threads:
        t.join(timeout=60)
    assert len(trained) == 1, f"the warm start was trained {len(trained)} times"
    assert results == [sft.cache_dir(recipe) / "hf"] * 2
    assert any("another process is making it" in line for line in lines), lines


@pytest.mark.parametrize(("flag", "seed"), [([], 1), (["--sft-seed", "2"], 2)])
def test_capstone_sft_seed_picks_the_demo_recipe_with_that_seed(tmp_path, monkeypatch, flag, seed):
    from dataclasses import replace

    from verlings.capstone import cli, sft

    monkeypatch.setenv("VERLINGS_CACHE", str(tmp_path / "cache"))
    recipe = replace(sft.DEMO_RECIPE, seed=seed)  # only the seed differs from the demo's (padded rows kept)
    _fake_warm_start(sft.cache_dir(recipe), recipe)
    monkeypatch.setattr(sft.subprocess, "run", lambda *a, **k: pytest.fail("must not train: the cache is valid"))
    args = cli.build_parser().parse_args(["--solutions", *flag])
    assert cli._warm_start(args) == sft.cache_dir(recipe) / "hf"


@pytest.mark.parametrize("which", ["capstone", "agent"])
def test_sft_command_composes_with_verls_sft_config(tmp_path, which):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from verlings.agent_rl.warm_start import RECIPE as AGENT_RECIPE

    recipe = DEMO_RECIPE if which == "capstone" else AGENT_RECIPE
    cmd, env = __import__("verlings.capstone.sft", fromlist=["command"]).command(recipe, tmp_path)
    assert cmd[1:3] == ["-m", "torch.distributed.run"] and "verl.trainer.sft_trainer" in cmd
    assert env["VERL_PLATFORM"] == "cpu" and "verlings.capstone.cpu_platform" in env["VERL_USE_EXTERNAL_MODULES"]
    overrides = cmd[cmd.index("verl.trainer.sft_trainer") + 1 :]
    config_dir = Path(next(iter(importlib.util.find_spec("verl").submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            cfg = compose(config_name="sft_trainer_engine", overrides=overrides)
    finally:
        GlobalHydra.instance().clear()
    assert cfg.trainer.total_training_steps == recipe.steps and "hf_model" in cfg.checkpoint.save_contents
    assert cfg.model.use_remove_padding is False  # padded rows: sdpa keeps the conversations apart
    # chapter 07's warm start computes in fp32 (verl's engine casts to bf16 unless told otherwise)
    precision = cfg.engine.get("mixed_precision")
    assert (precision is not None and dict(precision) == dict.fromkeys(
        ("param_dtype", "reduce_dtype", "buffer_dtype"), "fp32")) == (which == "agent")
    assert cfg.data.pad_mode == "no_padding" and cfg.model.override_config.attn_implementation == "sdpa"


# --- a learner estimator that verl cannot train on stops the run, named -----------------------------


@pytest.mark.parametrize(("result", "needle"), [
    ((torch.full((4, 3), float("nan")), torch.zeros(4, 3)), "NaN"),
    ((torch.zeros(4, 2), torch.zeros(4, 2)), "shape"),
    (torch.zeros(4, 3), "tuple"),
])
def test_estimator_problem_names_the_fix(result, needle):
    message = probe.estimator_problem(result, torch.zeros(4, 3))
    assert message is not None and needle in message and "06.estimator" in message
    assert probe.estimator_problem((torch.zeros(4, 3), torch.zeros(4, 3)), torch.zeros(4, 3)) is None


@pytest.mark.parametrize(("patch", "needle"), [
    ("def grpo_estimator(token_level_rewards, response_mask, index, config=None, **kw):\n"
     "    a = token_level_rewards / 0.0 * 0.0\n    return a, a\n", "NaN"),
    ("def grpo_estimator(token_level_rewards, response_mask, index, config=None, **kw):\n"
     "    a = token_level_rewards.sum(-1)\n    return a, a\n", "shape"),
])
def test_preflight_stops_a_bad_estimator_before_training(tmp_path, patch, needle):
    for chapter in ("03", "04", "06"):
        shutil.copytree(SOLUTIONS / chapter, tmp_path / chapter, ignore=shutil.ignore_patterns("__pycache__"))
    capstone = tmp_path / "06" / "capstone.py"
    capstone.write_text(capstone.read_text() + "\n\n" + patch)
    message = learner_checks.preflight(tmp_path)
    assert message is not None and "06.estimator" in message and needle in message, message


def test_bad_estimator_inside_verl_is_recorded_first(tmp_path, monkeypatch):
    monkeypatch.setenv(probe.ENV_DIR, str(tmp_path))
    fn = probe.counted(lambda **kw: (kw["token_level_rewards"] * float("nan"),) * 2, "estimator")
    with pytest.raises(ValueError, match="NaN"):
        fn(token_level_rewards=torch.ones(2, 3), response_mask=torch.ones(2, 3))
    assert (tmp_path / probe.ERROR).read_text().startswith("your estimator returned something verl cannot train on")


# --- export and evaluation ----------------------------------------------------------------------------


def test_export_without_a_checkpoint_says_how_to_make_one(tmp_path):
    from verlings.capstone.evaluate import ExportError, export

    with pytest.raises(ExportError, match=r"grader\.py capstone --plot"):
        export(tmp_path)


def test_evaluate_scores_greedy_answers_with_the_learners_reward(tmp_path, monkeypatch):
    from verlings.capstone import evaluate as ev
    from verlings.target import load_module, set_active

    set_active(SOLUTIONS)
    reward = load_module("06", "capstone").compute_score
    rows = make_rows(4, seed=0, split="val")
    truths = [r["reward_model"]["ground_truth"] for r in rows]
    # stand-in generations: right, right with spaces, wrong, empty → 2 of 4
    monkeypatch.setattr(ev, "greedy_answers", lambda model, qs, n: [truths[0], f" {truths[1]} ", "999", ""])
    out = ev.evaluate(tmp_path, reward, n_val=4)
    assert out.n == 4 and out.accuracy == 0.5
    assert [s["correct"] for s in out.samples] == [True, True, False, False]


def test_greedy_answers_with_transformers_on_the_tiny_model():
    from verlings.capstone.evaluate import greedy_answers
    from verlings.capstone.model import model_path

    qs = [r["prompt"][0]["content"] for r in make_rows(3, seed=0, split="val")]
    first = greedy_answers(model_path(), qs, max_new_tokens=4)
    assert len(first) == 3 and all(isinstance(a, str) for a in first)
    assert greedy_answers(model_path(), qs, max_new_tokens=4) == first  # greedy: deterministic


def test_logged_accuracy_reads_verls_validation_from_tensorboard(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    from verlings.capstone.evaluate import logged_accuracy
    from verlings.capstone.summary import accuracy_tag, summarize

    writer = SummaryWriter(str(tmp_path / "tensorboard"))
    for step, acc in ((0, 0.25), (5, 0.5)):
        writer.add_scalar("val-core/verlings/arith/acc/mean@1", acc, step)
        writer.add_scalar("val-aux/verlings/arith/correct/mean@1", acc, step)
    writer.add_scalar("critic/score/mean", 1.0, 1)
    writer.close()
    tag, points = logged_accuracy(tmp_path)
    assert tag == "val-core/verlings/arith/acc/mean@1" and points == [(0, 0.25), (5, 0.5)]
    summary = summarize(tmp_path, wall_s=1.0, device="cpu", calls={})
    assert accuracy_tag(summary) == tag


def test_ray_start_timeout_on_a_busy_machine_is_retried(tmp_path, monkeypatch):
    """Ray's own start-up deadline (hit when other jobs load the cores) costs a retry, not the run."""
    monkeypatch.setattr(launcher.time, "sleep", lambda s: None)
    counter = tmp_path / "calls"
    fake = tmp_path / "python"
    fake.write_text(f"""#!/bin/sh
n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}
if [ "$n" = 0 ]; then echo "Exception: {launcher.RAY_START_TIMEOUT}. This could happen ..."; exit 1; fi
echo "second start fine"; exit 0
""")
    fake.chmod(0o755)
    result = launcher.run(launcher.RunConfig(steps=1), tmp_path / "run", target=SOLUTIONS, device="cpu",
                          timeout_s=120, python=str(fake))
    assert counter.read_text().strip() == "2" and result.returncode == 0 and "second start fine" in result.log
    counter.write_text("5")  # a different failure is not retried
    fake.write_text(f"#!/bin/sh\necho x >> {counter}.more; echo 'Error executing job'; exit 1\n")
    result = launcher.run(launcher.RunConfig(steps=1), tmp_path / "run2", target=SOLUTIONS, device="cpu",
                          timeout_s=120, python=str(fake))
    assert result.returncode == 1 and Path(f"{counter}.more").read_text().count("x") == 1
