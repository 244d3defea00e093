"""Reference solutions of exercises/03/losses.py agree with live verl 0.9.1 on seeded random and edge-case inputs.

Also: verl's own functions, used as a learner's target, pass every graded test of the
four exercises — the graded tests demand verl's semantics, not our implementation's details.
"""

import dataclasses
import textwrap
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings.dev.mutants import graded_failures
from verlings.fixtures import actor_config as course_config
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "losses", root=SOLUTIONS)
accumulation = load_module("03", "accumulation", root=SOLUTIONS)
from verl.trainer.ppo import core_algos  # noqa: E402 - verl is required for meta-tests
from verl.workers.config.actor import ActorConfig, PolicyLossConfig  # noqa: E402

AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
# Deterministic generated inputs: the same examples on every run and machine.
DETERMINISTIC = settings(derandomize=True, max_examples=60, deadline=None, database=None)


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


@st.composite
def _micro_batches(draw):
    """A micro-batch (float or int mask, fully masked rows allowed) and the global counts of its mini-batch."""
    bs = draw(st.integers(1, 6))
    response_length = draw(st.integers(1, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(0, response_length + 1, (bs,), generator=g)
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    if draw(st.booleans()):
        mask = mask.float()
    loss_mat = torch.randn(bs, response_length, generator=g) * 3
    dp_size = draw(st.sampled_from([1, 2, 4]))
    kwargs = {"dp_size": dp_size}
    if dp_size > 1 or draw(st.booleans()):
        # The mini-batch holds this micro-batch and more: counts at least as big as the local ones.
        kwargs["batch_num_tokens"] = int(mask.sum()) + draw(st.integers(1, 40))
        kwargs["global_batch_size"] = bs + draw(st.integers(0, 12))
    if draw(st.booleans()):
        kwargs["loss_scale_factor"] = draw(st.integers(1, 64))
    return loss_mat, mask, kwargs


@DETERMINISTIC
@given(batch=_micro_batches(), mode=st.sampled_from(AGG_MODES))
def test_agg_loss_agrees_on_generated_inputs(batch, mode):
    loss_mat, mask, kwargs = batch
    assert_close(ref.agg_loss(loss_mat, mask, mode, **kwargs), core_algos.agg_loss(loss_mat, mask, mode, **kwargs),
                 what=f"agg_loss {mode} {kwargs}")


@DETERMINISTIC
@given(batch=_micro_batches(), mode=st.sampled_from(AGG_MODES), cliprange_value=st.sampled_from([0.1, 0.5, 5.0]))
def test_compute_value_loss_agrees_on_generated_inputs(batch, mode, cliprange_value):
    loss_mat, mask, kwargs = batch
    g = torch.Generator().manual_seed(int(mask.numel()))
    values = torch.randn(mask.shape, generator=g)
    returns = values + 2 * torch.randn(mask.shape, generator=g)
    vpreds = values + loss_mat / 3
    ours = ref.compute_value_loss(vpreds, returns, values, mask, cliprange_value, loss_agg_mode=mode, **kwargs)
    theirs = core_algos.compute_value_loss(vpreds, returns, values, mask, cliprange_value, loss_agg_mode=mode, **kwargs)
    assert_close(ours[0], theirs[0], what=f"vf_loss {mode} {kwargs}")
    assert_close(ours[1], theirs[1], what="vf_clipfrac")


@pytest.mark.parametrize("mode", ["token-mean", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"])
@pytest.mark.parametrize("dp_size", [2, 4])
def test_agg_loss_dp_size_without_counts_raises_like_verl(mode, dp_size):
    loss_mat, mask = torch.ones(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError) as theirs:
        core_algos.agg_loss(loss_mat, mask, mode, dp_size=dp_size)
    with pytest.raises(ValueError) as ours:
        ref.agg_loss(loss_mat, mask, mode, dp_size=dp_size)
    assert str(ours.value) == str(theirs.value)


def test_agg_loss_unknown_mode_raises_like_verl():
    loss_mat, mask = torch.ones(2, 3), torch.ones(2, 3)
    with pytest.raises(ValueError):
        core_algos.agg_loss(loss_mat, mask, "seq-median")
    with pytest.raises(ValueError) as ours:
        ref.agg_loss(loss_mat, mask, "seq-median")
    assert all(mode in str(ours.value) for mode in AGG_MODES), "the message names the five valid modes"


@pytest.mark.parametrize("mode", AGG_MODES)
@pytest.mark.parametrize(("dp_size", "n_micro"), [(1, 2), (2, 1), (2, 2), (4, 1), (1, 4), (4, 2)])
def test_microbatch_gradients_with_verl_agg_loss_equal_the_full_batch(mode, dp_size, n_micro):
    """The accumulation exercise's claim, with verl's own agg_loss doing the aggregation."""
    g = torch.Generator().manual_seed(dp_size * 10 + n_micro)
    bs, response_length = 8, 5
    lengths = torch.randint(0, response_length + 1, (bs,), generator=g)
    mask = (torch.arange(response_length)[None, :] < lengths[:, None]).long()
    batch = {"x": torch.randn(bs, response_length, generator=g), "response_mask": mask}
    w = torch.randn(1, generator=g).requires_grad_(True)

    def loss_fn(micro_batch, **counts):
        return core_algos.agg_loss((micro_batch["x"] * w).sin(), micro_batch["response_mask"], mode, **counts)

    (full,) = torch.autograd.grad(loss_fn(batch, batch_num_tokens=int(mask.sum()), global_batch_size=bs), [w])
    (seen,) = accumulation.microbatch_gradients(loss_fn, batch, [w], n_micro, dp_size=dp_size)
    assert_close(seen, full, what=f"accumulated gradient {mode} dp={dp_size} micro={n_micro}")


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


def _verl_config(**fields) -> ActorConfig:
    info = fields.pop("global_batch_info", {})
    config = ActorConfig(strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, **fields)
    config.global_batch_info.update(info)
    return config


VANILLA_CONFIGS = [
    {"clip_ratio": 0.2},
    {"clip_ratio": 0.2, "clip_ratio_low": 0.2, "clip_ratio_high": 0.28},
    {"clip_ratio": 0.3, "clip_ratio_low": 0.1, "clip_ratio_high": None, "clip_ratio_c": 1.5},
    {"clip_ratio": 0.2, "global_batch_info": {"dp_size": 2, "batch_num_tokens": 300, "global_batch_size": 20,
                                              "loss_scale_factor": None}},
    {"clip_ratio": 0.2, "clip_ratio_high": 0.28, "global_batch_info": {
        "dp_size": 4, "batch_num_tokens": 500, "global_batch_size": 32, "loss_scale_factor": 8}},
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("fields", VANILLA_CONFIGS, ids=str)
@pytest.mark.parametrize("mode", AGG_MODES)
@pytest.mark.parametrize("with_is_weights", [False, True])
def test_compute_policy_loss_vanilla_agrees(seed, fields, mode, with_is_weights):
    """verl's vanilla loss with its ActorConfig vs ours with the same config and with the course's stand-in."""
    old_log_prob, log_prob, advantages, mask = _policy_inputs(seed, scale=0.8 if seed == 0 else 25.0)
    weights = torch.rand(mask.shape, generator=torch.Generator().manual_seed(seed)) if with_is_weights else None
    lp_verl = log_prob.clone().requires_grad_(True)
    theirs = core_algos.compute_policy_loss_vanilla(
        old_log_prob, lp_verl, advantages, mask, loss_agg_mode=mode, config=_verl_config(**fields),
        rollout_is_weights=weights,
    )
    info = dict(fields.get("global_batch_info", {}))
    stand_in = course_config.ActorConfig(**{k: v for k, v in fields.items() if k != "global_batch_info"},
                                         global_batch_info=info)
    for config in (_verl_config(**fields), stand_in):
        lp_ref = log_prob.clone().requires_grad_(True)
        ours = ref.compute_policy_loss_vanilla(
            old_log_prob, lp_ref, advantages, mask, loss_agg_mode=mode, config=config, rollout_is_weights=weights
        )
        assert_close(ours[0], theirs[0], what="pg_loss")
        assert ours[1] == theirs[1], f"metrics differ: {ours[1]} vs verl {theirs[1]}"
        grads = torch.autograd.grad(ours[0], lp_ref)[0], torch.autograd.grad(theirs[0], lp_verl, retain_graph=True)[0]
        assert_close(grads[0], grads[1], what="grad")


def test_course_actor_config_matches_verl_defaults():
    """The stand-in's fields and defaults are verl's (ActorConfig and PolicyLossConfig)."""
    verl_actor = _verl_config()
    for f in dataclasses.fields(course_config.ActorConfig):
        if f.name in ("policy_loss", "global_batch_info"):
            continue
        assert getattr(course_config.ActorConfig(), f.name) == getattr(verl_actor, f.name), f.name
    for f in dataclasses.fields(course_config.PolicyLossConfig):
        assert getattr(course_config.PolicyLossConfig(), f.name) == getattr(PolicyLossConfig(), f.name), f.name
    assert course_config.ActorConfig().global_batch_info == verl_actor.global_batch_info == {}


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
    with pytest.warns(FutureWarning):  # the flat form is deprecated, as in verl
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
from verl.trainer.ppo import core_algos

POLICY_LOSS_REGISTRY = core_algos.POLICY_LOSS_REGISTRY
register_policy_loss = core_algos.register_policy_loss
get_policy_loss_fn = core_algos.get_policy_loss_fn
agg_loss = core_algos.agg_loss


# verl's vanilla loss reads the config's attributes only, so the course's stand-in config works with it.
compute_policy_loss_vanilla = core_algos.compute_policy_loss_vanilla


def compute_policy_loss(old_log_prob, log_prob, advantages, response_mask, cliprange=None, cliprange_low=None,
                        cliprange_high=None, clip_ratio_c=3.0, loss_agg_mode="token-mean"):
    # verl's @deprecated FutureWarning goes through: a graded test checks that the wrapper warns
    return core_algos.compute_policy_loss(
        old_log_prob=old_log_prob, log_prob=log_prob, advantages=advantages, response_mask=response_mask,
        cliprange=cliprange, cliprange_low=cliprange_low, cliprange_high=cliprange_high,
        clip_ratio_c=clip_ratio_c, loss_agg_mode=loss_agg_mode,
    )


compute_value_loss = core_algos.compute_value_loss
compute_entropy_loss = core_algos.compute_entropy_loss
"""


@pytest.mark.parametrize(
    "exercise", ["03.agg_loss", "03.policy_loss", "03.value_loss", "03.entropy_loss", "03.microbatch_gradients"]
)
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "losses.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    # The accumulation exercise aggregates with the target's agg_loss: here verl's.
    (tmp_path / "03" / "accumulation.py").write_text(
        (SOLUTIONS / "03" / "accumulation.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    failed, passed = graded_failures(tmp_path, exercise)
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
