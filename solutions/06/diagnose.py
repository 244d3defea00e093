"""Chapter 06 · Diagnosing a sick run from its TensorBoard scalars (reference solution). Lesson: §11."""

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


def _values(scalars: Mapping[str, Sequence[tuple[int, float]]], tag: str) -> list[float]:
    # in step order, whatever order the points came in
    return [float(v) for _, v in sorted(scalars.get(tag, []), key=lambda p: p[0])]


def _start(values: list[float]) -> float:
    return sum(values[:WINDOW]) / len(values[:WINDOW])


def _end(values: list[float]) -> float:
    return sum(values[-WINDOW:]) / len(values[-WINDOW:])


def diagnose(scalars: Mapping[str, Sequence[tuple[int, float]]]) -> list[str]:
    found = []
    kl = _values(scalars, KL)
    if kl and max(kl) > KL_LIMIT:
        found.append("lr_too_high")
    entropy = _values(scalars, ENTROPY)
    if len(entropy) >= 2 * WINDOW and _end(entropy) < ENTROPY_KEPT * _start(entropy):
        found.append("entropy_collapse")
    length = _values(scalars, LENGTH)
    if len(length) >= 2 * WINDOW and _end(length) >= LENGTH_GROWTH * _start(length):
        found.append("length_blowup")
    reward, accuracy = _values(scalars, REWARD), _values(scalars, ACCURACY)
    if (len(reward) >= 2 * WINDOW and len(accuracy) >= 2
            and _end(reward) - _start(reward) >= REWARD_RISE * abs(_start(reward))
            and accuracy[-1] <= accuracy[0]):
        found.append("reward_hacking")
    return found
