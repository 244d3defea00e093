"""The reference training_loop against verl 0.9.1.

* repeat_batch agrees with ``DataProto.repeat`` on seeded random batches of every shape tried;
* the stage order that fit_step teaches is the order in verl's own ``RayPPOTrainer.fit`` source,
  so a verl upgrade that reorders the loop makes this test fail, not the lesson silently stale.
"""

import inspect
import re

import numpy as np
import pytest
import torch

from verlings.paths import SOLUTIONS
from verlings.target import load_module

ref = load_module("01", "training_loop", root=SOLUTIONS)

from verl import DataProto  # noqa: E402 - verl is required for meta-tests
from verl.trainer.ppo.ray_trainer import RayPPOTrainer  # noqa: E402


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("repeat_times", [1, 2, 5])
@pytest.mark.parametrize("interleave", [True, False])
def test_repeat_batch_agrees_with_dataproto(seed, repeat_times, interleave):
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    bs = int(torch.randint(1, 6, (1,), generator=g))
    tensors = {
        "input_ids": torch.randint(0, 100, (bs, 7), generator=g),
        "values": torch.randn(bs, 3, 2, generator=g),
        "flags": torch.rand(bs, generator=g) > 0.5,
    }
    non_tensors = {
        "uid": np.array([f"u{i}" for i in range(bs)], dtype=object),
        "grid": rng.integers(0, 9, size=(bs, 2, 2)),
    }
    expected = DataProto.from_dict(tensors=tensors, non_tensors=non_tensors).repeat(repeat_times, interleave)
    seen = ref.repeat_batch({**tensors, **non_tensors}, repeat_times, interleave)
    for key, value in expected.batch.items():
        assert seen[key].dtype == value.dtype and torch.equal(seen[key], value), key
    for key, value in expected.non_tensor_batch.items():
        assert seen[key].dtype == value.dtype and np.array_equal(seen[key], value), key


# The course's stage → a line of RayPPOTrainer.fit that starts it (verl 0.9.1).
STAGE_MARKERS = [
    ("uid", 'batch.non_tensor_batch["uid"]'),
    ("repeat", "repeat(repeat_times=rollout_n, interleave=True)"),
    ("generate", "generate_sequences("),
    ("reward", 'marked_timer("reward"'),
    ("old_log_prob", "self._compute_old_log_prob(batch)"),
    ("ref_log_prob", "self._compute_ref_log_prob(batch)"),
    ("values", "self._compute_values(batch)"),
    ("kl_in_reward", "apply_kl_penalty("),
    ("advantage", "compute_advantage("),
    ("update_critic", "self._update_critic(batch)"),
    ("update_actor", "self._update_actor(batch)"),
]


def test_stage_order_is_verls():
    source = inspect.getsource(RayPPOTrainer.fit)
    positions = []
    for stage, marker in STAGE_MARKERS:
        where = source.find(marker)
        assert where >= 0, f"verl's fit no longer contains {marker!r} ({stage}): update the lesson and fit_step"
        positions.append((where, stage))
    assert [stage for _, stage in sorted(positions)] == [stage for stage, _ in STAGE_MARKERS]
    # Each optional stage sits under the flag the Workers protocol exposes.
    for flag, call in (("self.use_reference_policy", "_compute_ref_log_prob"), ("self.use_critic", "_compute_values"),
                       ("self.config.algorithm.use_kl_in_reward", "apply_kl_penalty("),
                       ("self.use_critic", "_update_critic")):
        assert re.search(re.escape(f"if {flag}:") + r"[\s\S]{0,200}" + re.escape(call), source), (flag, call)


class _Workers:
    """Minimal workers: the reference fit_step runs end to end with GRPO-like flags."""

    rollout_n, use_reference_policy, use_critic, use_kl_in_reward = 3, False, False, False

    def generate_sequences(self, batch):
        return {"responses": batch["input_ids"][:, :2] + 1}

    def compute_reward(self, batch):
        return {"token_level_scores": batch["responses"].float()}

    def compute_log_prob(self, batch):
        return {"old_log_probs": torch.zeros_like(batch["token_level_scores"])}

    def compute_advantage(self, batch):
        # verl's GRPO estimator on the course's batch: groups by uid, as in the trainer.
        from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

        adv, ret = compute_grpo_outcome_advantage(batch["token_level_rewards"], torch.ones_like(batch["responses"]),
                                                  batch["uid"])
        return {"advantages": adv, "returns": ret}

    def update_actor(self, batch):
        self.final = batch
        return {"actor/pg_loss": 0.0}


def test_fit_step_feeds_verls_grpo_estimator_real_groups():
    workers = _Workers()
    # Two prompts; the fake sampler makes every response of a prompt identical, so the GRPO
    # advantages are exactly 0 — only when the uid groups are the prompts' groups.
    ref.fit_step({"input_ids": torch.tensor([[1, 2, 3], [7, 8, 9]])}, workers)
    assert torch.equal(workers.final["advantages"], torch.zeros(6, 2))
    assert len(set(workers.final["uid"])) == 2


_VERL_AS_TARGET = '''
"""repeat_batch as verl itself does it: DataProto.repeat."""
import numpy as np
import torch
from verl import DataProto


def repeat_batch(batch, repeat_times, interleave=True):
    tensors = {k: v for k, v in batch.items() if isinstance(v, torch.Tensor)}
    others = {k: v for k, v in batch.items() if not isinstance(v, torch.Tensor)}
    data = DataProto.from_dict(tensors=tensors, non_tensors=others).repeat(repeat_times, interleave)
    return {**dict(data.batch.items()), **data.non_tensor_batch}
'''


def test_verl_itself_passes_the_repeat_tests(tmp_path):
    from verlings.dev.mutants import graded_failures

    (tmp_path / "01").mkdir()
    (tmp_path / "01" / "training_loop.py").write_text(_VERL_AS_TARGET, encoding="utf-8")
    failed, passed = graded_failures(tmp_path, "01.repeat")
    assert passed and not failed, f"DataProto.repeat fails graded tests of 01.repeat: {failed}"


@pytest.mark.parametrize("interleave", [True, False])
def test_compiled_dataproto_repeat_is_verls(interleave):
    """The graded differential test's verl side (DataProto.repeat's source compiled alone, a dict for the
    TensorDict) gives what the imported DataProto.repeat gives."""
    import sys

    sys.path.insert(0, str(SOLUTIONS.parent / "exercises" / "01"))
    try:
        from test_training_loop_properties import _verl_repeat
    finally:
        sys.path.pop(0)
    g = torch.Generator().manual_seed(3)
    tensors = {"ids": torch.randint(0, 9, (3, 4), generator=g), "w": torch.randn(3, 2, 2, generator=g).bfloat16()}
    arrays = {"uid": np.array(["a", "b", "c"], dtype=object), "grid": np.arange(6).reshape(3, 2)}
    expected = DataProto.from_dict(tensors=tensors, non_tensors=arrays).repeat(3, interleave)
    seen = _verl_repeat({**tensors, **arrays}, 3, interleave)
    for key, value in expected.batch.items():
        assert seen[key].dtype == value.dtype and torch.equal(seen[key], value), key
    for key, value in expected.non_tensor_batch.items():
        assert seen[key].dtype == value.dtype and np.array_equal(seen[key], value), key
