"""Reference policy losses (exercises/03/policy_losses.py) agree with live verl 0.9.1 on generated inputs.

Hypothesis draws the batch (ragged masks, empty rows, int/bool/float masks), the config (clip
ranges, global counts, Clip-Cov / KL-Cov knobs) and the aggregation mode, derandomized so that
every run checks the same examples. Also: verl's own losses, used as a learner's target, pass every
graded test of the six exercises, and the stand-in config has verl's defaults.
"""

import textwrap
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from verlings.dev.mutants import graded_failures
from verlings.fixtures import actor_config as course_config
from verlings.goldens.ch03_policy_losses import verl_actor_config
from verlings.paths import SOLUTIONS
from verlings.target import load_module
from verlings.testing import assert_close

ref = load_module("03", "policy_losses", root=SOLUTIONS)
from verl.trainer.ppo import core_algos  # noqa: E402 - verl is required for meta-tests

LOSSES = ("gspo", "cispo", "gpg", "geo_mean", "clip_cov", "kl_cov")
MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")
DETERMINISTIC = settings(derandomize=True, max_examples=25, deadline=None, database=None)


@st.composite
def _inputs(draw):
    bs = draw(st.integers(1, 6))
    response_length = draw(st.integers(1, 8))
    g = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    lengths = torch.randint(0, response_length + 1, (bs,), generator=g)
    lengths[-1] = response_length  # at least one valid token in the batch
    mask = torch.arange(response_length)[None, :] < lengths[:, None]
    mask = mask.to(draw(st.sampled_from([torch.bool, torch.int64, torch.float32])))
    old_log_prob = -3.0 * torch.rand(bs, response_length, generator=g)
    log_prob = old_log_prob + draw(st.sampled_from([0.1, 0.6, 2.0])) * torch.randn(bs, response_length, generator=g)
    advantages = 2.0 * torch.randn(bs, response_length, generator=g)
    weights = 0.5 + torch.rand(bs, response_length, generator=g) if draw(st.booleans()) else None
    fields = {"clip_ratio": draw(st.sampled_from([0.1, 0.2, 0.3]))}
    if draw(st.booleans()):
        fields["clip_ratio_low"] = draw(st.sampled_from([None, 0.1]))
        fields["clip_ratio_high"] = draw(st.sampled_from([None, 0.28]))
    if draw(st.booleans()):
        fields["global_batch_info"] = {
            "dp_size": draw(st.sampled_from([1, 2, 4])), "batch_num_tokens": int(mask.sum()) + draw(st.integers(0, 30)),
            "global_batch_size": bs + draw(st.integers(0, 8)), "loss_scale_factor": draw(st.sampled_from([None, 16])),
        }
    fields["policy_loss"] = {
        "clip_cov_ratio": draw(st.sampled_from([0.0002, 0.2, 1.0])), "clip_cov_lb": draw(st.sampled_from([0.2, 1.0])),
        "kl_cov_ratio": draw(st.sampled_from([0.0002, 0.3])), "ppo_kl_coef": draw(st.sampled_from([0.1, 1.0])),
    }
    return old_log_prob, log_prob, advantages, mask, weights, fields, draw(st.sampled_from(MODES))


@pytest.mark.parametrize("loss", LOSSES)
@DETERMINISTIC
@given(inputs=_inputs())
def test_policy_loss_agrees_on_generated_inputs(loss, inputs):
    old_log_prob, log_prob, advantages, mask, weights, fields, mode = inputs
    results = []
    for fn in (getattr(ref, f"compute_policy_loss_{loss}"), core_algos.get_policy_loss_fn(loss)):
        lp = log_prob.clone().requires_grad_(True)
        torch.manual_seed(99)  # clip_cov draws with torch.randperm
        pg_loss, metrics = fn(old_log_prob, lp, advantages, mask, mode, verl_actor_config(fields), weights)
        results.append((pg_loss, metrics, torch.autograd.grad(pg_loss, lp, allow_unused=True)[0]))
    (ours, our_metrics, our_grad), (theirs, their_metrics, their_grad) = results
    assert_close(ours, theirs, what=f"{loss} pg_loss ({mode}, {fields})")
    assert our_metrics.keys() == their_metrics.keys()
    for key in our_metrics:
        assert_close(our_metrics[key], their_metrics[key], what=f"{loss} {key}")
    assert_close(our_grad, their_grad, what=f"{loss} gradient")


def test_registry_names_are_verls():
    # One registry for every loss, as in verl: losses.py's vanilla plus the six of policy_losses.py.
    assert set(ref.POLICY_LOSS_REGISTRY) == {*LOSSES, "vanilla"}
    for loss in ref.POLICY_LOSS_REGISTRY:
        assert loss in core_algos.POLICY_LOSS_REGISTRY


def test_stand_in_policy_loss_config_has_verls_fields():
    from verl.workers.config.actor import PolicyLossConfig

    for name in ("clip_cov_ratio", "clip_cov_lb", "clip_cov_ub", "kl_cov_ratio", "ppo_kl_coef", "loss_mode"):
        assert getattr(course_config.PolicyLossConfig(), name) == getattr(PolicyLossConfig(), name), name


_VERL_AS_TARGET = """
import inspect
from dataclasses import asdict

from verl.trainer.ppo import core_algos
from verl.workers.config.actor import ActorConfig, PolicyLossConfig

POLICY_LOSS_REGISTRY = {}


def register_policy_loss(name):
    def decorator(func):
        POLICY_LOSS_REGISTRY[name] = func
        return func
    return decorator


def get_policy_loss_fn(name):
    return POLICY_LOSS_REGISTRY[name]


def _verl_config(config):
    # verl's GSPO and CISPO insist on its own ActorConfig class: rebuild it from the stand-in.
    fields = {k: getattr(config, k) for k in ("clip_ratio", "clip_ratio_low", "clip_ratio_high", "clip_ratio_c")}
    missing = config.policy_loss is None  # a graded test checks the assert on a config without policy_loss
    policy_loss = PolicyLossConfig() if missing else PolicyLossConfig(**asdict(config.policy_loss))
    verl = ActorConfig(strategy="fsdp", rollout_n=1, ppo_micro_batch_size_per_gpu=1, policy_loss=policy_loss,
                       **fields)
    if missing:
        object.__setattr__(verl, "policy_loss", None)
    verl.global_batch_info.update(config.global_batch_info)
    return verl


def _wrap(name):
    # each loss keeps verl's own default loss_agg_mode (GSPO's is seq-mean-token-mean)
    default_mode = inspect.signature(core_algos.get_policy_loss_fn(name)).parameters["loss_agg_mode"].default

    def loss(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode=default_mode, config=None,
             rollout_is_weights=None):
        return core_algos.get_policy_loss_fn(name)(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode,
                                                   _verl_config(config), rollout_is_weights)
    return register_policy_loss(name)(loss)


compute_policy_loss_gspo = _wrap("gspo")
compute_policy_loss_cispo = _wrap("cispo")
compute_policy_loss_gpg = _wrap("gpg")
compute_policy_loss_geo_mean = _wrap("geo_mean")
compute_policy_loss_clip_cov = _wrap("clip_cov")
compute_policy_loss_kl_cov = _wrap("kl_cov")
"""


@pytest.mark.parametrize("exercise", ["03.gspo", "03.cispo", "03.gpg_loss", "03.geo_mean", "03.clip_cov", "03.kl_cov"])
def test_verl_itself_passes_the_graded_tests(exercise, tmp_path: Path):
    (tmp_path / "03").mkdir()
    (tmp_path / "03" / "policy_losses.py").write_text(textwrap.dedent(_VERL_AS_TARGET), encoding="utf-8")
    failed, passed = graded_failures(tmp_path, exercise, module="policy_losses")
    assert passed, f"no graded test of {exercise} ran"
    assert not failed, f"verl's own implementation fails graded tests of {exercise}: {failed}"
