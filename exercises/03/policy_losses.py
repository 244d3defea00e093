"""verl 0.9.1's other registered policy losses: GSPO, CISPO, GPG, GMPO (geo_mean), Clip-Cov, KL-Cov.

Lesson: exercises/03/README.md §3.6–§3.12 (中文: README.zh-CN.md §3.6–§3.12).
Mirrors verl 0.9.1 ``verl/trainer/ppo/core_algos.py``: each loss is registered under
``actor_rollout_ref.actor.policy_loss.loss_mode`` and called by verl's actor as

    pg_loss, metrics = fn(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode, config,
                          rollout_is_weights)

Shapes used in this module:
    bs               sequences in the micro-batch
    response_length  right-padded response tokens
Every ``(bs, response_length)`` tensor is right-padded; ``response_mask`` (bool, int64 or float;
1 = real response token) says which positions count. Values under the mask are finite junk.

Common arguments of every loss:
    old_log_prob: ``(bs, response_length)``, log π_old at rollout time (no gradient).
    log_prob: ``(bs, response_length)``, log π_θ now; ``pg_loss`` carries its gradient.
    advantages: ``(bs, response_length)``.
    response_mask: ``(bs, response_length)``.
    loss_agg_mode: passed on to :func:`agg_loss` (one of losses.py's five modes).
    config: verl's ``ActorConfig`` or an object with the same attributes
        (``verlings.fixtures.actor_config.ActorConfig`` in the tests): ``clip_ratio``,
        ``clip_ratio_low`` / ``clip_ratio_high`` (each falls back to ``clip_ratio`` when ``None``),
        ``policy_loss`` (``clip_cov_ratio``, ``clip_cov_lb``, ``clip_cov_ub``, ``kl_cov_ratio``,
        ``ppo_kl_coef``) and ``global_batch_info`` (a dict of :func:`agg_loss` keywords, passed
        on with ``**``). ``None`` is an ``AssertionError``, as in verl.
    rollout_is_weights: ``(bs, response_length)`` or ``None``: when given, each token's loss is
        multiplied by it before aggregation (rollout correction, §5).

Every metric is a Python float; "masked mean" means ``Σ x·mask / (Σ mask + 1e-8)`` over this
micro-batch (your ``masks.masked_mean``). Aggregation is your ``losses.agg_loss``; both are imported,
not copied, so these tests also need 03.masked_mean and 03.agg_loss to pass.
"""

from __future__ import annotations

from typing import Any

import torch

# Your own pieces, imported (a chapter is a package): the registry and agg_loss from losses.py,
# masked_mean from masks.py. verl keeps one registry for every loss, and so does this chapter.
from .losses import POLICY_LOSS_REGISTRY, agg_loss, get_policy_loss_fn, register_policy_loss
from .masks import masked_mean

__all__ = ["POLICY_LOSS_REGISTRY", "get_policy_loss_fn", "register_policy_loss"]


@register_policy_loss("gspo")
def compute_policy_loss_gspo(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "seq-mean-token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """GSPO (arXiv:2507.18071): PPO's clip on a *sequence*-level importance ratio.

    Args: see the module docstring; note the default ``loss_agg_mode="seq-mean-token-mean"``.

    Returns:
        ``(pg_loss, metrics)`` with ``metrics`` = ``{"actor/pg_clipfrac", "actor/ppo_kl",
        "actor/pg_clipfrac_lower"}``:

        - the sequence ratio is ``s_i`` = exp(mean over i's valid tokens of log π − log π_old)
          (the length clamped to ≥ 1); each token uses the ratio whose **value** is ``s_i`` and whose
          **gradient** is that of its own ``log_prob`` (``s_i`` itself is a constant), its log
          clamped to ``≤ 10`` before ``exp``;
        - per token: the larger of −A·ratio and −A·(ratio clipped to [1 − low, 1 + high]) (no dual clip);
        - ``pg_clipfrac`` = masked mean of (clipped term > unclipped term); ``ppo_kl`` = masked mean
          of ``old_log_prob - log_prob`` (no clamp); ``pg_clipfrac_lower`` = ``0.0``.

    Example: one sequence with token log-ratios ``[0.2, 0.4]``: ``s = exp(0.3) = 1.3499``; with
    A = 1, ε = 0.2 both tokens' losses are ``max(-1.3499, -1.2) = -1.2`` (clipped).

    In verl: ``compute_policy_loss_gspo``, ``policy_loss.loss_mode=gspo``.
    """
    # TODO: your implementation (lesson §3.7).
    raise NotImplementedError("implement compute_policy_loss_gspo — see exercises/03/README.md §3.7")


@register_policy_loss("cispo")
def compute_policy_loss_cispo(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """CISPO (MiniMax-M1, arXiv:2506.13585): a clipped, stop-gradient importance weight times log π.

    Args: see the module docstring.

    Returns:
        ``(pg_loss, metrics)`` with ``metrics`` = ``{"actor/pg_clipfrac", "actor/ppo_kl",
        "actor/pg_clipfrac_lower"}``:

        - r = π / π_old per token (its log clamped to [−20, 20]), w = r clipped to [1 − low, 1 + high],
          treated as a constant (no gradient through it);
        - per token: ``-w · A · log_prob`` — every token keeps a gradient, even where ``r`` is clipped;
        - ``pg_clipfrac`` = masked mean of ``r != w``; ``ppo_kl`` = masked mean of the clamped
          ``old_log_prob - log_prob``; ``pg_clipfrac_lower`` = ``0.0``.

    Example: ``r = 1.5`` (clipped to 1.2), A = 1, log_prob = -0.5: loss ``0.6``, gradient
    ``-1.2`` per unit of log_prob (PPO would give 0 here).

    In verl: ``compute_policy_loss_cispo``, ``policy_loss.loss_mode=cispo``.
    """
    # TODO: your implementation (lesson §3.8).
    raise NotImplementedError("implement compute_policy_loss_cispo — see exercises/03/README.md §3.8")


@register_policy_loss("gpg")
def compute_policy_loss_gpg(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """GPG's loss: the plain policy gradient ``-A · log π``, no ratio and no clip.

    Args: see the module docstring (``old_log_prob`` is not used; ``config`` must still be given).

    Returns:
        ``(pg_loss, {})``: the aggregated ``-log_prob · A`` (times ``rollout_is_weights`` when
        given); no metrics.

    Example: log_prob ``[-1, -2]``, A ``[1, -1]``, token-mean: ``(1 - 2) / 2 = -0.5``.

    In verl: ``compute_policy_loss_gpg``, ``policy_loss.loss_mode=gpg``.
    """
    # TODO: your implementation (lesson §3.9).
    raise NotImplementedError("implement compute_policy_loss_gpg — see exercises/03/README.md §3.9")


@register_policy_loss("geo_mean")
def compute_policy_loss_geo_mean(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """GMPO (arXiv:2507.20673): one geometric-mean ratio and one mean advantage per sequence.

    Args: see the module docstring. ``loss_agg_mode`` and ``config.global_batch_info`` are
    **not used** (verl takes a plain mean over the rows).

    Returns:
        ``(pg_loss, metrics)`` with ``metrics`` = ``{"actor/pg_clipfrac", "actor/ppo_kl",
        "actor/pg_clipfrac_lower"}``, where with d = log π − log π_old per token (no clamp),
        ``sgn = sign(A)`` per token and ``L_i`` = valid tokens of row i:

        - per token, the pessimistic clipped log-ratio ``sgn · min(sgn·d, sgn·clamp(d, -low, high))``;
        - per row, ``ratio_i = exp(Σ_valid clipped log-ratio / (L_i + 1e-8))`` and
          ``Â_i = Σ_valid A / (L_i + 1e-8)``; loss ``-Â_i · ratio_i``; with ``rollout_is_weights``
          times ``exp(Σ_valid log(w + 1e-10) / (L_i + 1e-8))``;
        - ``pg_loss`` = the mean of the ``bs`` row losses (an empty row counts, with loss 0);
        - ``pg_clipfrac`` / ``pg_clipfrac_lower`` = masked mean of (``d != clamp(d, -low, high)``
          and A > 0 / A < 0); ``ppo_kl`` = masked mean of ``-d``.

    Example: one row, A = 1, d = ``[0.5, -0.1]``, ε = 0.2: clipped ``[0.2, -0.1]``, ratio
    ``exp(0.05)``, loss ``-1.0513``.

    In verl: ``compute_policy_loss_geo_mean``, ``policy_loss.loss_mode=geo_mean``.
    """
    # TODO: your implementation (lesson §3.10).
    raise NotImplementedError("implement compute_policy_loss_geo_mean — see exercises/03/README.md §3.10")


@register_policy_loss("clip_cov")
def compute_policy_loss_clip_cov(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """Clip-Cov (arXiv:2505.22617): PPO's clip, plus no gradient for a few high-covariance tokens.

    Args: see the module docstring. From ``config.policy_loss``: ``clip_cov_ratio`` (``None`` →
    0.0002, must be > 0), ``clip_cov_lb`` (``None`` → 1.0), ``clip_cov_ub`` (``None`` → 5.0).

    Returns:
        ``(pg_loss, metrics)`` with ``metrics`` = ``{"actor/pg_clipfrac", "actor/ppo_kl"}``, where
        with r = π / π_old per token (no clamp):

        - per token, cov = (A − mean A) · (log π − mean log π), means over the valid tokens;
        - candidates: valid tokens where PPO's clip is **not** active
          (not ``-A·clamp(r) > -A·r``) and ``clip_cov_lb < cov < clip_cov_ub``, in row-major order;
        - ``k = max(int(clip_cov_ratio · Σ mask), 1)``; if there are more than ``k`` candidates,
          keep ``candidates[torch.randperm(n)[:k]]`` — **one** call to ``torch.randperm`` on the
          global generator, made only when there is at least one candidate (the tests seed it);
        - per token the larger of −A·r and −A·(r clipped to [1 − low, 1 + high]), times 0 on the
          kept candidates;
        - ``pg_clipfrac`` = masked mean of "kept"; ``ppo_kl`` = masked mean of ``old_log_prob - log_prob``.

    In verl: ``compute_policy_loss_clip_cov``, ``policy_loss.loss_mode=clip_cov``.
    """
    # TODO: your implementation (lesson §3.11).
    raise NotImplementedError("implement compute_policy_loss_clip_cov — see exercises/03/README.md §3.11")


@register_policy_loss("kl_cov")
def compute_policy_loss_kl_cov(
    old_log_prob: torch.Tensor,
    log_prob: torch.Tensor,
    advantages: torch.Tensor,
    response_mask: torch.Tensor,
    loss_agg_mode: str = "token-mean",
    config: Any = None,
    rollout_is_weights: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, Any]]:
    """KL-Cov (arXiv:2505.22617): no clip; a |log-ratio| penalty on the highest-covariance tokens.

    Args: see the module docstring. From ``config.policy_loss``: ``kl_cov_ratio`` (``None`` →
    0.0002, must be > 0) and ``ppo_kl_coef`` (``None`` → 1.0; verl's config default is 0.1).

    Returns:
        ``(pg_loss, {"actor/ppo_kl": masked mean of |d|})``, where with
        d = log π − log π_old per token (no clamp):

        - per token ``-A · exp(d)`` (no clip);
        - over the N valid tokens (row-major), ``cov = (A - mean A) · (log_prob - mean log_prob)``
          with plain means over those tokens; the ``max(1, int(N · kl_cov_ratio))`` tokens with the
          largest ``cov`` (``torch.topk``) get ``-A · exp(d) + ppo_kl_coef · |d|`` instead.

    In verl: ``compute_policy_loss_kl_cov``, ``policy_loss.loss_mode=kl_cov``.
    """
    # TODO: your implementation (lesson §3.12).
    raise NotImplementedError("implement compute_policy_loss_kl_cov — see exercises/03/README.md §3.12")
