"""Losses: how verl turns per-token numbers into the one scalar it calls ``backward()`` on.

Lesson: exercises/03/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1 ``verl/trainer/ppo/core_algos.py``: ``agg_loss`` (micro-batch and
data-parallel invariant), ``compute_policy_loss_vanilla`` (registered as
``policy_loss.loss_mode="vanilla"``; the deprecated flat ``compute_policy_loss`` is given as
a thin wrapper over it), ``compute_value_loss`` and ``compute_entropy_loss``.
Papers: PPO (Schulman et al. 2017), dual-clip PPO (Ye et al. 2019, arXiv:1912.09729),
DAPO's clip-higher, Dr. GRPO's constant normaliser.

Shapes used in this module:
    bs               number of sequences in the micro-batch
    response_length  right-padded response tokens
    vocab_size       size of the tokenizer's vocabulary
Every ``(bs, response_length)`` tensor is right-padded; ``response_mask`` (int64 or
float, 1 = real response token, 0 = padding) says which positions count. Positions
where the mask is 0 may hold any finite junk and must never change a result.

This module stands alone: write the small helpers you need (a masked sum, a masked
mean, entropy from logits) here instead of importing them from masks.py.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

AGG_MODES = ("token-mean", "token-sum", "seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm")


def agg_loss(
    loss_mat: torch.Tensor,
    loss_mask: torch.Tensor,
    loss_agg_mode: str,
    dp_size: int = 1,
    batch_num_tokens: int | None = None,
    global_batch_size: int | None = None,
    loss_scale_factor: int | None = None,
) -> torch.Tensor:
    """Aggregate one micro-batch's per-token loss matrix into the scalar verl calls ``backward()`` on.

    Args:
        loss_mat: ``(bs, response_length)`` float, the loss of every token of this micro-batch.
        loss_mask: ``(bs, response_length)`` 0/1 (int64, bool or float), 1 = the token counts.
        loss_agg_mode: one of :data:`AGG_MODES`

            ``"token-mean"``               every valid token of the (global) batch weighs the same
                                           (verl's default, DAPO).
            ``"token-sum"``                the plain sum over valid tokens.
            ``"seq-mean-token-sum"``       each sequence's token sum, averaged over sequences.
            ``"seq-mean-token-mean"``      each sequence's token mean (row sum / (row count + 1e-8)),
                                           averaged over sequences (the original GRPO).
            ``"seq-mean-token-sum-norm"``  ``seq-mean-token-sum`` divided by a constant (Dr. GRPO).

        dp_size: number of data-parallel ranks. Each rank's micro-batch losses are summed by
            ``backward()`` and the ranks' gradients are *averaged* by the all-reduce, so every
            mode except the local defaults multiplies by ``dp_size``.
        batch_num_tokens: valid tokens in the whole mini-batch, all ranks together
            (``token-mean``'s denominator). ``None``: this micro-batch's own ``loss_mask.sum()``.
        global_batch_size: sequences in the whole mini-batch, all ranks together (the seq modes'
            denominator). ``None``: the rows of this micro-batch that have a valid token.
        loss_scale_factor: ``seq-mean-token-sum-norm``'s constant; ``None`` = ``loss_mask.shape[-1]``.

    Returns:
        A 0-d float tensor: (masked sum of the mode's per-token or per-sequence losses) /
        (the count) × ``dp_size``. Summed over the micro-batches of every rank and divided by
        ``dp_size``, the results equal the loss of the whole mini-batch.

    Raises:
        ValueError: an unknown ``loss_agg_mode`` (name the valid ones); ``dp_size > 1`` with
            ``batch_num_tokens`` (token-mean) or ``global_batch_size`` (seq modes) missing —
            verl's messages: "(global) batch_num_tokens is required when dp_size > 1" and
            "global_batch_size is required when dp_size > 1".

    Conventions (verl's): ``token-mean`` divides by the exact count, no epsilon (an all-padding
    micro-batch without global counts gives NaN); values under the mask never matter.

    Example:
        >>> loss_mat = torch.tensor([[1.0, 2.0, 3.0], [4.0, 9.0, 9.0], [7.0, 7.0, 7.0]])
        >>> loss_mask = torch.tensor([[1, 1, 1], [1, 0, 0], [0, 0, 0]])  # row 2 is empty
        >>> agg_loss(loss_mat, loss_mask, "token-mean")          # (1 + 2 + 3 + 4) / 4
        tensor(2.5000)
        >>> agg_loss(loss_mat, loss_mask, "seq-mean-token-sum")  # (6 + 4) / 2 non-empty rows
        tensor(5.)
        >>> agg_loss(loss_mat, loss_mask, "seq-mean-token-mean")  # (2 + 4) / 2
        tensor(3.)
        >>> agg_loss(loss_mat, loss_mask, "seq-mean-token-sum-norm")  # 5 / response_length 3
        tensor(1.6667)
        >>> agg_loss(loss_mat, loss_mask, "token-mean", dp_size=2, batch_num_tokens=8)  # 10 / 8 * 2
        tensor(2.5000)

    verl: ``agg_loss`` in ``verl/trainer/ppo/core_algos.py``.
    """
    # TODO: your implementation (lesson §3.1; `python grader.py hint 03.agg_loss` when stuck).
    raise NotImplementedError("implement agg_loss — see exercises/03/README.md §3.1")


# verl keeps its policy losses in a registry and the trainer picks one by
# ``actor_rollout_ref.actor.policy_loss.loss_mode``. This is the same mechanism (given, not an
# exercise); policy_losses.py registers into it too.
POLICY_LOSS_REGISTRY: dict[str, Callable[..., tuple[torch.Tensor, dict[str, Any]]]] = {}


def register_policy_loss(name: str) -> Callable:
    """Decorator: register a policy loss under ``name`` (verl's ``register_policy_loss``)."""

    def decorator(func: Callable) -> Callable:
        POLICY_LOSS_REGISTRY[name] = func
        return func

    return decorator


def get_policy_loss_fn(name: str) -> Callable[..., tuple[torch.Tensor, dict[str, Any]]]:
    """The loss registered under ``name``; ``ValueError`` naming the registered ones otherwise."""
    if name not in POLICY_LOSS_REGISTRY:
        raise ValueError(f"Unsupported loss mode: {name}. Supported modes are: {list(POLICY_LOSS_REGISTRY)}")
    return POLICY_LOSS_REGISTRY[name]


@register_policy_loss("vanilla")
def compute_policy_loss_vanilla(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """PPO's clipped surrogate loss with dual clip, as verl's actor computes it (``loss_mode="vanilla"``).

    Args:
        old_log_prob: ``(bs, response_length)`` float, log π_old(token) at rollout time (no gradient).
        log_prob: ``(bs, response_length)`` float, log π_θ(token) now (carries the gradient).
        advantages: ``(bs, response_length)`` float, A per token.
        response_mask: ``(bs, response_length)`` 0/1 (int64, bool or float).
        loss_agg_mode: passed on to :func:`agg_loss`.
        config: verl's ``ActorConfig`` or an object with the same attributes
            (``verlings.fixtures.actor_config.ActorConfig`` in the tests). Read:
            ``clip_ratio`` (ε); ``clip_ratio_low`` / ``clip_ratio_high`` (the ratio is clipped to
            ``[1 - low, 1 + high]``; each defaults to ``clip_ratio`` when ``None``);
            ``config.get("clip_ratio_c", 3.0)`` (dual-clip bound c > 1, for A < 0 only);
            ``global_batch_info``, a dict of :func:`agg_loss` keywords (``dp_size``,
            ``batch_num_tokens``, ``global_batch_size``, ``loss_scale_factor``) that verl fills
            before each micro-batch — pass it on with ``**``; empty = local counts.
        rollout_is_weights: ``(bs, response_length)`` or ``None``; when given, each token's loss
            is multiplied by it before aggregation (rollout correction, §5).

    Returns:
        ``(pg_loss, metrics)``: ``pg_loss`` a 0-d tensor that carries the gradient to ``log_prob``;
        ``metrics`` a dict of three Python floats, each a masked mean over ``response_mask``
        (``Σ x·mask / (Σ mask + 1e-8)``, local to this micro-batch):
        ``"actor/pg_clipfrac"`` (share of tokens where the clipped term won),
        ``"actor/ppo_kl"`` (mean of ``old_log_prob - log_prob``, log-ratio clamped to ±20) and
        ``"actor/pg_clipfrac_lower"`` (share of tokens with A < 0 where the dual clip won).

    Conventions: the log-ratio is clamped to ``[-20, 20]`` before ``exp``; a "won" clip is a
    strict ``>``; ``clip_ratio_c <= 1`` is an ``AssertionError``, as in verl.

    Example:
        ratio e² = 7.389 with ε = 0.2, c = 3: for A = +1 the token's loss is -1.2, for A = -1
        it is 3, so ``pg_loss = (-1.2 + 3) / 2 = 0.9`` and every metric is 1/2, ppo_kl -2.

    verl: ``compute_policy_loss_vanilla`` in ``verl/trainer/ppo/core_algos.py``.
    """
    # TODO: your implementation (lesson §3.2; `python grader.py hint 03.policy_loss` when stuck).
    raise NotImplementedError("implement compute_policy_loss_vanilla — see exercises/03/README.md §3.2")


@dataclass
class _FlatConfig:
    """The four clip settings of the deprecated flat signature, as a config the vanilla loss reads."""

    clip_ratio: float | None
    clip_ratio_low: float | None
    clip_ratio_high: float | None
    clip_ratio_c: float = 3.0
    global_batch_info: dict = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


def compute_policy_loss(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    cliprange: float | None = None,
    cliprange_low: float | None = None,
    cliprange_high: float | None = None,
    clip_ratio_c: float = 3.0,
    loss_agg_mode: str = "token-mean",
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Deprecated in verl 0.9.1 (given, not an exercise): the flat signature over your vanilla loss.

    Returns ``(pg_loss, pg_clipfrac, ppo_kl, pg_clipfrac_lower)`` as four tensors, computed by
    :func:`compute_policy_loss_vanilla` with the clip settings as a config.
    """
    warnings.warn(
        "compute_policy_loss is deprecated (as in verl 0.9.1): use compute_policy_loss_vanilla",
        FutureWarning,
        stacklevel=2,
    )
    config = _FlatConfig(cliprange, cliprange_low, cliprange_high, clip_ratio_c)
    pg_loss, metrics = compute_policy_loss_vanilla(
        old_log_prob, log_prob, advantages, response_mask, loss_agg_mode=loss_agg_mode, config=config
    )
    keys = ("actor/pg_clipfrac", "actor/ppo_kl", "actor/pg_clipfrac_lower")
    return (pg_loss, *(torch.tensor(metrics[k]) for k in keys))


def compute_value_loss(
    vpreds: torch.Tensor,
    returns: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    cliprange_value: float,
    loss_agg_mode: str = "token-mean",
    dp_size: int = 1,
    batch_num_tokens: int | None = None,
    global_batch_size: int | None = None,
    loss_scale_factor: int | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The critic's clipped value loss (PPO).

    Args:
        vpreds: ``(bs, response_length)`` float, the critic's new predictions (carry the gradient).
        returns: ``(bs, response_length)`` float, targets (e.g. GAE returns).
        values: ``(bs, response_length)`` float, the critic's predictions at rollout time.
        response_mask: ``(bs, response_length)`` 0/1.
        cliprange_value: how far ``vpreds`` may move from ``values``.
        loss_agg_mode, dp_size, batch_num_tokens, global_batch_size, loss_scale_factor: passed on
            to :func:`agg_loss` unchanged (verl's critic gets the global counts the same way).

    Returns:
        ``(vf_loss, vf_clipfrac)``, two 0-d float tensors:

        - per token, the larger of two squared errors against ``returns``: the prediction's
          own, and that of the prediction clipped to ``values ± cliprange_value``;
        - ``vf_loss`` = ½ × those per-token losses aggregated by :func:`agg_loss` (mode and
          global counts as given);
        - ``vf_clipfrac`` = the masked mean (Σ / (n + 1e-8)) of "the clipped error is
          strictly larger" over valid tokens.

    Example:
        values 0, cliprange_value 0.5, vpreds 2 (clipped to 0.5): with returns 3 the squared
        errors are 1 and 6.25 → 6.25; with returns 1 they are 1 and 0.25 → 1.
        vf_loss = 0.5 · (6.25 + 1) / 2 = 1.8125, vf_clipfrac = 1/2.

    verl: ``compute_value_loss`` in ``verl/trainer/ppo/core_algos.py``.
    """
    # TODO: your implementation (lesson §3.3; `python grader.py hint 03.value_loss` when stuck).
    raise NotImplementedError("implement compute_value_loss — see exercises/03/README.md §3.3")


def compute_entropy_loss(
    logits: torch.Tensor, response_mask: torch.Tensor, loss_agg_mode: str = "token-mean"
) -> torch.Tensor:
    """The mean entropy of the policy over the response tokens (verl subtracts ``entropy_coeff`` times it).

    Args:
        logits: ``(bs, response_length, vocab_size)`` float.
        response_mask: ``(bs, response_length)`` 0/1.
        loss_agg_mode: passed on to :func:`agg_loss`.

    Returns:
        0-d float tensor: the per-token entropy H = −Σ_v p_v log p_v of softmax(logits)
        (``(bs, response_length)``, finite when probabilities underflow), aggregated over the
        valid tokens by :func:`agg_loss` in ``loss_agg_mode``.

    Example:
        uniform logits over 4 tokens have H = ln 4 = 1.3863; a token whose logit is 100 above
        the others has H ≈ 0; with both valid the token-mean is 0.6931.

    verl: ``compute_entropy_loss`` in ``verl/trainer/ppo/core_algos.py``.
    """
    # TODO: your implementation (lesson §3.4; `python grader.py hint 03.entropy_loss` when stuck).
    raise NotImplementedError("implement compute_entropy_loss — see exercises/03/README.md §3.4")
