"""Reference solutions of exercises/03/losses.py agree with live verl 0.9.1 on seeded random and edge-case inputs.

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

ref = load_module("03", "losses", root=SOLUTIONS)
from verl.trainer.ppo import core_algos  # noqa: E402 - verl is required for meta-tests
from verl.workers.config.actor import ActorConfig  # noqa: E402

AGG_MODES = ("token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")


def _batch(seed: int, bs: int = 8, response_length: int = 16, float_mask: bool = False):
    """Random right-padded mask (one empty row, one full row) and a generator for more inputs."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(0, response_length + 1, (bs,), generator=g)
    lengths[0], lengths[-1] = 0, response_length
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    return g, (mask.float() if float_mask else mask)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", AGG_MODES)
@pytest.mark.parametrize("float_mask", [False, True])
def test_agg_loss_agrees(seed, mode, float_mask):
    g, mask = _batch(seed, float_mask=float_mask)
    loss_mat = torch.randn(mask.shape, generator=g) * 3
    assert_close(ref.agg_loss(loss_mat, mask, mode), core_algos.agg_loss(loss_mat, mask, mode), what=f"agg_loss {mode}")


def test_agg_loss_unknown_mode_raises_like_verl():
    loss_mat, mask = torch.ones(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError):
        core_algos.agg_loss(loss_mat, mask, "seq-median")
    with pytest.raises(ValueError):
        ref.agg_loss(loss_mat, mask, "seq-median")


POLICY_KWARGS = [
    {"cliprange": 0.2},
    {"cliprange": 0.2, "cliprange_low": 0.2, "cliprange_high": 0.28},
    {"cliprange": 0.3, "cliprange_low": 0.1},
    {"cliprange": 0.1, "cliprange_high": 0.5, "clip_ratio_c": 1.5},
]


def _policy_inputs(seed: int, scale: float = 0.8):
    g, mask = _batch(seed)
    old_log_prob = -4 * torch.rand(mask.shape, generator=g)
    log_prob = old_log_prob + scale * torch.randn(mask.shape, generator=g)
    advantages = torch.randn(mask.shape, generator=g)
    return old_log_prob, log_prob, advantages, mask


@pytest.mark.filterwarnings("ignore::FutureWarning")  # verl 0.9.1 deprecates the flat compute_policy_loss
@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("kwargs", POLICY_KWARGS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items()))
@pytest.mark.parametrize("mode", AGG_MODES)
def test_compute_policy_loss_agrees(seed, kwargs, mode):
    old_log_prob, log_prob, advantages, mask = _policy_inputs(seed, scale=0.8 if seed < 2 else 25.0)
    lp_ref = log_prob.clone().requires_grad_(True)
    lp_verl = log_prob.clone().requires_grad_(True)
    ours = ref.compute_policy_loss(old_log_prob, lp_ref, advantages, mask, loss_agg_mode=mode, **kwargs)
    theirs = core_algos.compute_policy_loss(old_log_prob, lp_verl, advantages, mask, loss_agg_mode=mode, **kwargs)
    for name, a, b in zip(("pg_loss", "pg_clipfrac", "ppo_kl", "pg_clipfrac_lower"), ours, theirs):
        assert_close(a, b, what=name)
    assert_close(torch.autograd.grad(ours[0], lp_ref)[0], torch.autograd.grad(theirs[0], lp_verl)[0], what="grad")


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("mode", AGG_MODES)
def test_compute_policy_loss_agrees_with_vanilla_policy_loss(seed, mode):
    """verl's trainer calls compute_policy_loss_vanilla with an ActorConfig: same maths."""
    old_log_prob, log_prob, advantages, mask = _policy_inputs(seed)
    config = ActorConfig(
        strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, clip_ratio=0.2, clip_ratio_low=0.15,
        clip_ratio_high=0.28, clip_ratio_c=2.5, loss_agg_mode=mode,
    )
    pg_loss, metrics = core_algos.compute_policy_loss_vanilla(
        old_log_prob, log_prob, advantages, mask, loss_agg_mode=mode, config=config
    )
    ours = ref.compute_policy_loss(
        old_log_prob, log_prob, advantages, mask, cliprange=0.2, cliprange_low=0.15, cliprange_high=0.28,
        clip_ratio_c=2.5, loss_agg_mode=mode,
    )
    assert_close(ours[0], pg_loss, what="pg_loss vs compute_policy_loss_vanilla")
    for value, key in zip(ours[1:], ("actor/pg_clipfrac", "actor/ppo_kl", "actor/pg_clipfrac_lower")):
        assert_close(value, torch.tensor(metrics[key]), what=key)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", AGG_MODES)
@pytest.mark.parametrize("cliprange_value", [0.1, 0.5, 5.0])
def test_compute_value_loss_agrees(seed, mode, cliprange_value):
    g, mask = _batch(seed)
    values = torch.randn(mask.shape, generator=g)
    vpreds = values + torch.randn(mask.shape, generator=g)
    returns = values + 2 * torch.randn(mask.shape, generator=g)
    vp_ref, vp_verl = vpreds.clone().requires_grad_(True), vpreds.clone().requires_grad_(True)
    ours = ref.compute_value_loss(vp_ref, returns, values, mask, cliprange_value, loss_agg_mode=mode)
    theirs = core_algos.compute_value_loss(vp_verl, returns, values, mask, cliprange_value, loss_agg_mode=mode)
    assert_close(ours[0], theirs[0], what="vf_loss")
    assert_close(ours[1], theirs[1], what="vf_clipfrac")
    assert_close(torch.autograd.grad(ours[0], vp_ref)[0], torch.autograd.grad(theirs[0], vp_verl)[0], what="grad")


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", AGG_MODES)
def test_compute_entropy_loss_agrees(seed, mode):
    g, mask = _batch(seed, bs=4, response_length=7)
    logits = torch.randn(*mask.shape, 33, generator=g) * (1 + 5 * torch.rand(*mask.shape, 1, generator=g))
    assert_close(
        ref.compute_entropy_loss(logits, mask, loss_agg_mode=mode),
        core_algos.compute_entropy_loss(logits, mask, loss_agg_mode=mode),
        what="entropy loss",
    )


_VERL_AS_TARGET = """
import warnings

from verl.trainer.ppo import core_algos


def agg_loss(loss_mat, loss_mask, loss_agg_mode):
    return core_algos.agg_loss(loss_mat=loss_mat, loss_mask=loss_mask, loss_agg_mode=loss_agg_mode)


def compute_policy_loss(old_log_prob, log_prob, advantages, response_mask, cliprange=None, cliprange_low=None,
                        cliprange_high=None, clip_ratio_c=3.0, loss_agg_mode="token-mean"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return core_algos.compute_policy_loss(
            old_log_prob=old_log_prob, log_prob=log_prob, advantages=advantages, response_mask=response_mask,
            cliprange=cliprange, cliprange_low=cliprange_low, cliprange_high=cliprange_high,
            clip_ratio_c=clip_ratio_c, loss_agg_mode=loss_agg_mode,
        )


compute_value_loss = core_algos.compute_value_loss
compute_entropy_loss = core_algos.compute_entropy_loss
"""


@pytest.mark.parametrize("exercise", ["03.agg_loss", "03.policy_loss", "03.value_loss", "03.entropy_loss"])
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "losses.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    failed, passed = graded_failures(tmp_path, exercise)
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
