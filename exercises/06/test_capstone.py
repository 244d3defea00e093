"""Graded tests for exercises/06/capstone.py — your code inside a real verl run.

The first three exercises take seconds: they call verl's real plug-in points (the estimator
registry, the custom-reward loader, Hydra's composition of ``ppo_trainer``) without training.
``06.training`` then runs ``python -m verl.trainer.main_ppo`` for two GRPO steps (1.5–5 min on
two CPU cores) and checks what verl did with your code. verl is imported lazily, in the tests
that integrate with it.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from verlings import learner_module
from verlings import target as target_mod
from verlings.testing import assert_close, assert_equal, hint_line

cap = learner_module("06", "capstone")


# --- shared helpers -------------------------------------------------------------------------


def _batch(seed: int = 0) -> dict:
    """A GRPO batch as verl builds it: 9 answers, groups not contiguous, one singleton,
    one group with equal rewards, the reward on each answer's last valid token."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([5, 3, 6, 1, 4, 6, 2, 5, 3])
    response_mask = (torch.arange(6).unsqueeze(0) < lengths.unsqueeze(1)).float()
    scores = torch.round(torch.rand(9, generator=g) * 4) / 2  # 0, 0.5, ..., 2: ties happen
    scores[[2, 6]] = 1.5  # group "c" has equal rewards: advantage 0 there, never NaN
    token_level_rewards = torch.zeros(9, 6)
    token_level_rewards[torch.arange(9), lengths - 1] = scores
    index = np.array(["a", "b", "c", "a", "b", "d", "c", "a", "b"], dtype=object)
    return {"token_level_rewards": token_level_rewards, "response_mask": response_mask, "index": index}


def _verl_grpo(batch: dict, norm: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

    return compute_grpo_outcome_advantage(**batch, norm_adv_by_std_in_grpo=norm)


def _algo_config(**kw):
    from verl.trainer.config import AlgoConfig

    return AlgoConfig(adv_estimator="verlings_grpo", **kw)


def _check_pair(out, batch: dict, expected, what: str) -> None:
    assert isinstance(out, tuple) and len(out) == 2, f"{what} must return a tuple (advantages, returns), got {out!r}"
    for name, seen, exp in zip(("advantages", "returns"), out, expected):
        assert isinstance(seen, torch.Tensor), f"{what}: {name} is a {type(seen).__name__}, expected a torch.Tensor"
        assert_close(seen, exp, what=f"{what} → {name}", mask=batch["response_mask"])


@pytest.fixture
def verl_registry():
    """verl's estimator registry, restored after the test (tests must not leak registrations)."""
    from verl.trainer.ppo import core_algos

    saved = dict(core_algos.ADV_ESTIMATOR_REGISTRY)
    yield core_algos
    core_algos.ADV_ESTIMATOR_REGISTRY.clear()
    core_algos.ADV_ESTIMATOR_REGISTRY.update(saved)


_FAKE_ADVANTAGES = '''
import torch
CALLS = []
def compute_grpo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6,
                                   norm_adv_by_std_in_grpo=True):
    CALLS.append(norm_adv_by_std_in_grpo)
    out = torch.full_like(token_level_rewards, 7.0) * response_mask
    return out, out + 1
'''
_FAKE_RULES = '''
CALLS = []
def math_equal(pred, truth):
    CALLS.append("math_equal")
    return True
def format_reward(response, pattern):
    CALLS.append("format_reward")
    return 0.25
def overlong_penalty(response_length, max_response_length, overlong_buffer_len, penalty_factor):
    CALLS.append("overlong_penalty")
    return -0.125
def combine(components, weights):
    CALLS.append("combine")
    return {"score": 123.0, **components}
'''


@pytest.fixture
def stand_in_chapters(tmp_path):
    """A target whose chapters 03 and 04 are recognisable stand-ins, with a fresh copy of your
    06/capstone.py: proves your capstone uses *your* chapter code through chapter_module."""
    mine = Path(target_mod.load_module("06", "capstone").__file__)
    for chapter, module, source in (("03", "advantages", _FAKE_ADVANTAGES), ("04", "rule_rewards", _FAKE_RULES)):
        (tmp_path / chapter).mkdir()
        (tmp_path / chapter / f"{module}.py").write_text(source, encoding="utf-8")
    (tmp_path / "06").mkdir()
    shutil.copy(mine, tmp_path / "06" / "capstone.py")
    saved = target_mod.active()
    target_mod.set_active(tmp_path)
    try:
        yield target_mod.load_module("06", "capstone"), target_mod.load_module("03", "advantages"), \
            target_mod.load_module("04", "rule_rewards")
    finally:
        target_mod.set_active(saved)


# --- 06.estimator -----------------------------------------------------------------------------


@pytest.mark.exercise("06.estimator")
def test_grpo_estimator_matches_verls_grpo():
    batch = _batch(0)
    # verl's call: keywords only, the algorithm config included (GRPO: norm_adv_by_std_in_grpo=True).
    out = cap.grpo_estimator(**batch, config=_algo_config())
    _check_pair(out, batch, _verl_grpo(batch, norm=True), "grpo_estimator")


@pytest.mark.exercise("06.estimator")
def test_grpo_estimator_reads_the_norm_flag_from_config():
    batch = _batch(1)
    out = cap.grpo_estimator(**batch, config=_algo_config(norm_adv_by_std_in_grpo=False))
    _check_pair(
        out, batch, _verl_grpo(batch, norm=False), "grpo_estimator with algorithm.norm_adv_by_std_in_grpo=False"
    )


@pytest.mark.exercise("06.estimator")
def test_grpo_estimator_accepts_what_else_verl_passes():
    batch = _batch(2)
    try:
        out = cap.grpo_estimator(**batch, config=None, reward_baselines=torch.zeros(9))
    except TypeError as exc:
        raise AssertionError(
            f"verl passes extra keywords such as reward_baselines to registered estimators: {exc}\n"
            "  accept them with **kwargs (and config=None means the GRPO default)\n" + hint_line()
        ) from None
    _check_pair(out, batch, _verl_grpo(batch, norm=True), "grpo_estimator(config=None)")


@pytest.mark.exercise("06.estimator")
def test_register_estimator_puts_it_in_verls_registry(verl_registry):
    registered = cap.register_estimator("verlings_test_grpo")
    fn = verl_registry.get_adv_estimator_fn("verlings_test_grpo")
    assert fn is registered, "register_estimator should return the function it registered"
    assert fn is cap.grpo_estimator, "verl's registry should hold grpo_estimator itself"
    batch = _batch(3)
    _check_pair(fn(**batch, config=_algo_config()), batch, _verl_grpo(batch, norm=True),
                "the registered estimator")


@pytest.mark.exercise("06.estimator")
def test_register_estimator_twice_is_fine(verl_registry):
    cap.register_estimator("verlings_test_twice")
    try:
        cap.register_estimator("verlings_test_twice")  # every verl process imports the plug-in once more
    except ValueError as exc:
        raise AssertionError(
            f"registering again failed: {exc}\n  verl refuses a *different* function under a taken name — "
            "register the module-level grpo_estimator, not a new wrapper each time"
        ) from None
    assert "verlings_test_twice" in verl_registry.ADV_ESTIMATOR_REGISTRY


@pytest.mark.exercise("06.estimator")
def test_grpo_estimator_uses_your_chapter_03_code(stand_in_chapters):
    capstone, advantages, _ = stand_in_chapters
    batch = _batch(4)
    out = capstone.grpo_estimator(**batch, config=_algo_config(norm_adv_by_std_in_grpo=False))
    assert advantages.CALLS == [False], (
        "grpo_estimator did not call chapter 03's compute_grpo_outcome_advantage (through "
        "chapter_module(\"03\", \"advantages\")) with norm_adv_by_std_in_grpo from the config — "
        f"calls seen: {advantages.CALLS}\n  the capstone trains with *your* estimator, not verl's or a copy"
    )
    expected = torch.full_like(batch["token_level_rewards"], 7.0) * batch["response_mask"]
    _check_pair(out, batch, (expected, expected + 1), "grpo_estimator (chapter 03 stand-in)")


# --- 06.reward ----------------------------------------------------------------------------------

# Hand-worked with MAX_CHARS=24, BUFFER_CHARS=16 (free up to 24-16=8 characters) and
# WEIGHTS correct 1, format 0.5, digits 1, length 0.5:
REWARD_CASES = [
    # " 42" → "42": right, one number, all digits, 2 chars → length 0 → 1 + 0.5 + 1 + 0 = 2.5
    (" 42", "42", {"correct": 1.0, "acc": 1.0, "format": 1.0, "digits": 1.0, "length": 0.0, "score": 2.5}),
    # 16 chars, 2 digits: digits 2/16; length -(16-8)/16 = -0.5 → 0.125 - 0.25 = -0.125
    ("The answer is 41", "42",
     {"correct": 0.0, "acc": 0.0, "format": 0.0, "digits": 0.125, "length": -0.5, "score": -0.125}),
    # the LAST number counts: 13 is right; 10 chars, 4 digits; length -(10-8)/16 = -0.125
    # → 1 + 0 + 0.4 - 0.0625 = 1.3375
    ("12 then 13", "13", {"correct": 1.0, "acc": 1.0, "format": 0.0, "digits": 0.4, "length": -0.125, "score": 1.3375}),
    # a minus sign is part of a well-formed answer; digits 2/3 → 1 + 0.5 + 2/3 = 2.1667
    ("-12", "-12", {"correct": 1.0, "acc": 1.0, "format": 1.0, "digits": 2 / 3, "length": 0.0, "score": 1.5 + 2 / 3}),
    # noise longer than MAX_CHARS: the length term stops at -1 → 0.5 * -1 = -0.5
    ("abc def ghi jkl mno pqr stu vwx yz", "3",
     {"correct": 0.0, "acc": 0.0, "format": 0.0, "digits": 0.0, "length": -1.0, "score": -0.5}),
    # nothing at all (a model that stops at once): every component 0, no division by zero
    ("", "7", {"correct": 0.0, "acc": 0.0, "format": 0.0, "digits": 0.0, "length": 0.0, "score": 0.0}),
    # " 007 " → "007" equals "7" as a number (math_equal), 3 digits of 3 chars
    (" 007 ", "7", {"correct": 1.0, "acc": 1.0, "format": 1.0, "digits": 1.0, "length": 0.0, "score": 2.5}),
]


def _check_score(result, expected: dict, what: str) -> None:
    assert isinstance(result, dict), (
        f"{what} returned {type(result).__name__}; return combine(...)'s dict so that verl logs every component"
    )
    assert_equal(sorted(result), sorted(expected), what=f"{what}: keys")
    for key in ("correct", "format", "digits", "length", "score", "acc"):
        assert_close(float(result[key]), expected[key], what=f"{what}[{key!r}]")


@pytest.mark.exercise("06.reward")
@pytest.mark.parametrize(("answer", "truth", "expected"), REWARD_CASES,
                         ids=[c[0].strip() or "empty" for c in REWARD_CASES])
def test_compute_score_hand_worked(answer, truth, expected):
    result = cap.compute_score(data_source="verlings/arith", solution_str=answer, ground_truth=truth,
                               extra_info={"split": "train", "index": 0})
    _check_score(result, expected, f"compute_score({answer!r}, ground_truth={truth!r})")


@pytest.mark.exercise("06.reward")
def test_compute_score_loads_with_verls_loader():
    """verl's own loader (verl/trainer/ppo/reward.py::get_custom_reward_fn), called as verl's
    reward manager calls it: keywords, with extra_info and reward_kwargs merged in."""
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn

    path = Path(target_mod.load_module("06", "capstone").__file__)
    config = OmegaConf.create({"reward": {"custom_reward_function": {
        "path": str(path), "name": "compute_score", "reward_kwargs": {}}}})
    fn = get_custom_reward_fn(config)
    assert fn is not None, "verl loaded no reward function"
    result = fn(data_source="verlings/arith", solution_str="12 then 13", ground_truth="13",
                extra_info={"split": "train", "index": 3, "num_turns": 2, "rollout_reward_scores": {}})
    _check_score(result, REWARD_CASES[2][2], "compute_score loaded by verl")


@pytest.mark.exercise("06.reward")
def test_compute_score_uses_your_chapter_04_code(stand_in_chapters):
    capstone, _, rules = stand_in_chapters
    result = capstone.compute_score(data_source="verlings/arith", solution_str="41", ground_truth="42")
    missing = [f for f in ("math_equal", "format_reward", "overlong_penalty", "combine") if f not in rules.CALLS]
    assert not missing, (
        f"compute_score did not call chapter 04's {', '.join(missing)} (chapter_module(\"04\", \"rule_rewards\")) — "
        f"calls seen: {rules.CALLS}\n  the capstone rewards with *your* chapter-04 functions"
    )
    assert isinstance(result, dict) and result.get("score") == 123.0, (
        f"compute_score should return what combine returns, got {result!r}"
    )
    assert result.get("format") == 0.25 and result.get("length") == -0.125 and result.get("correct") == 1.0, (
        f"the components should come from format_reward, overlong_penalty and math_equal: {result!r}"
    )


# --- 06.overrides -------------------------------------------------------------------------------


def _compose(overrides: list[str]):
    import importlib.util

    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    spec = importlib.util.find_spec("verl")
    config_dir = Path(next(iter(spec.submodule_search_locations))) / "trainer" / "config"
    GlobalHydra.instance().clear()
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base=None):
            return compose(config_name="ppo_trainer", overrides=list(overrides))
    finally:
        GlobalHydra.instance().clear()


@pytest.mark.exercise("06.overrides")
def test_plug_in_overrides_are_accepted_by_verl(tmp_path):
    path = str(tmp_path / "my_capstone.py")
    overrides = cap.plug_in_overrides(path, "my_grpo")
    assert isinstance(overrides, list) and all(isinstance(o, str) for o in overrides), (
        f"plug_in_overrides should return a list of 'key=value' strings, got {overrides!r}"
    )
    try:
        cfg = _compose(overrides)
    except Exception as exc:
        raise AssertionError(
            f"verl's Hydra config rejected {overrides}: {type(exc).__name__}: {exc}\n" + hint_line()
        ) from None
    assert_equal(cfg.algorithm.adv_estimator, "my_grpo", what="algorithm.adv_estimator")
    assert_equal(cfg.reward.custom_reward_function.path, path, what="reward.custom_reward_function.path",
                 why="verl 0.9.1 reads the reward function from reward.custom_reward_function")
    assert_equal(cfg.reward.custom_reward_function.name, "compute_score", what="reward.custom_reward_function.name")


@pytest.mark.exercise("06.overrides")
def test_plug_in_overrides_default_estimator_name():
    overrides = cap.plug_in_overrides("/somewhere/capstone.py")
    assert "algorithm.adv_estimator=verlings_grpo" in overrides, (
        f"with the default estimator_name the overrides should select verlings_grpo: {overrides}"
    )
    assert "reward.custom_reward_function.path=/somewhere/capstone.py" in overrides, (
        f"the reward path should be the capstone_file argument, as given: {overrides}"
    )


# --- 06.sft -------------------------------------------------------------------------------------

SFT_CONVERSATIONS = [
    # the capstone's SFT rows: one question, one answer
    [{"role": "user", "content": "What is 1 + 2? Answer with digits only."}, {"role": "assistant", "content": "3"}],
    # two turns: the second user turn must lose its repeated system prompt and stay unmasked
    [{"role": "user", "content": "What is 7 + 5?"}, {"role": "assistant", "content": "12"},
     {"role": "user", "content": "And 2 + 2?"}, {"role": "assistant", "content": "4"}],
    # an explicit system turn first: the template then adds no default one
    [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "What is 0 + 0?"},
     {"role": "assistant", "content": "0"}],
]


def _verl_sft_row(tmp_path, messages):
    import pandas as pd
    from omegaconf import OmegaConf
    from verl.utils.dataset.multiturn_sft_dataset import MultiTurnSFTDataset

    from verlings.fixtures.tokenizer import local_tokenizer

    path = tmp_path / "sft.parquet"
    pd.DataFrame([{"messages": messages}]).to_parquet(path)
    config = OmegaConf.create({"pad_mode": "no_padding", "max_length": 512, "messages_key": "messages"})
    row = MultiTurnSFTDataset(str(path), local_tokenizer(), config)[0]
    return row["input_ids"].tolist(), row["loss_mask"].tolist()


def _sft_args():
    from verl.utils.tokenizer.chat_template import extract_system_prompt_and_generation

    from verlings.fixtures.tokenizer import local_tokenizer

    tok = local_tokenizer()
    system, generation = extract_system_prompt_and_generation(tok)
    return tok, len(system), len(generation)


@pytest.mark.exercise("06.sft")
@pytest.mark.parametrize("case", range(len(SFT_CONVERSATIONS)), ids=["one-turn", "two-turns", "system-first"])
def test_sft_loss_mask_matches_verls_sft_dataset(tmp_path, case):
    messages = SFT_CONVERSATIONS[case]
    tok, system_len, generation_len = _sft_args()
    out = cap.sft_loss_mask(messages, tok, system_len, generation_len)
    assert isinstance(out, tuple) and len(out) == 2, f"sft_loss_mask must return (input_ids, loss_mask), got {out!r}"
    ids, mask = (list(map(int, x)) for x in out)
    want_ids, want_mask = _verl_sft_row(tmp_path, messages)
    assert_equal(ids, want_ids, what="sft_loss_mask → input_ids (vs verl's MultiTurnSFTDataset)",
                 why="each message is tokenized on its own; turns after the first drop the repeated system prompt")
    trained = tok.decode([i for i, m in zip(want_ids, want_mask) if m])
    assert_equal(mask, want_mask, what="sft_loss_mask → loss_mask (vs verl's MultiTurnSFTDataset)",
                 why=f"only assistant tokens after the '<|im_start|>assistant\\n' header are trained: {trained!r}")


@pytest.mark.exercise("06.sft")
def test_sft_loss_mask_trains_the_answer_and_its_stop_token():
    tok, system_len, generation_len = _sft_args()
    ids, mask = cap.sft_loss_mask(SFT_CONVERSATIONS[0], tok, system_len, generation_len)
    # hand-checked with the course template: the answer "3", then "<|im_end|>" and "\n" end the turn
    assert_equal(tok.decode([i for i, m in zip(ids, mask) if m]), "3<|im_end|>\n", what="the trained tokens",
                 why="the model learns the answer *and* to stop; the prompt is never trained")


# --- 06.majority ------------------------------------------------------------------------------------

MAJORITY_CASES = [
    # hand-worked: "4" has three votes of five → the value of its first occurrence, 0.0
    (["4", "3", "4", "4", "3"], [0.0, 1.0, 0.5, 0.25, 1.0], 0.0),
    # a tie, 2 votes each: "3" appears first → its first value, 1.0 (not "4", not the best)
    (["3", "4", "4", "3"], [1.0, 0.0, 0.5, 1.0], 1.0),
    # one sample: maj@1 is that sample's value
    (["7"], [0.75], 0.75),
    # the majority answer's *first* value, not its last or mean
    (["9", "8", "9"], [0.2, 1.0, 0.6], 0.2),
]


@pytest.mark.exercise("06.majority")
@pytest.mark.parametrize(("preds", "values", "expected"), MAJORITY_CASES, ids=["majority", "tie", "single", "first"])
def test_majority_vote_hand_worked(preds, values, expected):
    from verl.trainer.ppo.metric_utils import calc_maj_val

    data = [{"pred": p, "val": v} for p, v in zip(preds, values)]
    assert calc_maj_val(data, vote_key="pred", val_key="val") == expected  # the worked value is verl's too
    assert_close(float(cap.majority_vote(list(preds), list(values))), expected,
                 what=f"majority_vote({preds}, {values})")


@pytest.mark.exercise("06.majority")
def test_majority_vote_matches_verl_on_random_groups():
    import random

    from verl.trainer.ppo.metric_utils import calc_maj_val

    rng = random.Random(0)
    for trial in range(300):
        n = rng.randint(1, 9)
        preds = [rng.choice("abc") for _ in range(n)]  # three answers: ties are common
        values = [rng.choice([0.0, 0.5, 1.0]) for _ in range(n)]
        want = calc_maj_val([{"pred": p, "val": v} for p, v in zip(preds, values)], vote_key="pred", val_key="val")
        assert_close(float(cap.majority_vote(preds, values)), want,
                     what=f"majority_vote({preds}, {values}) vs verl's calc_maj_val (trial {trial})")


# --- 06.training --------------------------------------------------------------------------------

STEPS = 2


def _call_each_function_once() -> None:
    """Milliseconds in this process before minutes in verl: a stub or a crash shows up here,
    with its own message, even where the rollout engine is not installed."""
    batch = _batch(5)
    cap.plug_in_overrides(str(Path(target_mod.load_module("06", "capstone").__file__)))
    cap.compute_score(data_source="verlings/arith", solution_str="42", ground_truth="42", extra_info={})
    cap.grpo_estimator(**batch, config=None)


@pytest.fixture(scope="module")
def training_run(tmp_path_factory):
    """One real run for all training checks (it is the expensive part)."""
    from verlings.capstone.launcher import RunConfig, engine_missing, run

    _call_each_function_once()
    missing = engine_missing()
    if missing:
        pytest.skip(missing)
    config = RunConfig(steps=STEPS)
    result = run(config, tmp_path_factory.mktemp("capstone-run"), timeout_s=1200)
    return config, result


@pytest.mark.slow
@pytest.mark.timeout(1400)
@pytest.mark.exercise("06.training")
def test_training_run_finishes_its_steps(training_run):
    _, result = training_run
    assert result.ok, result.failure()
    assert result.summary["steps"] == STEPS, (
        f"verl logged {result.summary['steps']} step(s), expected {STEPS} — see {result.out_dir / 'run.log'}"
    )


@pytest.mark.slow
@pytest.mark.timeout(1400)
@pytest.mark.exercise("06.training")
def test_training_run_called_your_code(training_run):
    config, result = training_run
    assert result.ok, result.failure()
    answers = STEPS * config.train_batch_size * config.rollout_n
    assert result.calls.get("estimator", 0) >= STEPS, (
        f"verl called your estimator {result.calls.get('estimator', 0)}× in {STEPS} steps (expected once a step): "
        "does plug_in_overrides select the name register_estimator registers?"
    )
    assert result.calls.get("reward", 0) == answers, (
        f"verl called your compute_score {result.calls.get('reward', 0)}×, expected {answers} "
        f"({STEPS} steps × {config.train_batch_size} prompts × {config.rollout_n} answers)"
    )
    # verl's reward is your score: the mean over all answers equals the mean of the per-step means
    # (every step scores the same number of answers).
    scores = [json.loads(line)["result"]["score"]
              for line in (result.out_dir / "calls.jsonl").read_text().splitlines()
              if json.loads(line)["fn"] == "reward"]
    per_step = [v for _, v in result.summary["series"]["critic/score/mean"]]
    assert_close(sum(per_step) / len(per_step), sum(scores) / len(scores), rtol=1e-4, atol=1e-5,
                 what="verl's critic/score/mean vs the scores your compute_score returned")


@pytest.mark.slow
@pytest.mark.timeout(1400)
@pytest.mark.exercise("06.training")
def test_training_run_losses_and_grad_norms_are_finite(training_run):
    _, result = training_run
    assert result.ok, result.failure()
    series = result.summary["series"]
    for tag in ("actor/pg_loss", "actor/grad_norm"):
        assert tag in series, f"verl logged no {tag} — did the actor update run? see {result.out_dir / 'run.log'}"
        bad = [(step, v) for step, v in series[tag] if not math.isfinite(v)]
        assert not bad, (
            f"{tag} is not finite at (step, value) {bad}: NaN advantages poison the update — "
            "a zero std without epsilon, or a singleton group? (chapter 03 §2)"
        )
        assert len(series[tag]) == STEPS, f"{tag} logged for {len(series[tag])} step(s), expected {STEPS}"


@pytest.mark.slow
@pytest.mark.timeout(1400)
@pytest.mark.exercise("06.training")
def test_training_run_wrote_metrics(training_run):
    _, result = training_run
    assert result.ok, result.failure()
    events = list((result.out_dir / "tensorboard").rglob("events.out.tfevents.*"))
    assert events, f"no TensorBoard event file under {result.out_dir / 'tensorboard'}"
    summary = json.loads((result.out_dir / "metrics.json").read_text())
    for tag in ("critic/score/mean", "critic/advantages/mean", "actor/pg_loss", "actor/grad_norm"):
        assert tag in summary["final"], f"metrics.json has no {tag}"
