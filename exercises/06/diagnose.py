"""Chapter 06 · Diagnosing a sick run from its TensorBoard scalars.

A run that goes wrong rarely crashes: it logs numbers. This module names what went wrong from the
metrics verl writes every step (§4), with the rules of the lesson's playbook (§11). The recorded
runs it is graded on are real verl GRPO runs of the capstone, made sick on purpose
(``exercises/06/_snapshots/sick_runs.json``, made by ``scripts/record_sick_runs.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SYMPTOMS = ("lr_too_high", "entropy_collapse", "length_blowup", "reward_hacking")
KL = "actor/ppo_kl"
ENTROPY = "actor/entropy"
LENGTH = "response_length/mean"
REWARD = "critic/score/mean"
ACCURACY = "val-core/verlings/arith/acc/mean@1"
WINDOW = 3  # steps averaged at each end of a run: one noisy step decides nothing
KL_LIMIT = 0.1
ENTROPY_KEPT = 0.5
LENGTH_GROWTH = 2.0
REWARD_RISE = 0.1


def diagnose(scalars: Mapping[str, Sequence[tuple[int, float]]]) -> list[str]:
    """The symptoms a run's metrics show, by the rules of §11.2.

    Args:
        scalars: ``{tag: [(step, value), ...]}`` as ``verlings.capstone.summary.read_scalars``
            returns it from a run's TensorBoard folder (verl's tags, e.g. ``"actor/entropy"``).
            Points may come in any order: sort each series by step. A tag may be missing.

    Returns:
        The names of :data:`SYMPTOMS` whose rule fires, **in that order**; ``[]`` for a healthy
        run. With ``start(x)`` / ``end(x)`` the mean of the first / last :data:`WINDOW` values of
        a series (fewer when it is shorter):

        * ``"lr_too_high"``: some value of :data:`KL` (``actor/ppo_kl``, the KL between the
          policy that sampled and the updated one) is above :data:`KL_LIMIT`.
        * ``"entropy_collapse"``: :data:`ENTROPY` has at least ``2 * WINDOW`` values and
          ``end < ENTROPY_KEPT * start``.
        * ``"length_blowup"``: :data:`LENGTH` (``response_length/mean``, in tokens) has at least
          ``2 * WINDOW`` values and ``end >= LENGTH_GROWTH * start``.
        * ``"reward_hacking"``: :data:`REWARD` has at least ``2 * WINDOW`` values and rises,
          ``end - start >= REWARD_RISE * |start|``, while the held-out accuracy
          :data:`ACCURACY` (at least 2 validations) does not: ``last <= first``.

        A rule whose series are missing or too short does not fire.

    Example:
        >>> diagnose({"actor/ppo_kl": [(1, 0.001), (2, 2.5)]})
        ['lr_too_high']
    """
    # TODO: your implementation (stuck? `python grader.py hint 06.diagnose`).
    raise NotImplementedError("implement diagnose — see exercises/06/README.md §11.2")
