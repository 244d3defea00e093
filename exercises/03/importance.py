"""Importance sampling between the rollout engine and the trainer.

Lesson: exercises/03/README.md §5 (中文: README.zh-CN.md §5).
Mirrors verl 0.9.1: ``verl/trainer/ppo/rollout_corr_helper.py``
(``compute_rollout_correction_weights`` with ``rollout_is="token"`` and a single threshold).

The responses were sampled by the rollout engine (vLLM/SGLang, often in bf16) with
probabilities ``π_rollout``; the trainer (FSDP/Megatron, fp32) computes its own
``π_old`` for the same tokens, and the two differ. verl can handle the gap three ways:

* **decoupled** (``bypass_mode=False``, three policies π_rollout, π_old, π_θ): the PPO
  ratio ``π_θ / π_old`` clips as usual, and each token's loss is multiplied by a
  rollout-correction weight ``π_old / π_rollout`` — the function below;
* **bypass** (``bypass_mode=True``, two policies): skip the extra forward pass and use
  ``rollout_log_prob`` *as* ``old_log_prob``, so the PPO ratio ``π_θ / π_rollout`` does
  the correcting;
* **rollout correction off**: ignore the gap (and hope it is small).

Raw ratios can be huge (a token the rollout engine found unlikely), so TIS, truncated
importance sampling, caps them at a threshold: a little bias for much less variance.
"""

from __future__ import annotations

import torch


def truncated_is_weights(
    old_log_prob: torch.Tensor,
    rollout_log_prob: torch.Tensor,
    response_mask: torch.Tensor,
    threshold: float = 2.0,
) -> torch.Tensor:
    """Token-level truncated importance-sampling weights ``min(π_old / π_rollout, threshold)``.

    Args:
        old_log_prob: ``(bs, response_length)`` float, log π_old of each response token,
            recomputed by the trainer.
        rollout_log_prob: ``(bs, response_length)`` float, log π_rollout of the same tokens,
            reported by the rollout engine.
        response_mask: ``(bs, response_length)``, 1 on valid tokens, 0 on padding
            (int, float or bool). Padding may hold any value, even ``inf``.
        threshold: upper bound of a weight (verl's ``rollout_is_threshold``, 1.5–5 is typical).

    Returns:
        ``(bs, response_length)`` weights, ``old_log_prob``'s dtype:

        - weight = min(π_old / π_rollout, ``threshold``) per token: truncated above only;
        - verl's safety bound: the log-ratio log π_old − log π_rollout is clamped to
          [−20, 20] before exponentiating, so no weight is inf or NaN;
        - exactly 0 where ``response_mask`` is 0, whatever padding holds;
        - **detached**: the weight changes how much each token counts, it is not something
          to optimise — no gradient may flow through it.

    Example:
        >>> old = torch.log(torch.tensor([[0.5, 0.9, 0.2]]))
        >>> rollout = torch.log(torch.tensor([[0.5, 0.3, 0.4]]))
        >>> truncated_is_weights(old, rollout, torch.tensor([[1, 1, 0]]))
        tensor([[1., 2., 0.]])   # 0.5/0.5 = 1;  0.9/0.3 = 3 → 2;  padding → 0

    In verl: ``verl/trainer/ppo/rollout_corr_helper.py::compute_rollout_correction_weights``.
    """
    # TODO: your implementation (lesson §5.3; `python grader.py hint 03.tis` when stuck).
    raise NotImplementedError("implement truncated_is_weights — see exercises/03/README.md §5.3")
