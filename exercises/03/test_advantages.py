"""Graded tests for exercises/03/advantages.py (goldens from verl 0.9.1: verlings/goldens/ch03_advantages.py)."""

import math

import numpy as np
import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, golden, hint_line, matches, tensors

adv = learner_module("03", "advantages")


def _load(name: str) -> tuple[dict, dict]:
    """(numpy arrays, the same as tensors) of one golden file."""
    raw = golden("03", name)
    return raw, tensors(raw)


def _on_valid(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``x`` with every masked position set to 0, to compare valid tokens only."""
    return torch.where(mask.bool(), x, torch.zeros_like(x))


def _check_output(out, like: torch.Tensor, what: str) -> tuple[torch.Tensor, torch.Tensor]:
    assert isinstance(out, tuple) and len(out) == 2, f"{what} must return a tuple (advantages, returns)"
    for name, x in zip(("advantages", "returns"), out):
        assert isinstance(x, torch.Tensor), f"{what}: {name} is a {type(x).__name__}, expected a torch.Tensor"
        assert x.shape == like.shape, f"{what}: {name} has shape {tuple(x.shape)}, expected {tuple(like.shape)}"
        assert x.dtype == like.dtype, f"{what}: {name} is {x.dtype}, expected {like.dtype} (token_level_rewards')"
    return out


def _garbage_on_masked(x: torch.Tensor, mask: torch.Tensor, seed: int) -> torch.Tensor:
    """``x`` with large random numbers where the mask is 0 (finite: verl multiplies, 0 * inf is NaN)."""
    noise = 100.0 * torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
    return torch.where(mask.bool(), x, noise)


# --------------------------------------------------------------------------- GAE (§2.2)

GAE = "compute_gae_advantage_return"


def _gae(token_level_rewards, values, response_mask, gamma, lam):
    out = adv.compute_gae_advantage_return(
        token_level_rewards=token_level_rewards, values=values, response_mask=response_mask, gamma=gamma, lam=lam
    )
    return _check_output(out, token_level_rewards, GAE)


@pytest.mark.exercise("03.gae")
@pytest.mark.parametrize("setting", ["a", "b"])
def test_compute_gae_advantage_return_matches_verl(setting):
    raw, g = _load("gae")
    mask = g["response_mask"]
    gamma, lam = float(raw[f"gamma_{setting}"]), float(raw[f"lam_{setting}"])
    advantages, returns = _gae(g["token_level_rewards"], g["values"], mask, gamma, lam)
    what = f"{GAE}(gamma={gamma}, lam={lam})"
    assert torch.isfinite(advantages).all() and torch.isfinite(returns).all(), (
        f"{what}: NaN or inf in the output — a masked value leaking through 0 * inf, or a zero variance?"
    )
    # Only valid tokens are compared: verl leaves carried-over numbers on masked positions.
    rows = {"rewards": g["token_level_rewards"], "values": g["values"], "mask": mask}
    assert_close(
        _on_valid(returns, mask), _on_valid(g[f"returns_{setting}"], mask), what=f"{what} → returns (valid tokens)",
        inputs=rows,
        why="returns = advantages BEFORE whitening + values; a masked token carries nextvalues and lastgaelam "
        "through unchanged (the golden batch has holes inside responses)",
    )
    assert_close(
        _on_valid(advantages, mask), _on_valid(g[f"advantages_{setting}"], mask),
        what=f"{what} → advantages (valid tokens)", inputs=rows,
        why="if returns match, check the whitening: mean and unbiased var over valid tokens of the whole batch",
    )


@pytest.mark.exercise("03.gae")
def test_compute_gae_advantage_return_skips_masked_tokens():
    # Worked by hand (gamma = lam = 0.5), the example of the docstring:
    #   t=2: delta = 1 + 0.5*0 - 0.25 = 0.75,  lastgaelam = 0.75,  nextvalues = 0.25
    #   t=1: mask 0 → carry lastgaelam 0.75 and nextvalues 0.25 (V = 9 and r = 5 are never used)
    #   t=0: delta = 0 + 0.5*0.25 - 0.5 = -0.375,  lastgaelam = -0.375 + 0.25*0.75 = -0.1875
    #   returns (valid) = [-0.1875 + 0.5, 0.75 + 0.25] = [0.3125, 1.0]
    #   whitening the valid pair [-0.1875, 0.75]: mean 0.28125, deviations ∓0.46875,
    #   unbiased var = 2 * 0.46875**2 / 1 = 0.439453125 → advantages ∓0.46875 / sqrt(0.439453125 + 1e-8)
    mask = torch.tensor([[1, 0, 1]])
    advantages, returns = _gae(
        torch.tensor([[0.0, 5.0, 1.0]]), torch.tensor([[0.5, 9.0, 0.25]]), mask, gamma=0.5, lam=0.5
    )
    assert_close(
        returns[:, [0, 2]], torch.tensor([[0.3125, 1.0]]), what=f"{GAE} → returns on valid tokens",
        why="a token before a hole must see past it: delta uses the value of the next *valid* token",
    )
    a = 0.46875 / math.sqrt(0.439453125 + 1e-8)
    assert_close(
        advantages[:, [0, 2]], torch.tensor([[-a, a]]), what=f"{GAE} → advantages on valid tokens",
        why="whiten with masked_whiten over the valid tokens only (unbiased variance)",
    )


@pytest.mark.exercise("03.gae")
def test_compute_gae_advantage_return_ignores_values_on_masked_tokens():
    raw, g = _load("gae")
    mask = g["response_mask"]
    gamma, lam = float(raw["gamma_a"]), float(raw["lam_a"])
    advantages, returns = _gae(
        _garbage_on_masked(g["token_level_rewards"], mask, seed=1), _garbage_on_masked(g["values"], mask, seed=2),
        mask, gamma, lam,
    )
    why = "the golden inputs with large random rewards and values where response_mask is 0"
    # the golden inputs themselves are the control: if they match, only the masked values differ
    clean_adv, clean_ret = _gae(g["token_level_rewards"], g["values"], mask, gamma, lam)
    clean_ok = matches(_on_valid(clean_ret, mask), _on_valid(g["returns_a"], mask)) and matches(
        _on_valid(clean_adv, mask), _on_valid(g["advantages_a"], mask))
    cause = "masked_positions_leak" if clean_ok else None
    assert_close(
        _on_valid(returns, mask), _on_valid(g["returns_a"], mask), what=f"{GAE} → returns, garbage under the mask",
        why=why, cause=cause,
    )
    assert_close(
        _on_valid(advantages, mask), _on_valid(g["advantages_a"], mask),
        what=f"{GAE} → advantages, garbage under the mask", why=why, cause=cause,
    )


@pytest.mark.exercise("03.gae")
def test_compute_gae_advantage_return_whitens_advantages():
    raw, g = _load("gae")
    mask = g["response_mask"].bool()
    advantages, returns = _gae(
        g["token_level_rewards"], g["values"], g["response_mask"], float(raw["gamma_a"]), float(raw["lam_a"])
    )
    valid = advantages[mask].double()
    assert_close(
        valid.mean(), 0.0, what=f"{GAE}: mean of the advantages over valid tokens",
        why="advantages are whitened (masked_whiten) over the valid tokens of the whole batch",
    )
    assert_close(
        valid.std(), 1.0, what=f"{GAE}: unbiased std of the advantages over valid tokens",
        atol=1e-5, why="advantages are whitened with the unbiased variance over valid tokens",
    )
    assert not torch.allclose(returns, advantages + g["values"], atol=1e-3), (
        f"{GAE}: returns equal whitened advantages + values — returns use the advantages before whitening"
    )


# --------------------------------------------------------------------------- GRPO (§2.3)

GRPO = "compute_grpo_outcome_advantage"
RESHUFFLED_WHY = (
    "the golden batch with int uids and its rows reshuffled (the responses of one uid are no longer neighbours)"
)

# What each case compares (neutral: the golden batch mixes groups of every size, so a miss here
# alone does not isolate one mistake). Causes are named by the tests below whose inputs isolate them.
GRPO_WHY = {
    "norm": "convention: per group (same uid, anywhere in the batch), (score - mean) / (unbiased std + epsilon); "
    "a group of one: mean 0, std 1; broadcast × response_mask",
    "no_norm": "convention: with norm_adv_by_std_in_grpo=False the advantage is score - group mean",
    "eps": "convention: divide by (std + epsilon) with the epsilon given",
}
GRPO_KWARGS = {
    "norm": {"norm_adv_by_std_in_grpo": True},
    "no_norm": {"norm_adv_by_std_in_grpo": False},
    "eps": {"epsilon": 0.1},
}


def _grpo_rows(g: dict, index) -> dict:
    """A row's inputs for a failure message: the response's rewards, mask and uid."""
    return {"rewards": g["token_level_rewards"], "mask": g["response_mask"], "uid": index}


def _grpo(token_level_rewards, response_mask, index, **kwargs):
    out = adv.compute_grpo_outcome_advantage(
        token_level_rewards=token_level_rewards, response_mask=response_mask, index=index, **kwargs
    )
    return _check_output(out, token_level_rewards, GRPO)


@pytest.mark.exercise("03.grpo")
@pytest.mark.parametrize("case", ["norm", "no_norm", "eps"])
def test_compute_grpo_outcome_advantage_matches_verl(case):
    raw, g = _load("grpo")
    mask = g["response_mask"]
    advantages, returns = _grpo(g["token_level_rewards"], mask, raw["index"], **GRPO_KWARGS[case])
    what = f"{GRPO}({', '.join(f'{k}={v}' for k, v in GRPO_KWARGS[case].items())})"
    cause = None
    if case != "norm":  # the default call is the control: only this case's argument differs from it
        default, _ = _grpo(g["token_level_rewards"], mask, raw["index"])
        if matches(default, g["advantages_norm"]):
            cause = {"eps": "grpo_fixed_epsilon", "no_norm": "grpo_ignores_norm_flag"}[case]
    assert_close(advantages, g[f"advantages_{case}"], what=f"{what} → advantages",
                 mask=mask, why=GRPO_WHY[case], cause=cause, inputs=_grpo_rows(g, raw["index"]))
    assert_close(returns, g[f"returns_{case}"], what=f"{what} → returns", mask=mask,
                 why="GRPO has no critic: returns are the advantages")


@pytest.mark.exercise("03.grpo")
def test_compute_grpo_outcome_advantage_integer_uids():
    raw, g = _load("grpo")
    index = raw["index_int"]  # the same groups, labelled 100, 107, 114, ... instead of "q0", "q1", ...
    advantages, _ = _grpo(g["token_level_rewards"], g["response_mask"], index)
    # the same batch with str uids is the control: if it matches, only the uids' type differs
    with_str, _ = _grpo(g["token_level_rewards"], g["response_mask"], raw["index"])
    assert_close(advantages, g["advantages_norm"], what=f"{GRPO} with int uids",
                 why="the same groups as the golden batch, labelled with ints instead of strings",
                 cause="uid_type" if matches(with_str, g["advantages_norm"]) else None)


@pytest.mark.exercise("03.grpo")
def test_compute_grpo_outcome_advantage_groups_anywhere_in_batch():
    raw, g = _load("grpo")
    perm = torch.randperm(len(raw["index"]), generator=torch.Generator().manual_seed(5))
    advantages, _ = _grpo(g["token_level_rewards"][perm], g["response_mask"][perm], raw["index"][perm.numpy()])
    # the batch in its original order is the control: if it matches, only the order differs
    in_order, _ = _grpo(g["token_level_rewards"], g["response_mask"], raw["index"])
    assert_close(advantages, g["advantages_norm"][perm], what=f"{GRPO} on a reshuffled batch",
                 why="the golden batch with its rows reshuffled (the responses of one uid are no longer neighbours)",
                 cause="grpo_groups_by_position" if matches(in_order, g["advantages_norm"]) else None)


@pytest.mark.exercise("03.grpo")
def test_compute_grpo_outcome_advantage_hand_worked():
    # Scores [0.5, 3, 0.5, 1, 2, 1, 1] (outcome reward on the last valid token), uids b a b a c d d:
    #   a = [3, 1]: mean 2, unbiased std sqrt(((3-2)**2 + (1-2)**2) / (2-1)) = sqrt(2)
    #               → ±1 / (sqrt(2) + 1e-6)   (the population std, 1, would give ±1 / (1 + 1e-6))
    #   b = [0.5, 0.5] and d = [1, 1]: std 0 → 0 / (0 + 1e-6) = 0, never NaN
    #   c = [2] alone: mean 0, std 1 → 2 / (1 + 1e-6)
    index = np.array(["b", "a", "b", "a", "c", "d", "d"])
    mask = torch.tensor([[1, 1, 0], [1, 1, 1], [1, 0, 0], [1, 1, 1], [1, 1, 0], [1, 1, 1], [1, 0, 0]])
    rewards = torch.zeros(7, 3)
    last = mask.sum(dim=1) - 1
    rewards[torch.arange(7), last] = torch.tensor([0.5, 3.0, 0.5, 1.0, 2.0, 1.0, 1.0])
    advantages, _ = _grpo(rewards, mask, index)
    a = 1 / (math.sqrt(2) + 1e-6)
    scalar = torch.tensor([0.0, a, 0.0, -a, 2 / (1 + 1e-6), 0.0, 0.0])
    assert not torch.isnan(advantages).any(), (
        f"{GRPO}: NaN — a group with all-equal scores has std 0; add epsilon to the std before dividing"
    )
    # What the population std gives on these inputs (only group a changes: std 1): the one
    # mistake that produces exactly this output, so the message may name it.
    population = torch.tensor([0.0, 1 / (1 + 1e-6), 0.0, -1 / (1 + 1e-6), 2 / (1 + 1e-6), 0.0, 0.0])
    assert_close(
        advantages, scalar[:, None] * mask, what=f"{GRPO} (hand-worked)", mask=mask,
        why="convention: unbiased std (n - 1); singleton group: mean 0, std 1; × response_mask",
        cause="grpo_population_std" if matches(advantages, population[:, None] * mask) else None,
        inputs={"rewards": rewards, "mask": mask, "uid": index},
    )


@pytest.mark.exercise("03.grpo")
@pytest.mark.parametrize("mask_dtype", [torch.int64, torch.float32, torch.bool], ids=str)
def test_compute_grpo_outcome_advantage_zero_on_masked_tokens(mask_dtype):
    raw, g = _load("grpo")
    mask = g["response_mask"].to(mask_dtype)
    for case in ("norm", "no_norm"):
        before = mask.clone()
        advantages, returns = _grpo(g["token_level_rewards"], mask, raw["index"], **GRPO_KWARGS[case])
        assert torch.equal(mask, before), f"{GRPO} modified response_mask in place — compute into a new tensor"
        for name, x in (("advantages", advantages), ("returns", returns)):
            leaked = int((x[mask == 0] != 0).sum())
            assert leaked == 0, (
                f"{GRPO}({case}): {name} are not 0 on {leaked} masked tokens — multiply the broadcast "
                "scalar by response_mask\n" + hint_line()
            )


# --------------------------------------------------------------------------- RLOO (§2.4)

RLOO = "compute_rloo_outcome_advantage"


def _rloo(token_level_rewards, response_mask, index, **kwargs):
    out = adv.compute_rloo_outcome_advantage(
        token_level_rewards=token_level_rewards, response_mask=response_mask, index=index, **kwargs
    )
    return _check_output(out, token_level_rewards, RLOO)


@pytest.mark.exercise("03.rloo")
def test_compute_rloo_outcome_advantage_matches_verl():
    raw, g = _load("rloo")
    mask = g["response_mask"]
    advantages, returns = _rloo(g["token_level_rewards"], mask, raw["index"])
    why = "score minus the mean of the OTHER responses of its group: (n * score - group sum) / (n - 1)"
    assert_close(advantages, g["advantages"], what=f"{RLOO} → advantages", mask=mask, why=why)
    assert_close(returns, g["returns"], what=f"{RLOO} → returns", mask=mask,
                 why="RLOO has no critic: returns are the advantages")


@pytest.mark.exercise("03.rloo")
def test_compute_rloo_outcome_advantage_hand_worked():
    # uids x y x z x (x not contiguous), scores: x = [1, 2, 6], y = [5] alone, z = [-1] alone.
    #   x: 1 - (2+6)/2 = -3,  2 - (1+6)/2 = -1.5,  6 - (1+2)/2 = 4.5
    #      (including the response itself in the baseline would give 1-3, 2-3, 6-3 = -2, -1, 3)
    #   y, z: a group of one keeps its raw score: 5 and -1
    index = np.array(["x", "y", "x", "z", "x"])
    mask = torch.tensor([[1, 1], [1, 0], [1, 1], [1, 1], [1, 0]])
    rewards = torch.zeros(5, 2)
    rewards[:, 0] = torch.tensor([1.0, 5.0, 2.0, -1.0, 6.0])
    advantages, _ = _rloo(rewards, mask, index)
    scalar = torch.tensor([-3.0, 5.0, -1.5, -1.0, 4.5])
    assert_close(
        advantages, scalar[:, None] * mask, what=f"{RLOO} (hand-worked)", mask=mask,
        why="the baseline leaves the response itself out: mean of the n - 1 others; a singleton keeps its score",
    )


@pytest.mark.exercise("03.rloo")
def test_compute_rloo_outcome_advantage_integer_uids_shuffled():
    raw, g = _load("rloo")
    perm = torch.randperm(len(raw["index"]), generator=torch.Generator().manual_seed(11))
    # Relabel the groups as ints (q0 → 11, q1 → 14, ...) and reshuffle the batch.
    index = np.unique(raw["index"], return_inverse=True)[1].astype(np.int64) * 3 + 11
    advantages, _ = _rloo(g["token_level_rewards"][perm], g["response_mask"][perm], index[perm.numpy()])
    # the same int uids in the original order are the control: if they match, only the order differs
    in_order, _ = _rloo(g["token_level_rewards"], g["response_mask"], index)
    assert_close(advantages, g["advantages"][perm], what=f"{RLOO}, int uids, reshuffled batch",
                 why=RESHUFFLED_WHY,
                 cause="rloo_groups_by_position" if matches(in_order, g["advantages"]) else None)


@pytest.mark.exercise("03.rloo")
@pytest.mark.parametrize("mask_dtype", [torch.int64, torch.float32, torch.bool], ids=str)
def test_compute_rloo_outcome_advantage_zero_on_masked_tokens(mask_dtype):
    raw, g = _load("rloo")
    mask = g["response_mask"].to(mask_dtype)
    before = mask.clone()
    advantages, _ = _rloo(g["token_level_rewards"], mask, raw["index"])
    assert torch.equal(mask, before), f"{RLOO} modified response_mask in place — compute into a new tensor"
    leaked = int((advantages[mask == 0] != 0).sum())
    assert leaked == 0, (
        f"{RLOO}: advantages are not 0 on {leaked} masked tokens — multiply the broadcast scalar by "
        "response_mask\n" + hint_line()
    )


# --------------------------------------------------------------------------- REINFORCE++ (§2.5)

RPP = "compute_reinforce_plus_plus_outcome_advantage"


def _rpp(token_level_rewards, response_mask, gamma):
    out = adv.compute_reinforce_plus_plus_outcome_advantage(
        token_level_rewards=token_level_rewards, response_mask=response_mask, gamma=gamma
    )
    return _check_output(out, token_level_rewards, RPP)


@pytest.mark.exercise("03.reinforce_pp")
@pytest.mark.parametrize("setting", ["a", "b"])
def test_compute_reinforce_plus_plus_outcome_advantage_matches_verl(setting):
    raw, g = _load("reinforce_pp")
    mask = g["response_mask"]
    gamma = float(raw[f"gamma_{setting}"])
    advantages, returns = _rpp(g["token_level_rewards"], mask, gamma)
    what = f"{RPP}(gamma={gamma})"
    assert_close(
        returns, g[f"returns_{setting}"], what=f"{what} → returns", mask=mask,
        why="discounted return-to-go, right to left; a masked token passes the running return through "
        "unchanged and gets return 0 (the golden batch has holes inside responses)",
    )
    assert_close(
        advantages, g[f"advantages_{setting}"], what=f"{what} → advantages", mask=mask,
        why="whiten the returns over the valid tokens of the whole batch (not per response), then × mask",
    )


@pytest.mark.exercise("03.reinforce_pp")
def test_compute_reinforce_plus_plus_outcome_advantage_hand_worked():
    # The docstring's example: mask [1, 1, 0, 1], r = [0, 1, 7, 2], gamma = 0.5, right to left:
    #   t=3: 2;  t=2: masked → return 0, running stays 2 (7 ignored);  t=1: 1 + 0.5*2 = 2;  t=0: 0 + 0.5*2 = 1
    #   returns = [1, 2, 0, 2]
    #   whiten over the valid [1, 2, 2]: mean 5/3, deviations [-2/3, 1/3, 1/3],
    #   unbiased var = (4/9 + 1/9 + 1/9) / 2 = 1/3 → advantages = deviation / sqrt(1/3 + 1e-8), 0 where masked
    mask = torch.tensor([[1, 1, 0, 1]])
    advantages, returns = _rpp(torch.tensor([[0.0, 1.0, 7.0, 2.0]]), mask, gamma=0.5)
    assert_close(
        returns, torch.tensor([[1.0, 2.0, 0.0, 2.0]]), what=f"{RPP} → returns (hand-worked)",
        mask=mask,
        why="skip the masked token: don't add its reward, don't reset the running return, store 0 there",
    )
    s = 1 / math.sqrt(1 / 3 + 1e-8)
    assert_close(
        advantages, torch.tensor([[-2 / 3 * s, 1 / 3 * s, 0.0, 1 / 3 * s]]),
        what=f"{RPP} → advantages (hand-worked)", mask=mask,
        why="masked_whiten(returns, mask) (unbiased variance), then multiply by the mask",
    )


@pytest.mark.exercise("03.reinforce_pp")
def test_compute_reinforce_plus_plus_outcome_advantage_ignores_rewards_on_masked_tokens():
    raw, g = _load("reinforce_pp")
    mask = g["response_mask"]
    advantages, returns = _rpp(_garbage_on_masked(g["token_level_rewards"], mask, seed=3), mask,
                               float(raw["gamma_a"]))
    why = "the golden inputs with large random rewards where response_mask is 0"
    # the golden inputs themselves are the control: if they match, only the masked rewards differ
    clean_adv, clean_ret = _rpp(g["token_level_rewards"], mask, float(raw["gamma_a"]))
    clean_ok = matches(clean_ret, g["returns_a"]) and matches(clean_adv, g["advantages_a"])
    cause = "masked_positions_leak" if clean_ok else None
    assert_close(returns, g["returns_a"], what=f"{RPP} → returns, garbage under the mask",
                 mask=mask, why=why, cause=cause)
    assert_close(advantages, g["advantages_a"], what=f"{RPP} → advantages, garbage under the mask",
                 mask=mask, why=why, cause=cause)


# ------------------------------------------- 03.grpo_passk, 03.reinforce_pp_baseline, 03.opo, 03.remax, 03.gpg
# Goldens: verlings/goldens/ch03_estimators.py.

PASSK = "compute_grpo_passk_outcome_advantage"
PASSK_KWARGS = {
    "norm": {"config": {"norm_adv_by_std_in_grpo": True}},
    "no_norm": {"config": {"norm_adv_by_std_in_grpo": False}},
    "eps": {"config": {"norm_adv_by_std_in_grpo": True}, "epsilon": 0.1},
    "config_wins": {"config": {"norm_adv_by_std_in_grpo": True}, "norm_adv_by_std_in_grpo": False},
}
PASSK_WHY = {
    "norm": "only each group's best response gets (r_max - r_second_max) / (unbiased std + epsilon); the rest 0",
    "no_norm": "config['norm_adv_by_std_in_grpo'] is False: r_max - r_second_max, no division",
    "eps": "the epsilon argument is added to the group's std",
    "config_wins": "verl reads norm_adv_by_std_in_grpo from config and ignores the keyword of the same name",
}


def _passk(token_level_rewards, response_mask, index, **kwargs):
    out = adv.compute_grpo_passk_outcome_advantage(
        token_level_rewards=token_level_rewards, response_mask=response_mask, index=index, **kwargs
    )
    return _check_output(out, token_level_rewards, PASSK)


@pytest.mark.exercise("03.grpo_passk")
@pytest.mark.parametrize("case", list(PASSK_KWARGS))
def test_compute_grpo_passk_outcome_advantage_matches_verl(case):
    raw, g = _load("grpo_passk")
    advantages, returns = _passk(g["token_level_rewards"], g["response_mask"], raw["index"], **PASSK_KWARGS[case])
    what = f"{PASSK}({PASSK_KWARGS[case]})"
    assert_close(advantages, g[f"advantages_{case}"], what=f"{what} → advantages",
                 mask=g["response_mask"], why=PASSK_WHY[case])
    assert_close(returns, g[f"returns_{case}"], what=f"{what} → returns",
                 why="returns are the advantages")


@pytest.mark.exercise("03.grpo_passk")
def test_compute_grpo_passk_outcome_advantage_hand_worked():
    # One group, one token each. Scores [0, 1, 0, 0]: r_max 1, r_second_max 0 → 1 for the best, 0 for the others.
    # Unbiased std of [0, 1, 0, 0] = sqrt(0.75 / 3) = 0.5 → 1 / (0.5 + 1e-6) with the std.
    # A second group [2, 2]: a tie at the top → 0 for both.
    rewards = torch.tensor([[0.0], [1.0], [0.0], [0.0], [2.0], [2.0]])
    mask = torch.ones(6, 1)
    index = np.array(["a", "a", "a", "a", "b", "b"])
    advantages, _ = _passk(rewards, mask, index, config={"norm_adv_by_std_in_grpo": False})
    assert_close(advantages, torch.tensor([[0.0], [1.0], [0.0], [0.0], [0.0], [0.0]]), what=f"{PASSK} (no std)",
                 why="the best response gets r_max - r_second_max; a tie at the top gives 0")
    advantages, _ = _passk(rewards, mask, index, config={"norm_adv_by_std_in_grpo": True})
    assert_close(advantages[1], torch.tensor([1.0 / (0.5 + 1e-6)]), what=f"{PASSK} (with std)",
                 why="divide by the group's unbiased std (torch.std) + epsilon")


@pytest.mark.exercise("03.grpo_passk")
def test_compute_grpo_passk_outcome_advantage_rejects_groups_of_one():
    rewards, mask = torch.tensor([[1.0], [0.0], [1.0]]), torch.ones(3, 1)
    with pytest.raises(ValueError):
        adv.compute_grpo_passk_outcome_advantage(
            token_level_rewards=rewards, response_mask=mask, index=np.array(["a", "a", "b"]),
            config={"norm_adv_by_std_in_grpo": True},
        )


RPPB = "compute_reinforce_plus_plus_baseline_outcome_advantage"


@pytest.mark.exercise("03.reinforce_pp_baseline")
def test_compute_reinforce_plus_plus_baseline_outcome_advantage_matches_verl():
    raw, g = _load("reinforce_pp_baseline")
    out = adv.compute_reinforce_plus_plus_baseline_outcome_advantage(
        token_level_rewards=g["token_level_rewards"], response_mask=g["response_mask"], index=raw["index"]
    )
    advantages, returns = _check_output(out, g["token_level_rewards"], RPPB)
    why = ("score minus its group's mean (a group of one: 0), on every valid token, then whitened over all "
           "valid tokens of the batch (unbiased variance), then 0 on masked tokens")
    assert_close(advantages, g["advantages"], what=f"{RPPB} → advantages",
                 mask=g["response_mask"], why=why)
    assert_close(returns, g["returns"], what=f"{RPPB} → returns",
                 why="returns are the advantages")


@pytest.mark.exercise("03.reinforce_pp_baseline")
def test_compute_reinforce_plus_plus_baseline_outcome_advantage_hand_worked():
    # Groups [1, 0] and [1, 1], one token each: centred [0.5, -0.5, 0, 0]; over the 4 valid tokens the
    # mean is 0 and the unbiased variance (0.25 + 0.25) / 3 = 1/6 → [0.5, -0.5, 0, 0] / sqrt(1/6 + 1e-8).
    rewards = torch.tensor([[1.0, 0.0], [0.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    mask = torch.tensor([[1, 0], [1, 0], [1, 0], [1, 0]])
    advantages, _ = adv.compute_reinforce_plus_plus_baseline_outcome_advantage(
        token_level_rewards=rewards, response_mask=mask, index=np.array([0, 0, 1, 1])
    )
    scale = 1.0 / math.sqrt(1.0 / 6.0 + 1e-8)
    expected = torch.tensor([[0.5 * scale, 0.0], [-0.5 * scale, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert_close(advantages, expected, what=RPPB, mask=mask,
                 why="group-mean baseline first, then one whitening over the batch's valid tokens")


OPO = "compute_opo_outcome_advantage"


@pytest.mark.exercise("03.opo")
def test_compute_opo_outcome_advantage_matches_verl():
    raw, g = _load("opo")
    out = adv.compute_opo_outcome_advantage(
        token_level_rewards=g["token_level_rewards"], response_mask=g["response_mask"], index=raw["index"]
    )
    advantages, returns = _check_output(out, g["token_level_rewards"], OPO)
    why = ("score minus the group's length-weighted mean score Σ len·score / Σ len (a group of one: 0), "
           "len = valid tokens of the response")
    assert_close(advantages, g["advantages"], what=f"{OPO} → advantages",
                 mask=g["response_mask"], why=why)
    assert_close(returns, g["returns"], what=f"{OPO} → returns", why="returns are the advantages")


@pytest.mark.exercise("03.opo")
def test_compute_opo_outcome_advantage_hand_worked():
    # One group: a 3-token answer with score 1, a 1-token answer with score 0.
    # baseline = (3·1 + 1·0) / (3 + 1) = 0.75 → +0.25 on the first answer's tokens, -0.75 on the second's.
    rewards = torch.tensor([[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    advantages, _ = adv.compute_opo_outcome_advantage(
        token_level_rewards=rewards, response_mask=mask, index=np.array(["q", "q"])
    )
    assert_close(advantages, torch.tensor([[0.25, 0.25, 0.25], [-0.75, 0.0, 0.0]]), what=OPO,
                 mask=mask, why="the baseline weighs each score by its response's length (a plain mean gives 0.5)")


REMAX = "compute_remax_outcome_advantage"


@pytest.mark.exercise("03.remax")
def test_compute_remax_outcome_advantage_matches_verl():
    _, g = _load("remax")
    out = adv.compute_remax_outcome_advantage(
        token_level_rewards=g["token_level_rewards"], reward_baselines=g["reward_baselines"],
        response_mask=g["response_mask"],
    )
    advantages, returns = _check_output(out, g["token_level_rewards"], REMAX)
    assert_close(returns, g["returns"], what=f"{REMAX} → returns",
                 why="returns[t] = Σ of rewards·mask from t to the end (undiscounted; masked rewards do not count)")
    assert_close(advantages, g["advantages"], what=f"{REMAX} → advantages",
                 why="advantages = returns - reward_baselines on valid tokens (the baseline times the mask)")


@pytest.mark.exercise("03.remax")
def test_compute_remax_outcome_advantage_hand_worked():
    # rewards [0.1, 5 (masked), 1], baseline 0.25: returns [1.1, 1, 1]; advantages [0.85, 1, 0.75].
    rewards = torch.tensor([[0.1, 5.0, 1.0]])
    mask = torch.tensor([[1, 0, 1]])
    advantages, returns = adv.compute_remax_outcome_advantage(
        token_level_rewards=rewards, reward_baselines=torch.tensor([0.25]), response_mask=mask
    )
    assert_close(returns, torch.tensor([[1.1, 1.0, 1.0]]), what=f"{REMAX} → returns",
                 why="the masked reward 5 is ignored; no discount")
    assert_close(advantages, torch.tensor([[0.85, 1.0, 0.75]]), what=f"{REMAX} → advantages",
                 why="the baseline is subtracted on valid tokens only")


GPG = "compute_gpg_outcome_advantage"
GPG_WHY = {
    "": "alpha · (score - group mean) / f_norm, alpha = bs / max(1, responses with a non-zero score)",
    "_f_norm": "divide by f_norm",
    "_alpha_ignored": "the alpha argument is ignored: verl recomputes alpha from the batch",
}


@pytest.mark.exercise("03.gpg")
@pytest.mark.parametrize(
    ("case", "kwargs"), [("", {}), ("_f_norm", {"f_norm": 2.5}), ("_alpha_ignored", {"alpha": 7.0})]
)
def test_compute_gpg_outcome_advantage_matches_verl(case, kwargs):
    raw, g = _load("gpg")
    out = adv.compute_gpg_outcome_advantage(
        token_level_rewards=g["token_level_rewards"], response_mask=g["response_mask"], index=raw["index"], **kwargs
    )
    advantages, returns = _check_output(out, g["token_level_rewards"], GPG)
    assert_close(advantages, g[f"advantages{case}"], what=f"{GPG}({kwargs}) → advantages",
                 mask=g["response_mask"], why=GPG_WHY[case])
    assert_close(returns, g[f"returns{case}"], what=f"{GPG}({kwargs}) → returns",
                 why="returns are the advantages")


@pytest.mark.exercise("03.gpg")
def test_compute_gpg_outcome_advantage_hand_worked():
    # Groups [1, 0] and [0, 0]: 1 non-zero score in a batch of 4 → alpha = 4; means 0.5 and 0.
    # advantages = 4 · [0.5, -0.5, 0, 0] = [2, -2, 0, 0].
    rewards = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    advantages, _ = adv.compute_gpg_outcome_advantage(
        token_level_rewards=rewards, response_mask=torch.ones(4, 1), index=np.array([0, 0, 1, 1])
    )
    assert_close(advantages, torch.tensor([[2.0], [-2.0], [0.0], [0.0]]), what=GPG,
                 why=GPG_WHY[""])
