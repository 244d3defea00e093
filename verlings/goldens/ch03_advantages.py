"""Golden values for exercises/03 advantages.py, from verl 0.9.1 ``verl/trainer/ppo/core_algos.py``.

Regenerate with ``python -m verlings.goldens 03``.
"""

from __future__ import annotations

import numpy as np
import torch

from verlings.goldens import snapshot

GAE_SETTINGS = {"a": (0.9, 0.8), "b": (1.0, 1.0)}  # suffix: (gamma, lam); a has gamma != lam != 1
RPP_GAMMAS = {"a": 0.9, "b": 1.0}


def _multi_turn_batch(seed: int, bs: int = 6, response_length: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Token rewards and a response mask with right padding *and* holes in the middle.

    A hole is a span of mask 0 inside a response, as a tool's output in a multi-turn
    rollout: the tokens are there but the policy did not generate them. Row 0 has no
    padding, row 1 holes only, row 5 a single valid token. Rewards are small per-token
    terms (as from a KL penalty) plus an outcome reward on the last valid token; they are
    0 wherever the mask is 0.
    """
    g = torch.Generator().manual_seed(seed)
    lens = torch.randint(3, response_length, (bs,), generator=g)
    lens[0], lens[1], lens[5] = response_length, response_length, 1
    cols = torch.arange(response_length)
    mask = (cols[None, :] < lens[:, None]).long()
    mask[1, 2:4] = 0
    mask[1, 6] = 0
    mask[2, 1] = 0
    mask[3, 2:4] = 0
    last = (cols[None, :] * mask).argmax(dim=1)
    rewards = 0.05 * torch.randn(bs, response_length, generator=g)
    rewards[torch.arange(bs), last] += torch.randn(bs, generator=g)
    return rewards * mask, mask


@snapshot("03", "gae")
def gae() -> dict:
    from verl.trainer.ppo.core_algos import compute_gae_advantage_return

    rewards, mask = _multi_turn_batch(seed=23)
    g = torch.Generator().manual_seed(230)
    values = torch.randn(rewards.shape, generator=g)  # a critic outputs a value at every position
    out = {"token_level_rewards": rewards, "values": values, "response_mask": mask}
    for key, (gamma, lam) in GAE_SETTINGS.items():
        advantages, returns = compute_gae_advantage_return(
            token_level_rewards=rewards, values=values, response_mask=mask, gamma=gamma, lam=lam
        )
        out |= {f"gamma_{key}": np.float64(gamma), f"lam_{key}": np.float64(lam)}
        out |= {f"advantages_{key}": advantages, f"returns_{key}": returns}
    return out


def _grouped_batch(seed: int = 37, response_length: int = 6) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    """Outcome rewards for 16 responses in 6 groups of sizes 4, 3, 2, 1, 3, 3, shuffled in the batch.

    Group "q3" is a singleton; group "q4" has all-equal rewards (std 0, dyadic values so
    that the mean is exact); one response is empty (mask all 0, reward 0); two responses
    have their reward spread over several tokens, so the score is the sum over tokens.
    """
    g = torch.Generator().manual_seed(seed)
    sizes = [4, 3, 2, 1, 3, 3]
    uids = np.array([f"q{i}" for i, n in enumerate(sizes) for _ in range(n)])
    bs = len(uids)
    scores = torch.randn(bs, generator=g)
    scores[uids == "q4"] = 0.5
    scores[uids == "q5"] = torch.tensor([1.0, 0.0, 0.0])  # binary correctness, as GSM8K
    lens = torch.randint(1, response_length + 1, (bs,), generator=g)
    lens[1] = 0  # an empty response still counts in its group, with score 0
    scores[1] = 0.0
    cols = torch.arange(response_length)
    mask = (cols[None, :] < lens[:, None]).long()
    rewards = torch.zeros(bs, response_length)
    last = (lens - 1).clamp_min(0)
    rewards[torch.arange(bs), last] = scores
    for row in (0, 5):  # the same score, spread over the valid tokens
        rewards[row] = 0.0
        rewards[row, : lens[row]] = scores[row] / lens[row]
    perm = torch.randperm(bs, generator=g)
    return rewards[perm] * mask[perm], mask[perm], uids[perm.numpy()]


@snapshot("03", "grpo")
def grpo() -> dict:
    from verl.trainer.ppo.core_algos import compute_grpo_outcome_advantage

    rewards, mask, index = _grouped_batch()
    out = {"token_level_rewards": rewards, "response_mask": mask, "index": index}
    out["index_int"] = np.unique(index, return_inverse=True)[1].astype(np.int64) * 7 + 100
    for key, kwargs in {
        "norm": {"norm_adv_by_std_in_grpo": True},
        "no_norm": {"norm_adv_by_std_in_grpo": False},
        "eps": {"epsilon": 0.1},
    }.items():
        advantages, returns = compute_grpo_outcome_advantage(
            token_level_rewards=rewards, response_mask=mask, index=index, **kwargs
        )
        out |= {f"advantages_{key}": advantages, f"returns_{key}": returns}
    return out


@snapshot("03", "rloo")
def rloo() -> dict:
    from verl.trainer.ppo.core_algos import compute_rloo_outcome_advantage

    rewards, mask, index = _grouped_batch()
    advantages, returns = compute_rloo_outcome_advantage(token_level_rewards=rewards, response_mask=mask, index=index)
    return {
        "token_level_rewards": rewards, "response_mask": mask, "index": index,
        "advantages": advantages, "returns": returns,
    }


@snapshot("03", "reinforce_pp")
def reinforce_pp() -> dict:
    from omegaconf import OmegaConf
    from verl.trainer.ppo.core_algos import compute_reinforce_plus_plus_outcome_advantage

    rewards, mask = _multi_turn_batch(seed=59)
    out = {"token_level_rewards": rewards, "response_mask": mask}
    for key, gamma in RPP_GAMMAS.items():
        # verl takes the discount from the algorithm config (algorithm.gamma).
        advantages, returns = compute_reinforce_plus_plus_outcome_advantage(
            token_level_rewards=rewards, response_mask=mask, config=OmegaConf.create({"gamma": gamma})
        )
        out |= {f"gamma_{key}": np.float64(gamma), f"advantages_{key}": advantages, f"returns_{key}": returns}
    return out
