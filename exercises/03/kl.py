"""KL: keeping the policy near the reference model — estimators, the reward penalty, the controllers.

Lesson: exercises/03/README.md §4 (中文: README.zh-CN.md §4).
Mirrors verl 0.9.1: ``verl/trainer/ppo/core_algos.py::kl_penalty`` (and
``kl_penalty_forward``), ``AdaptiveKLController``, ``FixedKLController``, and
``verl/trainer/ppo/ray_trainer.py::apply_kl_penalty`` (which works on a DataProto and
a controller; here it is the same maths on plain tensors). Estimators: J. Schulman,
"Approximating KL divergence" (2020), http://joschu.net/blog/kl-approx.html.

Shapes used in this module:
    bs               number of sequences in the batch
    response_length  right-padded response tokens
``logprob`` / ``old_log_prob`` are log π(token) of the sampled tokens under the policy,
``ref_logprob`` / ``ref_log_prob`` the same tokens under the frozen reference model;
all ``(bs, response_length)`` float. The tokens were sampled from the policy π, so the
KL being estimated is KL(π || π_ref) = E_π[log π - log π_ref].
"""

from __future__ import annotations

import torch


def kl_penalty(logprob: torch.Tensor, ref_logprob: torch.Tensor, kl_penalty: str) -> torch.Tensor:
    """A per-token estimate of KL(π || π_ref) from the log-probabilities of the sampled tokens.

    Args:
        logprob: ``(bs, response_length)`` float, log π(token) (may carry a gradient).
        ref_logprob: ``(bs, response_length)`` float, log π_ref(token).
        kl_penalty: the estimator's name. With δ = log π − log π_ref per token:

            ``"kl"`` or ``"k1"``          δ                          unbiased, can be negative
            ``"abs"``                     |δ|
            ``"mse"`` or ``"k2"``         δ² / 2
            ``"low_var_kl"`` or ``"k3"``  eᵘ − u − 1 with u = −δ     unbiased, never negative,
                                          low variance. verl clamps u to [−20, 20] before
                                          the exponential and the result to [−10, 10].

            Any of these with a ``"+"`` suffix (``"k3+"``, ``"k1+"``, ``"abs+"``, ...) is
            *straight-through*: its value (forward) is the base estimator's, its gradient
            with respect to ``logprob`` is k2's (the right one when the KL is a loss term).

            Any other name raises ``NotImplementedError`` (as verl does; verl names one
            more, ``"full"``, that needs the whole vocabulary and also raises).

    Returns:
        ``(bs, response_length)`` float, same dtype as ``logprob``.

    Example:
        >>> import math
        >>> logprob = torch.tensor([math.log(0.5)])   # the policy gives the token 1/2
        >>> ref_logprob = torch.tensor([0.0])         # the reference is sure of it
        >>> kl_penalty(logprob, ref_logprob, "k1")    # ln 0.5
        tensor([-0.6931])
        >>> kl_penalty(logprob, ref_logprob, "k3")    # u = ln 2: 2 − ln 2 − 1
        tensor([0.3069])

    In verl: ``verl/trainer/ppo/core_algos.py::kl_penalty`` (and ``kl_penalty_forward``).
    """
    # TODO: your implementation (lesson §4.1–4.2; `python grader.py hint 03.kl_penalty` when stuck).
    raise NotImplementedError("implement kl_penalty — see exercises/03/README.md §4.1")


# apply_kl_penalty's argument `kl_penalty` hides the function of the same name
# inside apply_kl_penalty; call it through this second name there.
_kl_penalty = kl_penalty


def apply_kl_penalty(
    token_level_scores: torch.Tensor,
    old_log_prob: torch.Tensor,
    ref_log_prob: torch.Tensor,
    response_mask: torch.Tensor,
    kl_coef: float,
    kl_penalty: str = "kl",
) -> tuple[torch.Tensor, float]:
    """Put the KL into the reward (``algorithm.use_kl_in_reward=True``): rewards = scores - β · KL.

    Args:
        token_level_scores: ``(bs, response_length)`` float, the reward function's scores
            (usually one outcome score on the last valid token, 0 elsewhere).
        old_log_prob: ``(bs, response_length)`` float, log π_old at rollout time.
        ref_log_prob: ``(bs, response_length)`` float, log π_ref.
        response_mask: ``(bs, response_length)`` 0/1; rows may have no valid token.
        kl_coef: β, the controller's current ``.value``.
        kl_penalty: the estimator's name, as for :func:`kl_penalty`.

    Returns:
        ``(token_level_rewards, current_kl)``:

        - ``token_level_rewards`` ``(bs, response_length)`` = scores − β · KL, where KL is
          the chosen per-token estimate with 0 on masked tokens (their scores pass through).
        - ``current_kl``: a Python float (verl takes ``.item()``), the mean over the bs
          rows of each row's masked mean of the KL (the ``masked_mean`` convention: Σ / (n +
          1e-8)). A row without a valid token contributes 0 and still counts in the batch
          mean. verl feeds it to the controller's ``update``.

    Example:
        one row, old_log_prob [-1, -1, -1], ref_log_prob [-1.5, -1.25, -9], mask [1, 1, 0],
        scores [0, 1, 0], β = 0.1, "kl": KL = [0.5, 0.25, 0], rewards = [-0.05, 0.975, 0],
        current_kl = (0.5 + 0.25) / 2 = 0.375.

    In verl: ``verl/trainer/ppo/ray_trainer.py::apply_kl_penalty`` (on a DataProto there).
    """
    # TODO: your implementation (lesson §4.3; `python grader.py hint 03.apply_kl_penalty` when stuck).
    raise NotImplementedError("implement apply_kl_penalty — see exercises/03/README.md §4.3")


class AdaptiveKLController:
    """Adaptive KL coefficient (Ziegler et al. 2019, arXiv:1909.08593).

    ``AdaptiveKLController(init_kl_coef, target_kl, horizon)`` starts with
    ``.value = init_kl_coef``. Each ``update(current_kl, n_steps)`` (``n_steps`` = the
    batch size that produced ``current_kl``) moves it towards the value that keeps the
    measured KL at ``target_kl``: with the proportional error e = current_kl / target_kl − 1
    clipped to [−0.2, 0.2], the new value is value · (1 + e · n_steps / horizon).

    In verl: ``verl/trainer/ppo/core_algos.py::AdaptiveKLController``.

    Example: value 0.1, target 1.0, horizon 100; ``update(current_kl=2.0, n_steps=50)``:
    error = clip(1.0) = 0.2, value = 0.1 · (1 + 0.2 · 50 / 100) = 0.11.
    """

    def __init__(self, init_kl_coef: float, target_kl: float, horizon: int) -> None:
        # TODO: your implementation (lesson §4.4).
        raise NotImplementedError("implement AdaptiveKLController — see exercises/03/README.md §4.4")

    def update(self, current_kl: float, n_steps: int) -> None:
        # TODO: your implementation (lesson §4.4).
        raise NotImplementedError("implement AdaptiveKLController.update — see exercises/03/README.md §4.4")


class FixedKLController:
    """A constant KL coefficient: ``FixedKLController(kl_coef).value == kl_coef`` forever.

    ``update(current_kl, n_steps)`` exists so the trainer can call either controller; it does nothing.
    """

    def __init__(self, kl_coef: float) -> None:
        # TODO: your implementation (lesson §4.4).
        raise NotImplementedError("implement FixedKLController — see exercises/03/README.md §4.4")

    def update(self, current_kl: float, n_steps: int) -> None:
        # TODO: your implementation (lesson §4.4).
        raise NotImplementedError("implement FixedKLController.update — see exercises/03/README.md §4.4")
