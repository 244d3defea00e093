"""Reference solutions of exercises/03/kl.py agree with live verl 0.9.1 on seeded random and edge-case inputs.

Also: verl's own functions, used as a learner's target, pass every graded test of the
four exercises — the graded tests demand verl's semantics, not our implementation's details.
"""

import textwrap
from pathlib import Path

import pytest
import torch

from verlings.dev.mutants import graded_failures
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "kl", root=SOLUTIONS)
from verl import DataProto  # noqa: E402 - verl is required for meta-tests
from verl.trainer.ppo import core_algos  # noqa: E402
from verl.trainer.ppo.ray_trainer import apply_kl_penalty as verl_apply_kl_penalty  # noqa: E402

BASE = ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3")
NAMES = BASE + tuple(n + "+" for n in BASE)


def _log_probs(seed: int, spread: float):
    g = torch.Generator().manual_seed(seed)
    logprob = -5 * torch.rand(6, 10, generator=g)
    return g, logprob, logprob + spread * torch.randn(6, 10, generator=g)


def _grads(fn, logprob, ref_logprob, name, weights):
    lp, rl = logprob.clone().requires_grad_(True), ref_logprob.clone().requires_grad_(True)
    value = fn(lp, rl, name)
    return (value, *torch.autograd.grad((weights * value).sum(), (lp, rl)))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("spread", [0.3, 3.0, 30.0])
@pytest.mark.parametrize("name", NAMES)
def test_kl_penalty_agrees(seed, spread, name):
    g, logprob, ref_logprob = _log_probs(seed, spread)
    weights = torch.rand(logprob.shape, generator=g)
    ours = _grads(ref.kl_penalty, logprob, ref_logprob, name, weights)
    theirs = _grads(core_algos.kl_penalty, logprob, ref_logprob, name, weights)
    for what, a, b in zip(("value", "grad logprob", "grad ref_logprob"), ours, theirs):
        assert_close(a, b, what=f"kl_penalty {name} {what}")


@pytest.mark.parametrize("name", ("k3", "low_var_kl", "k3+", "k1", "abs", "k2"))
def test_kl_penalty_agrees_on_infinities(name):
    inf = float("inf")
    logprob = torch.tensor([-inf, 0.0, -1.0, -3.0])
    ref_logprob = torch.tensor([0.0, -inf, -1.0, 2.0])
    assert_close(ref.kl_penalty(logprob, ref_logprob, name), core_algos.kl_penalty(logprob, ref_logprob, name),
                 what=f"kl_penalty {name} with inf")


@pytest.mark.parametrize("name", ("k4", "full", "k3++", ""))
def test_kl_penalty_unknown_names_raise_like_verl(name):
    x = torch.zeros(2)
    with pytest.raises(NotImplementedError):
        core_algos.kl_penalty(x, x, name)
    with pytest.raises(NotImplementedError):
        ref.kl_penalty(x, x, name)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("name", ("kl", "abs", "k2", "low_var_kl", "k3+"))
@pytest.mark.parametrize("adaptive", [False, True])
def test_apply_kl_penalty_agrees(seed, name, adaptive):
    g = torch.Generator().manual_seed(seed)
    bs, response_length = 6, 9
    lengths = torch.randint(0, response_length + 1, (bs,), generator=g)
    lengths[0] = 0
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    scores = torch.randn(bs, response_length, generator=g) * mask
    old_log_prob = -3 * torch.rand(bs, response_length, generator=g)
    ref_log_prob = old_log_prob + torch.randn(bs, response_length, generator=g)

    def controller():
        if adaptive:
            return core_algos.AdaptiveKLController(init_kl_coef=0.05, target_kl=0.2, horizon=500)
        return core_algos.FixedKLController(kl_coef=0.05)

    verl_ctrl = controller()
    data = DataProto.from_dict({
        "token_level_scores": scores, "old_log_probs": old_log_prob, "ref_log_prob": ref_log_prob,
        "response_mask": mask,
    })
    data, metrics = verl_apply_kl_penalty(data, verl_ctrl, kl_penalty=name)

    ours_ctrl = (ref.AdaptiveKLController(0.05, 0.2, 500) if adaptive else ref.FixedKLController(0.05))
    rewards, current_kl = ref.apply_kl_penalty(scores, old_log_prob, ref_log_prob, mask, ours_ctrl.value, name)
    assert isinstance(current_kl, float)
    assert_close(rewards, data.batch["token_level_rewards"], what="token_level_rewards")
    assert_close(current_kl, metrics["actor/reward_kl_penalty"], what="current_kl")
    # verl then updates its controller with n_steps = batch size; ours must land on the same value.
    ours_ctrl.update(current_kl=current_kl, n_steps=bs)
    assert_close(float(ours_ctrl.value), float(verl_ctrl.value), what="controller value after update")


@pytest.mark.parametrize("seed", range(5))
def test_kl_controllers_agree(seed):
    g = torch.Generator().manual_seed(seed)
    init, target, horizon = 0.01 + float(torch.rand((), generator=g)), 0.05, 64 + seed * 1000
    ours_a = ref.AdaptiveKLController(init, target, horizon)
    theirs_a = core_algos.AdaptiveKLController(init, target, horizon)
    ours_f, theirs_f = ref.FixedKLController(init), core_algos.FixedKLController(init)
    for _ in range(20):
        current_kl = float(torch.rand((), generator=g) * 0.15)
        n_steps = int(torch.randint(1, 512, (), generator=g))
        for ctl in (ours_a, theirs_a, ours_f, theirs_f):
            ctl.update(current_kl=current_kl, n_steps=n_steps)
        assert_close(float(ours_a.value), float(theirs_a.value), what="adaptive value", rtol=1e-12, atol=0)
        assert_close(float(ours_f.value), float(theirs_f.value), what="fixed value", rtol=0, atol=0)


_VERL_AS_TARGET = """
from verl import DataProto
from verl.trainer.ppo import ray_trainer
from verl.trainer.ppo.core_algos import AdaptiveKLController, FixedKLController, kl_penalty


def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
    data = DataProto.from_dict({
        "token_level_scores": token_level_scores, "old_log_probs": old_log_prob, "ref_log_prob": ref_log_prob,
        "response_mask": response_mask,
    })
    data, metrics = ray_trainer.apply_kl_penalty(data, FixedKLController(kl_coef=kl_coef), kl_penalty=kl_penalty)
    return data.batch["token_level_rewards"], metrics["actor/reward_kl_penalty"]
"""


@pytest.mark.parametrize(
    "exercise", ["03.kl_penalty", "03.kl_straight_through", "03.apply_kl_penalty", "03.kl_controllers"]
)
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "kl.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    failed, passed = graded_failures(tmp_path, exercise)
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
