"""Golden values for the more estimators of exercises/03 advantages.py (§2.6–§2.10), from verl 0.9.1.

Each file stores the inputs (``token_level_rewards``, ``response_mask``, ``index`` and what else the
estimator takes) and verl's outputs as ``advantages_<case>`` / ``returns_<case>``.
Regenerate with ``python -m verlings.goldens 03``.
"""

from __future__ import annotations

import numpy as np
import torch

from verlings.goldens import snapshot
from verlings.goldens.ch03_advantages import _grouped_batch


def _groups_of_two_or_more(seed: int = 41, response_length: int = 6) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """14 responses in 5 groups of sizes 4, 3, 2, 3, 2, shuffled; outcome rewards with ties and a unique best.

    Group "p0" has binary rewards with one correct answer, "p1" a tie at the top (advantage 0),
    "p2" all-equal rewards, "p3" and "p4" real-valued scores. Row lengths vary (one is 1 token).
    """
    g = torch.Generator().manual_seed(seed)
    scores = {
        "p0": [1.0, 0.0, 0.0, 0.0],
        "p1": [1.0, 1.0, 0.0],
        "p2": [0.5, 0.5],
        "p3": torch.randn(3, generator=g).tolist(),
        "p4": torch.randn(2, generator=g).tolist(),
    }
    uids = np.array([u for u, s in scores.items() for _ in s])
    flat = torch.tensor([v for s in scores.values() for v in s])
    bs = len(uids)
    lens = torch.randint(1, response_length + 1, (bs,), generator=g)
    lens[2] = 1
    mask = (torch.arange(response_length)[None, :] < lens[:, None]).long()
    rewards = torch.zeros(bs, response_length)
    rewards[torch.arange(bs), lens - 1] = flat
    perm = torch.randperm(bs, generator=g)
    return rewards[perm], mask[perm], uids[perm.numpy()]


@snapshot("03", "grpo_passk")
def grpo_passk() -> dict:
    from verl.trainer.ppo.core_algos import compute_grpo_passk_outcome_advantage

    rewards, mask, index = _groups_of_two_or_more()
    out = {"token_level_rewards": rewards, "response_mask": mask, "index": index}
    for key, kwargs in {
        "norm": {"config": {"norm_adv_by_std_in_grpo": True}},
        "no_norm": {"config": {"norm_adv_by_std_in_grpo": False}},
        "eps": {"config": {"norm_adv_by_std_in_grpo": True}, "epsilon": 0.1},
        # the keyword says False, the config (which verl reads) says True
        "config_wins": {"config": {"norm_adv_by_std_in_grpo": True}, "norm_adv_by_std_in_grpo": False},
    }.items():
        advantages, returns = compute_grpo_passk_outcome_advantage(
            token_level_rewards=rewards, response_mask=mask, index=index, **kwargs
        )
        out |= {f"advantages_{key}": advantages, f"returns_{key}": returns}
    return out


def _with_grouped_batch(fn_name: str) -> dict:
    from verl.trainer.ppo import core_algos

    # 16 responses in 6 groups (one singleton, one all-equal, one empty response), shuffled.
    rewards, mask, index = _grouped_batch()
    advantages, returns = getattr(core_algos, fn_name)(token_level_rewards=rewards, response_mask=mask, index=index)
    return {"token_level_rewards": rewards, "response_mask": mask, "index": index,
            "advantages": advantages, "returns": returns}


@snapshot("03", "reinforce_pp_baseline")
def reinforce_pp_baseline() -> dict:
    return _with_grouped_batch("compute_reinforce_plus_plus_baseline_outcome_advantage")


@snapshot("03", "opo")
def opo() -> dict:
    return _with_grouped_batch("compute_opo_outcome_advantage")


@snapshot("03", "gpg")
def gpg() -> dict:
    from verl.trainer.ppo.core_algos import compute_gpg_outcome_advantage

    out = _with_grouped_batch("compute_gpg_outcome_advantage")
    for key, kwargs in {"f_norm": {"f_norm": 2.5}, "alpha_ignored": {"alpha": 7.0}}.items():
        advantages, returns = compute_gpg_outcome_advantage(
            token_level_rewards=out["token_level_rewards"], response_mask=out["response_mask"], index=out["index"],
            **kwargs,
        )
        out |= {f"advantages_{key}": advantages, f"returns_{key}": returns}
    return out


@snapshot("03", "remax")
def remax() -> dict:
    from verl.trainer.ppo.core_algos import compute_remax_outcome_advantage

    g = torch.Generator().manual_seed(43)
    bs, response_length = 6, 8
    lens = torch.randint(1, response_length + 1, (bs,), generator=g)
    lens[0] = response_length
    mask = (torch.arange(response_length)[None, :] < lens[:, None]).long()
    mask[1, 2:4] = 0  # a hole (a tool's output)
    # small per-token terms (a KL penalty) plus an outcome reward on the last valid token;
    # junk under the mask that a correct implementation ignores.
    rewards = 0.05 * torch.randn(bs, response_length, generator=g)
    rewards[torch.arange(bs), lens - 1] += torch.randn(bs, generator=g)
    rewards = torch.where(mask.bool(), rewards, torch.full_like(rewards, 9.0))
    reward_baselines = torch.randn(bs, generator=g)
    advantages, returns = compute_remax_outcome_advantage(
        token_level_rewards=rewards, reward_baselines=reward_baselines, response_mask=mask
    )
    return {"token_level_rewards": rewards, "reward_baselines": reward_baselines, "response_mask": mask,
            "advantages": advantages, "returns": returns}
