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

# Your masks.masked_whiten (§1.3), imported from this chapter's folder: done once, used here.
from .masks import masked_whiten


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

    Conventions (verl's):

    - GAE runs over the *valid* tokens of each response only: a token with
      ``response_mask == 0`` (padding, or a hole inside a response such as a tool's
      output) is not a step of the policy. It contributes neither its reward nor its value,
      and the valid token before a hole uses the value and advantage of the next *valid*
      token. After the last valid token, the next value and advantage are 0.
    - ``returns`` = the advantages **before** whitening + ``values`` (the critic's target).
    - ``advantages`` are then whitened over all valid tokens of the whole batch: one mean
      and one **unbiased** variance (as ``masked_whiten``).
    - Values on masked positions are not checked (verl leaves carried-over numbers there).

    Example (one response, mask ``[1, 0, 1]``, ``gamma = lam = 0.5``,
    ``r = [0, 5, 1]``, ``V = [0.5, 9, 0.25]``): returns on the valid tokens are
    ``[0.3125, ·, 1.0]`` (the 5 and the 9 under the mask are never used).

    In verl: ``verl/trainer/ppo/core_algos.py::compute_gae_advantage_return``.
    """
    # TODO: your implementation (lesson §2.2; `python grader.py hint 03.gae` when stuck).
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

    Conventions (verl's):

    - score of a response = Σ of its token rewards; a group = every response with an
      equal uid, wherever it sits in the batch (ids are labels: str and int alike).
    - advantage = (score − group mean) / (group std + ``epsilon``), with the **unbiased**
      std (n − 1); with ``norm_adv_by_std_in_grpo=False``, score − group mean.
    - a group of one has mean 0 and std 1; a group whose scores are all equal gets
      advantage 0 — never NaN.
    - the per-response advantage is broadcast over its tokens and is exactly 0 where
      ``response_mask`` is 0.

    Example: index ``["b", "a", "b", "a", "c"]``, scores ``[0.5, 3, 0.5, 1, 2]`` give
    advantages ``[0, 1/(√2 + ε), 0, −1/(√2 + ε), 2/(1 + ε)]`` per response.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_grpo_outcome_advantage`` (verl loops
    over responses; ``python grader.py bench 03`` compares yours with it).
    """
    # TODO: your implementation (lesson §2.3; `python grader.py hint 03.grpo` when stuck).
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

    Conventions (verl's): in a group of n > 1 responses (equal uids, anywhere in the
    batch), a response's advantage is its score minus the mean score of the *other*
    n − 1 responses. A group of one keeps its raw score. Broadcast over the tokens,
    exactly 0 where ``response_mask`` is 0.

    Example: one group with scores ``[1, 2, 6]`` → advantages ``[-3, -1.5, 4.5]``.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_rloo_outcome_advantage``.
    """
    # TODO: your implementation (lesson §2.4; `python grader.py hint 03.rloo` when stuck).
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
        gamma: discount factor γ. verl's trainer passes none: then ``config.gamma`` is γ.
        config, kwargs: what verl's trainer passes to every estimator.

    Returns:
        ``(advantages, returns)``, both ``(bs, response_length)`` float32.

    Conventions (verl's):

    - ``returns[t]`` = the discounted sum (factor γ per *valid* step) of the rewards of the
      valid tokens from t to the end of the response; a masked token adds no reward, is
      not a step, and has return 0.
    - ``advantages`` = the returns whitened over every valid token of the batch (one mean,
      one **unbiased** variance, as ``masked_whiten``), then exactly 0 on masked tokens.

    Example (mask ``[1, 1, 0, 1]``, ``r = [0, 1, 7, 2]``, ``γ = 0.5``):
    returns ``[1, 2, 0, 2]`` (the 7 under the mask is ignored).

    In verl: ``verl/trainer/ppo/core_algos.py::compute_reinforce_plus_plus_outcome_advantage``.
    """
    # TODO: your implementation (lesson §2.5; `python grader.py hint 03.reinforce_pp` when stuck).
    raise NotImplementedError(
        "implement compute_reinforce_plus_plus_outcome_advantage — see exercises/03/README.md §2.5"
    )


# ---------------------------------------------------------------- more estimators (§2.6–§2.10)


def compute_grpo_passk_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    norm_adv_by_std_in_grpo: bool = True,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GRPO for pass@k (arXiv:2503.19595): only the best response of each group is credited.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; score = sum over tokens.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        index: ``(bs,)`` numpy array of group ids (strings or ints, any order).
        epsilon: added to the group's std before dividing.
        norm_adv_by_std_in_grpo: accepted for verl's signature and **ignored**: verl reads the
            flag from ``config``.
        config: required (verl asserts it): verl's ``AlgoConfig`` or any mapping with
            ``.get``; ``config.get("norm_adv_by_std_in_grpo", True)`` says whether to divide
            by the std.
        kwargs: anything else verl's trainer passes; unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    Conventions (verl's): in each group the response with the highest score gets
    ``r_max - r_second_max`` (divided by the group's **unbiased** std + ``epsilon`` when the
    flag is on); every other response gets 0. A tie at the top gives 0. A group with fewer
    than 2 responses raises ``ValueError``; an empty batch has no group and gives empty
    ``(0, response_length)`` results. Broadcast over the tokens, 0 where the mask is 0.

    Example: one group, scores ``[1, 0, 0, 0]``, no std: advantages ``[1, 0, 0, 0]``; with the
    std (0.5): ``[2, 0, 0, 0]`` (up to epsilon).

    In verl: ``verl/trainer/ppo/core_algos.py::compute_grpo_passk_outcome_advantage``
    (``algorithm.adv_estimator=grpo_passk``).
    """
    # TODO: your implementation (lesson §2.6).
    raise NotImplementedError("implement compute_grpo_passk_outcome_advantage — see exercises/03/README.md §2.6")


def compute_reinforce_plus_plus_baseline_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """REINFORCE++ with a group baseline (arXiv:2501.03262), outcome rewards only.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; score = sum over tokens.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        index: ``(bs,)`` numpy array of group ids.
        epsilon, config, kwargs: accepted for verl's signature; unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    Conventions (verl's): a response's score minus its group's mean score (a group of one:
    mean 0), put on every valid token, then whitened over **all valid tokens of the batch**
    (one mean, one unbiased variance, as ``masked_whiten``; fewer than 2 valid tokens is a
    ``ValueError``), then exactly 0 on masked tokens.

    Example: two groups ``[1, 0]`` and ``[1, 1]``, one token each: centred ``[0.5, -0.5, 0, 0]``;
    whitened (mean 0, unbiased std √(1/6)) ``[1.2247, -1.2247, 0, 0]``.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_reinforce_plus_plus_baseline_outcome_advantage``
    (``algorithm.adv_estimator=reinforce_plus_plus_baseline``).
    """
    # TODO: your implementation (lesson §2.7).
    raise NotImplementedError(
        "implement compute_reinforce_plus_plus_baseline_outcome_advantage — see exercises/03/README.md §2.7"
    )


def compute_opo_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """OPO (arXiv:2505.23585): the group's length-weighted mean score as the baseline.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; score = sum over tokens.
        response_mask: ``(bs, response_length)``, 1 = generated token; a response's length is
            its number of valid tokens.
        index: ``(bs,)`` numpy array of group ids.
        epsilon, config, kwargs: accepted for verl's signature; unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    Conventions (verl's): baseline of a group = Σ length·score / Σ length over its responses
    (a group of one: baseline 0); advantage = score − baseline on every valid token, 0 on
    masked ones. No whitening, no std.

    Example: one group, scores ``[1, 0]``, lengths ``[3, 1]``: baseline 3/4, advantages
    ``+0.25`` on the 3 tokens of the first response and ``-0.75`` on the second's token.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_opo_outcome_advantage``
    (``algorithm.adv_estimator=opo``).
    """
    # TODO: your implementation (lesson §2.8).
    raise NotImplementedError("implement compute_opo_outcome_advantage — see exercises/03/README.md §2.8")


def compute_remax_outcome_advantage(
    token_level_rewards: torch.Tensor,
    reward_baselines: torch.Tensor,
    response_mask: torch.Tensor,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """ReMax (arXiv:2310.10505): the reward of a greedy response to the same prompt as the baseline.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32.
        reward_baselines: ``(bs,)`` float32, the reward of the greedy response to each row's prompt.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        config, kwargs: accepted for verl's signature; unused.

    Returns:
        ``(advantages, returns)``, both ``(bs, response_length)``:
        ``returns[t]`` = sum of ``token_level_rewards · response_mask`` from t to the end
        (undiscounted, masked rewards ignored); ``advantages = returns − reward_baselines`` on
        valid tokens and ``returns`` (i.e. 0 after the last reward) on masked ones.

    Example: rewards ``[0, 0, 1]``, mask all 1, baseline 0.25: returns ``[1, 1, 1]``,
    advantages ``[0.75, 0.75, 0.75]``.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_remax_outcome_advantage``
    (``algorithm.adv_estimator=remax``; the trainer generates the greedy baseline).
    """
    # TODO: your implementation (lesson §2.9).
    raise NotImplementedError("implement compute_remax_outcome_advantage — see exercises/03/README.md §2.9")


def compute_gpg_outcome_advantage(
    token_level_rewards: torch.Tensor,
    response_mask: torch.Tensor,
    index: np.ndarray,
    epsilon: float = 1e-6,
    f_norm: float = 1.0,
    alpha: float = 1.0,
    config: Any = None,
    **kwargs: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """GPG (github.com/AMAP-ML/GPG): group-mean baseline, rescaled by how many responses scored at all.

    Args:
        token_level_rewards: ``(bs, response_length)`` float32; score = sum over tokens.
        response_mask: ``(bs, response_length)``, 1 = generated token.
        index: ``(bs,)`` numpy array of group ids.
        epsilon: accepted for verl's signature; unused.
        f_norm: the advantage is divided by it.
        alpha: accepted and **ignored**: verl recomputes it (below).
        config, kwargs: accepted for verl's signature; unused.

    Returns:
        ``(advantages, returns)``: the same ``(bs, response_length)`` tensor twice.

    Conventions (verl's): ``alpha = bs / max(1, number of responses whose score is non-zero)``
    over the whole batch; advantage = ``alpha · (score − group mean) / f_norm`` (a group of
    one: mean 0; no std) on every valid token, 0 on masked ones.

    Example: two groups ``[1, 0]`` and ``[0, 0]``: alpha = 4 / 1 = 4; advantages
    ``[2, -2, 0, 0]``.

    In verl: ``verl/trainer/ppo/core_algos.py::compute_gpg_outcome_advantage``
    (``algorithm.adv_estimator=gpg``, with ``policy_loss.loss_mode=gpg``).
    """
    # TODO: your implementation (lesson §2.10).
    raise NotImplementedError("implement compute_gpg_outcome_advantage — see exercises/03/README.md §2.10")
