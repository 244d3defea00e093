"""Graded tests for exercises/06/diagnose.py: real recorded runs (scripts/record_sick_runs.py) and
hand-made series at the edges of each rule."""

import json

import pytest

from verlings import learner_module
from verlings.paths import EXERCISES
from verlings.testing import assert_equal

d = learner_module("06", "diagnose")

RUNS_FILE = EXERCISES / "06" / "_snapshots" / "sick_runs.json"
# What the rules of §11.2 give on each recorded run, worked by hand from the numbers in the file
# (the lesson's table shows them): the run's own symptom, and what else its metrics really show.
EXPECTED = {
    "healthy": [],
    "lr_too_high": ["lr_too_high", "entropy_collapse"],  # ppo_kl 2.55 at step 2; entropy 1.26 → 0.04
    # lr 3e-3, no KL: ppo_kl 3.11 at step 14 (> 0.1); entropy start mean(1.289, 1.219, 1.188) = 1.232,
    # end mean(0.891, 0.496, 0.996) = 0.794 = 0.64 × start, not below 0.5 × start: the entropy rule stays
    # silent; length 2.97 → 1.77 (shorter), reward 1.50 → 1.17 (down): neither of the other two fires
    "entropy_collapse": ["lr_too_high"],
    # a length-paying reward, no overlong shaping: ppo_kl 0.28 at step 2 (> 0.1); length start
    # mean(2.94, 3.0, 9.63) = 5.19, end 32 (the cap) ≥ 2 × 5.19; reward 0.54 → 4.0 (+0.1 × 0.54 easily)
    # while held-out accuracy went 4.7 % → 0 %: three rules fire, in the order of SYMPTOMS
    "length_blowup": ["lr_too_high", "length_blowup", "reward_hacking"],
    # a '>=' verifier: ppo_kl 0.123 at step 7 (> 0.1); entropy rises (1.258 -> 1.839): silent; length start
    # mean(2.969, 2.844, 2.844) = 2.885, end mean(5.156, 9.031, 5.938) = 6.708 >= 2 x 2.885 = 5.771; reward
    # start mean(2.031, 1.630, 2.125) = 1.929, end mean(2.405, 2.442, 2.491) = 2.446, up 0.517 >= 0.1 x 1.929,
    # while held-out accuracy went 4.7 % -> 0 %: the same three rules fire, in the order of SYMPTOMS
    "reward_hacking": ["lr_too_high", "length_blowup", "reward_hacking"],
}


def _runs() -> dict:
    return json.loads(RUNS_FILE.read_text(encoding="utf-8"))["runs"]


def _scalars(run: dict) -> dict[str, list[tuple[int, float]]]:
    return {tag: [(int(s), float(v)) for s, v in points] for tag, points in run["scalars"].items()}


def _flat(n: int, value: float) -> list[tuple[int, float]]:
    return [(i + 1, value) for i in range(n)]


@pytest.mark.exercise("06.diagnose")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_runs(name):
    runs = _runs()
    assert name in runs, f"{RUNS_FILE} has no run {name!r} (regenerate: python scripts/record_sick_runs.py)"
    seen = d.diagnose(_scalars(runs[name]))
    assert_equal(list(seen), EXPECTED[name], what=f"diagnose(<the recorded {name!r} run>)",
                 why=f"that run: {runs[name]['what']}; the rules of §11.2, in the order of SYMPTOMS")


@pytest.mark.exercise("06.diagnose")
def test_healthy_metrics_fire_nothing():
    scalars = {d.KL: _flat(10, 0.01), d.ENTROPY: _flat(10, 1.2), d.LENGTH: _flat(10, 3.0),
               d.REWARD: [(i + 1, 1.5 + 0.01 * i) for i in range(10)],
               d.ACCURACY: [(0, 0.05), (5, 0.05), (10, 0.06)]}
    assert_equal(d.diagnose(scalars), [], what="diagnose(flat, healthy metrics)",
                 why="no rule fires: KL small, entropy kept, length flat, reward up 5 % (< 10 %), accuracy up")
    assert_equal(d.diagnose({}), [], what="diagnose({})", why="a rule whose series are missing does not fire")


@pytest.mark.exercise("06.diagnose")
def test_kl_limit_is_strict():
    # 0.1 is the limit itself: only values above it fire
    assert_equal(d.diagnose({d.KL: [(1, 0.0), (2, 0.1)]}), [], what="diagnose(ppo_kl max = 0.1)",
                 why="lr_too_high needs a value ABOVE KL_LIMIT")
    assert_equal(d.diagnose({d.KL: [(1, 0.0), (2, 0.1001), (3, 0.0)]}), ["lr_too_high"],
                 what="diagnose(ppo_kl 0, 0.1001, 0)", why="one step above KL_LIMIT is enough: the max, not the mean")


@pytest.mark.exercise("06.diagnose")
def test_entropy_uses_window_means():
    # start = mean(1.0, 1.0, 1.0) = 1.0; end = mean(0.1, 0.1, 1.0) = 0.4 < 0.5 → fires;
    # the last value alone (1.0) would say nothing
    ent = [(1, 1.0), (2, 1.0), (3, 1.0), (4, 0.1), (5, 0.1), (6, 1.0)]
    assert_equal(d.diagnose({d.ENTROPY: ent}), ["entropy_collapse"], what="diagnose(entropy 1,1,1,0.1,0.1,1)",
                 why="end = mean of the last WINDOW=3 values = 0.4 < 0.5 × start (1.0)")
    # end = mean(0.5, 0.5, 0.5) = 0.5: not below 0.5 × 1.0
    ent = [(1, 1.0), (2, 1.0), (3, 1.0), (4, 0.5), (5, 0.5), (6, 0.5)]
    assert_equal(d.diagnose({d.ENTROPY: ent}), [], what="diagnose(entropy 1,1,1,0.5,0.5,0.5)",
                 why="end must be BELOW ENTROPY_KEPT × start")
    # five values only: too short for two windows
    assert_equal(d.diagnose({d.ENTROPY: [(1, 1.0), (2, 1.0), (3, 0.0), (4, 0.0), (5, 0.0)]}), [],
                 what="diagnose(5 entropy values)", why="a rule needs at least 2 × WINDOW values")


@pytest.mark.exercise("06.diagnose")
def test_points_are_sorted_by_step():
    # written in reverse step order: by step, entropy goes 1.2 → 0.1 (collapse)
    ent = [(6, 0.1), (5, 0.1), (4, 0.1), (3, 1.2), (2, 1.2), (1, 1.2)]
    assert_equal(d.diagnose({d.ENTROPY: ent}), ["entropy_collapse"], what="diagnose(entropy points in reverse order)",
                 why="sort each series by step before taking its start and end")


@pytest.mark.exercise("06.diagnose")
def test_length_growth_uses_window_means():
    grown = [(i + 1, v) for i, v in enumerate([3, 3, 3, 6, 6, 6])]  # end 6 = 2 × start 3: fires (≥)
    assert_equal(d.diagnose({d.LENGTH: grown}), ["length_blowup"], what="diagnose(length 3,3,3,6,6,6)",
                 why="end (6) ≥ LENGTH_GROWTH (2) × start (3)")
    short = [(i + 1, v) for i, v in enumerate([3, 3, 3, 5.5, 6, 6])]  # end 5.83 < 6
    assert_equal(d.diagnose({d.LENGTH: short}), [], what="diagnose(length 3,3,3,5.5,6,6)",
                 why="end = mean of the last 3 = 5.83 < 2 × 3")
    # first and last values alone would say 2 → 12 (×6); the windows say 4 → 4: no growth
    spiky = [(i + 1, v) for i, v in enumerate([2, 5, 5, 0, 0, 12])]
    assert_equal(d.diagnose({d.LENGTH: spiky}), [], what="diagnose(length 2,5,5,0,0,12)",
                 why="start = mean(2, 5, 5) = 4, end = mean(0, 0, 12) = 4")


@pytest.mark.exercise("06.diagnose")
def test_reward_hacking_needs_a_rise_and_flat_accuracy():
    # (numbers exact in binary: the boundaries are tested, not rounding)
    rise = [(i + 1, v) for i, v in enumerate([2.0, 2.0, 2.0, 2.25, 2.25, 2.25])]  # +0.25 ≥ 10 % of 2.0
    flat = [(0, 0.05), (5, 0.05)]
    assert_equal(d.diagnose({d.REWARD: rise, d.ACCURACY: flat}), ["reward_hacking"],
                 what="diagnose(reward 2.0 → 2.25, accuracy 5 % → 5 %)", why="a 12.5 % rise, accuracy not up")
    assert_equal(d.diagnose({d.REWARD: rise, d.ACCURACY: [(0, 0.05), (5, 0.06)]}), [],
                 what="diagnose(reward 2.0 → 2.25, accuracy 5 % → 6 %)", why="the accuracy rose with the reward")
    assert_equal(d.diagnose({d.REWARD: rise}), [], what="diagnose(reward up, no validation)",
                 why="without held-out accuracy the rule cannot tell learning from hacking: it does not fire")
    small = [(i + 1, v) for i, v in enumerate([2.0, 2.0, 2.0, 2.1875, 2.1875, 2.1875])]  # +0.1875 < 0.2
    assert_equal(d.diagnose({d.REWARD: small, d.ACCURACY: flat}), [],
                 what="diagnose(reward 2.0 → 2.1875, accuracy flat)", why="a rise under 10 % of |start| is noise")
    # a negative start: the rise is measured against |start|: -2.0 → -1.75 is +0.25 ≥ 10 % of 2.0
    neg = [(i + 1, v) for i, v in enumerate([-2.0, -2.0, -2.0, -1.75, -1.75, -1.75])]
    assert_equal(d.diagnose({d.REWARD: neg, d.ACCURACY: flat}), ["reward_hacking"],
                 what="diagnose(reward -2.0 → -1.75, accuracy flat)", why="end - start ≥ REWARD_RISE × |start|")
    neg_small = [(i + 1, v) for i, v in enumerate([-2.0, -2.0, -2.0, -1.9375, -1.9375, -1.9375])]  # +0.0625 < 0.2
    assert_equal(d.diagnose({d.REWARD: neg_small, d.ACCURACY: flat}), [],
                 what="diagnose(reward -2.0 → -1.9375, accuracy flat)",
                 why="the rise must reach REWARD_RISE × |start| = 0.2; a negative start does not lower the bar")
    fall = [(i + 1, v) for i, v in enumerate([2.0, 2.0, 2.0, 1.0, 1.0, 1.0])]
    assert_equal(d.diagnose({d.REWARD: fall, d.ACCURACY: flat}), [],
                 what="diagnose(reward 2.0 → 1.0, accuracy flat)", why="a falling reward is not a hacked one")


@pytest.mark.exercise("06.diagnose")
def test_symptoms_in_the_order_of_SYMPTOMS():
    six = [(i + 1, v) for i, v in enumerate([1.0, 1.0, 1.0, 0.1, 0.1, 0.1])]
    scalars = {d.REWARD: [(i + 1, v) for i, v in enumerate([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])],
               d.ACCURACY: [(0, 0.1), (5, 0.0)], d.ENTROPY: six, d.KL: [(1, 3.0)],
               d.LENGTH: [(i + 1, v) for i, v in enumerate([2, 2, 2, 16, 16, 16])]}
    assert_equal(d.diagnose(scalars), list(d.SYMPTOMS), what="diagnose(every rule firing)",
                 why="the names in the order of SYMPTOMS, each once")
