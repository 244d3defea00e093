"""Advantage estimators: how much better was this token (or this response) than expected?

Lesson: exercises/03/README.md §2 (中文: README.zh-CN.md §2).
Mirrors verl 0.9.1 ``verl/trainer/ppo/core_algos.py``: ``compute_gae_advantage_return``
(PPO, Schulman et al. 2015, arXiv:1506.02438), ``compute_grpo_outcome_advantage``
(DeepSeekMath, arXiv:2402.03300), ``compute_rloo_outcome_advantage`` (arXiv:2402.14740) and
``compute_reinforce_plus_plus_outcome_advantage`` (arXiv:2501.03262).

Shapes used in this module:
    bs               number of responses in the batch (prompts × rollout.n)
    response_length  right-padded response tokens
    group_size       responses sampled for the same prompt (rollout.n); they share a uid

Every estimator returns ``(advantages, returns)``, both ``(bs, response_length)`` with the
dtype of ``token_level_rewards``. ``response_mask`` is 1 on tokens the policy generated and
0 on right padding *and* on holes inside a response (a tool's output in a multi-turn
rollout). ``index`` is a numpy array of ``bs`` group ids (uids): strings or ints, in any
order — responses to one prompt need not sit next to each other in the batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch


def _masked_whiten(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(values - mean) * rsqrt(var + 1e-8)``, mean and *unbiased* var over ``mask == 1`` only.

    The same formula as ``masks.masked_whiten`` (§1.3): copy your version here. A chapter
    module never imports another one (the grader may load them from different folders).
    ``mean = sum(values * mask) / (sum(mask) + 1e-8)``,
    ``var = sum((values - mean)**2 * mask) / (sum(mask) + 1e-8) * n / (n - 1)`` with ``n = sum(mask)``.
    Every position is whitened (masked ones too); only the statistics ignore masked positions.
    """
    # TODO: a private copy of your masked_whiten (shift_mean=True).
    raise NotImplementedError("implement _masked_whiten — see exercises/03/README.md §1.3")


def compute_gae_advantage_return(
    token_level_rewards: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised Advantage Estimation over the response tokens, right to left.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32, reward of each token.
        values: ``(bs, response_length)`` float32, the critic's value of each token.
        response_mask: ``(bs, response_length)`` int64 (or bool/float), 1 = generated token.
        gamma: discount factor γ.
        lam: GAE's λ.

    Returns:
        ``(advantages, returns)``, both ``(bs, response_length)`` float32.

    For ``t`` from the last column down to 0, with ``nextvalues = lastgaelam = 0`` at the start::

        delta      = r[t] + gamma * nextvalues - V[t]
        lastgaelam = delta + gamma * lam * lastgaelam        # only where mask[t] == 1
        nextvalues = V[t]                                    # only where mask[t] == 1
        advantages[t] = lastgaelam

    Where ``mask[t] == 0`` the token is not a step of the policy: ``nextvalues`` and
    ``lastgaelam`` pass through unchanged, so the token before a hole looks straight past it
    to the next generated token. Then ``returns = advantages + values`` (the critic's target,
    from the advantages *before* whitening) and ``advantages = _masked_whiten(advantages,
    response_mask)`` — one mean and std over all valid tokens of the batch.
    The tests check valid positions only (verl leaves carried-over values on masked ones).

    Example (one response, mask ``[1, 0, 1]``, ``gamma = lam = 0.5``)::

        r = [0, 0, 1], V = [0.5, 9, 0.25]
        t=2: delta = 1 + 0 - 0.25 = 0.75,  lastgaelam = 0.75,  nextvalues = 0.25
        t=1: masked — carry 0.75 and 0.25 (V = 9 is never used)
        t=0: delta = 0 + 0.5*0.25 - 0.5 = -0.375,  lastgaelam = -0.375 + 0.25*0.75 = -0.1875
        returns on valid tokens: [-0.1875 + 0.5, ·, 0.75 + 0.25] = [0.3125, ·, 1.0]
    """
    # TODO: loop t over reversed(range(response_length)); blend with the mask column by column.
    raise NotImplementedError("implement compute_gae_advantage_return — see exercises/03/README.md §2.2")


def compute_grpo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    norm_adv_by_std_in_grpo: bool = True,
    config: Any = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GRPO: each response's score, normalised within its group (same uid).

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; the score of a response is
            the sum over its tokens (an outcome reward sits on the last valid token).
        response_mask: ``(bs, response_length)``, 1 = generated token.
        index: ``(bs,)`` numpy array of group ids (strings or ints, any order).
        epsilon: added to the std before dividing.
        norm_adv_by_std_in_grpo: divide by the group std (GRPO) or not (Dr. GRPO).
        config: verl's algorithm config; accepted and unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    ``score_i = sum_t r[i, t]``; over the group of ``i``: ``mean`` and *unbiased* ``std``
    (``torch.std``, divides by n - 1). A group of one has ``mean = 0, std = 1``.
    ``a_i = (score_i - mean) / (std + epsilon)`` (or ``score_i - mean`` without the std),
    broadcast over the tokens and multiplied by ``response_mask`` (exactly 0 on masked tokens).
    A group whose scores are all equal has std 0 and advantage 0 — never NaN.

    Example: index ``["b", "a", "b", "a", "c"]``, scores ``[0.5, 3, 0.5, 1, 2]``::

        a: mean 2, std sqrt(((3-2)**2 + (1-2)**2) / 1) = sqrt(2) → a = ±1 / (sqrt(2) + 1e-6)
        b: all equal → 0;  c: alone → 2 / (1 + 1e-6)

    Make it vectorised: map uids to 0..G-1 with ``np.unique(index, return_inverse=True)``
    and sum per group with ``index_add_`` / ``bincount`` — no Python loop over responses.
    """
    # TODO: scores → group ids → per-group count, mean, unbiased std → scalars → × mask.
    raise NotImplementedError("implement compute_grpo_outcome_advantage — see exercises/03/README.md §2.3")


def compute_rloo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """RLOO: each response's score minus the mean score of the *other* responses of its group.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; score = sum over tokens.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        index: ``(bs,)`` numpy array of group ids (strings or ints, any order).
        epsilon: accepted for verl's signature; unused.
        config, kwargs: what verl's trainer passes to every estimator; unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    For a group of ``n > 1``: ``a_i = score_i - (sum_j score_j - score_i) / (n - 1)``,
    the same as ``n / (n - 1) * (score_i - mean)``. A group of one keeps its raw score
    (verl's ``compute_rloo_outcome_advantage`` leaves it unchanged). Broadcast over the tokens
    and multiplied by ``response_mask``.

    Example: one group with scores ``[1, 2, 6]``::

        a = [1 - (2+6)/2, 2 - (1+6)/2, 6 - (1+2)/2] = [-3, -1.5, 4.5]

    Vectorised, as GRPO: group ids from ``np.unique``, per-group sums with ``index_add_``.
    """
    # TODO: per-group count n and sum S; a = (n * score - S) / (n - 1) where n > 1; × mask.
    raise NotImplementedError("implement compute_rloo_outcome_advantage — see exercises/03/README.md §2.4")


def compute_reinforce_plus_plus_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    gamma: float | None = None,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """REINFORCE++: discounted returns-to-go, whitened over the whole batch.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        gamma: discount factor γ. verl's trainer passes none and gives ``config.gamma``
            instead; the first line below handles that.
        config, kwargs: what verl's trainer passes to every estimator.

    Returns:
        ``(advantages, returns)``, both ``(bs, response_length)`` float32.

    Right to left, with ``running = 0``::

        returns[t] = (r[t] + gamma * running) * mask[t]
        running    = r[t] + gamma * running                 # only where mask[t] == 1

    A masked token is skipped: its reward is not added and ``running`` passes through it
    unchanged (returns are 0 there). Then ``advantages = _masked_whiten(returns,
    response_mask) * response_mask`` — one mean and std over every valid token of the batch.

    Example (mask ``[1, 1, 0, 1]``, ``r = [0, 1, 7, 2]``, ``gamma = 0.5``)::

        t=3: 2          t=2: masked, running stays 2 (the 7 is ignored)
        t=1: 1 + 0.5*2 = 2     t=0: 0 + 0.5*2 = 1      returns = [1, 2, 0, 2]
    """
    if gamma is None:
        gamma = config.gamma
    # TODO: the reversed loop above, then whiten over the mask and zero the masked tokens.
    raise NotImplementedError(
        "implement compute_reinforce_plus_plus_outcome_advantage — see exercises/03/README.md §2.5"
    )
