"""Losses: how verl turns per-token numbers into the one scalar it calls ``backward()`` on.

Lesson: exercises/03/README.md §3 (中文: README.zh-CN.md §3).
Mirrors verl 0.9.1 ``verl/trainer/ppo/core_algos.py``: ``agg_loss``,
``compute_policy_loss`` (the flat form of ``compute_policy_loss_vanilla``, which
reads the clip ranges from an ``ActorConfig``), ``compute_value_loss`` and
``compute_entropy_loss``. Papers: PPO (Schulman et al. 2017), dual-clip PPO
(Ye et al. 2019, arXiv:1912.09729), DAPO's clip-higher, Dr. GRPO's constant normaliser.

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

import torch


def agg_loss(loss_mat: torch.Tensor, loss_mask: torch.Tensor, loss_agg_mode: str) -> torch.Tensor:
    """Aggregate a per-token loss matrix into one scalar.

    Args:
        loss_mat: ``(bs, response_length)`` float, the loss of every token.
        loss_mask: ``(bs, response_length)`` 0/1 (int64 or float), 1 = the token counts.
        loss_agg_mode: one of

            ``"token-mean"``               Σ valid losses / number of valid tokens in the batch.
                                           Every token weighs the same (verl's default, DAPO).
            ``"seq-mean-token-sum"``       sum each row's valid losses, then average over the rows
                                           that have at least one valid token.
            ``"seq-mean-token-mean"``      average each row's valid losses (row sum / (row count + 1e-8)),
                                           then average over the rows that have a valid token
                                           (the original GRPO: every sequence weighs the same).
            ``"seq-mean-token-sum-norm"``  ``seq-mean-token-sum`` divided by the constant
                                           ``loss_mask.shape[-1]`` (Dr. GRPO: no length bias).

    Returns:
        A 0-d float tensor. Any other ``loss_agg_mode`` raises ``ValueError`` (as verl does).

    Note:
        verl 0.9.1's ``agg_loss`` also takes ``dp_size``, ``batch_num_tokens``,
        ``global_batch_size`` and ``loss_scale_factor`` to normalise over the *global* batch
        when data-parallel ranks each see a micro-batch; with their defaults
        (1, None, None, None) it computes exactly the four modes above. It also has a
        ``"token-sum"`` mode, not part of this exercise.

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
    """
    # TODO: one branch per mode; mask before summing, count only non-empty rows, else ValueError.
    raise NotImplementedError("implement agg_loss — see exercises/03/README.md §3.1")


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
    """PPO's clipped surrogate loss with dual clip, as verl's actor computes it.

    Args:
        old_log_prob: ``(bs, response_length)`` float, log π_old(token) at rollout time (no gradient).
        log_prob: ``(bs, response_length)`` float, log π_θ(token) now (carries the gradient).
        advantages: ``(bs, response_length)`` float, A per token.
        response_mask: ``(bs, response_length)`` 0/1.
        cliprange: ε; ``cliprange_low`` and ``cliprange_high`` default to it when ``None``.
        cliprange_low, cliprange_high: the ratio is clipped to ``[1 - low, 1 + high]``
            (DAPO's clip-higher uses high > low).
        clip_ratio_c: dual-clip bound c (> 1) for negative advantages.
        loss_agg_mode: passed on to :func:`agg_loss`.

    Returns:
        ``(pg_loss, pg_clipfrac, ppo_kl, pg_clipfrac_lower)``, four 0-d float tensors::

            log_ratio   = clamp(log_prob - old_log_prob, -20, 20)     # exp must not overflow
            r           = exp(log_ratio)
            ppo_kl      = masked_mean(-log_ratio)
            loss1       = -A · r
            loss2       = -A · clamp(r, 1 - cliprange_low, 1 + cliprange_high)
            clipped     = max(loss1, loss2)        # the pessimistic bound: a loss is a negated objective
            pg_clipfrac = masked_mean(loss2 > loss1)
            loss3       = -A · clip_ratio_c
            dual        = min(loss3, clipped)      # caps the loss where A < 0 and r is huge
            pg_clipfrac_lower = masked_mean((clipped > loss3) and (A < 0))
            per_token   = dual where A < 0, else clipped
            pg_loss     = agg_loss(per_token, response_mask, loss_agg_mode)

        ``masked_mean(x) = Σ x·mask / (Σ mask + 1e-8)`` over the whole batch. ``pg_loss``
        keeps the gradient to ``log_prob``.

    Example:
        ratio e² = 7.389 with ε = 0.2, c = 3: for A = +1 the token's loss is
        max(-7.389, -1.2) = -1.2; for A = -1 it is min(3, max(7.389, 1.2)) = 3.

        >>> pg_loss, clipfrac, ppo_kl, clipfrac_lower = compute_policy_loss(
        ...     old_log_prob=torch.zeros(1, 2), log_prob=torch.full((1, 2), 2.0),
        ...     advantages=torch.tensor([[1.0, -1.0]]), response_mask=torch.ones(1, 2), cliprange=0.2)
        >>> pg_loss, clipfrac, ppo_kl, clipfrac_lower   # (-1.2 + 3) / 2, 1/2, -2, 1/2
        (tensor(0.9000), tensor(0.5000), tensor(-2.), tensor(0.5000))
    """
    # TODO: follow the formulas above; torch.maximum / torch.minimum / torch.where, masked means.
    raise NotImplementedError("implement compute_policy_loss — see exercises/03/README.md §3.2")


def compute_value_loss(
    vpreds: torch.Tensor,
    returns: torch.Tensor,
    values: torch.Tensor,
    response_mask: torch.Tensor,
    cliprange_value: float,
    loss_agg_mode: str = "token-mean",
) -> tuple[torch.Tensor, torch.Tensor]:
    """The critic's clipped value loss (PPO).

    Args:
        vpreds: ``(bs, response_length)`` float, the critic's new predictions (carry the gradient).
        returns: ``(bs, response_length)`` float, targets (e.g. GAE returns).
        values: ``(bs, response_length)`` float, the critic's predictions at rollout time.
        response_mask: ``(bs, response_length)`` 0/1.
        cliprange_value: how far ``vpreds`` may move from ``values``.
        loss_agg_mode: passed on to :func:`agg_loss`.

    Returns:
        ``(vf_loss, vf_clipfrac)``, two 0-d float tensors::

            vpredclipped = clamp(vpreds, values - cliprange_value, values + cliprange_value)
            loss1        = (vpreds - returns)²
            loss2        = (vpredclipped - returns)²
            vf_loss      = 0.5 · agg_loss(max(loss1, loss2), response_mask, loss_agg_mode)
            vf_clipfrac  = masked_mean(loss2 > loss1)

    Example:
        values 0, cliprange_value 0.5, vpreds 2 (clipped to 0.5): with returns 3 the squared
        errors are 1 and 6.25 → 6.25; with returns 1 they are 1 and 0.25 → 1.
        vf_loss = 0.5 · (6.25 + 1) / 2 = 1.8125, vf_clipfrac = 1/2.
    """
    # TODO: clip the prediction around the old value, take the larger squared error, halve.
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
        0-d float tensor ``agg_loss(H, response_mask, loss_agg_mode)`` where the per-token
        entropy ``H = logsumexp(z) - Σ_v softmax(z)_v · z_v`` is ``(bs, response_length)``.

    Example:
        uniform logits over 4 tokens have H = ln 4 = 1.3863; a token whose logit is 100 above
        the others has H ≈ 0; with both valid the token-mean is 0.6931.
    """
    # TODO: entropy per token from the logits, then agg_loss with the mask.
    raise NotImplementedError("implement compute_entropy_loss — see exercises/03/README.md §3.4")
