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
    """Whitening as ``masks.masked_whiten`` with ``shift_mean=True`` (§1.3): same result.

    (x − μ) / √(σ² + 1e-8) at every position; μ and the **unbiased** σ² come from the
    positions where ``mask == 1`` only. A chapter module never imports another one (the
    grader may load them from different folders), so this module keeps its own copy.
    """
    # TODO: your implementation (the same as your masked_whiten).
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

    Conventions (verl's):

    - GAE runs over the *valid* tokens of each response only: a token with
      ``response_mask == 0`` (padding, or a hole inside a response such as a tool's
      output) is not a step of the policy. It contributes neither its reward nor its value,
      and the valid token before a hole uses the value and advantage of the next *valid*
      token. After the last valid token, the next value and advantage are 0.
    - ``returns`` = the advantages **before** whitening + ``values`` (the critic's target).
    - ``advantages`` are then whitened over all valid tokens of the whole batch: one mean
      and one **unbiased** variance (as ``_masked_whiten``).
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
      one **unbiased** variance, as ``_masked_whiten``), then exactly 0 on masked tokens.

    Example (mask ``[1, 1, 0, 1]``, ``r = [0, 1, 7, 2]``, ``γ = 0.5``):
    returns ``[1, 2, 0, 2]`` (the 7 under the mask is ignored).

    In verl: ``verl/trainer/ppo/core_algos.py::compute_reinforce_plus_plus_outcome_advantage``.
    """
    # TODO: your implementation (lesson §2.5; `python grader.py hint 03.reinforce_pp` when stuck).
    raise NotImplementedError(
        "implement compute_reinforce_plus_plus_outcome_advantage — see exercises/03/README.md §2.5"
    )
