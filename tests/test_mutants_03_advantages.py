"""Known-wrong variants of exercises/03/advantages.py: each must fail at least one graded test.

Each mutant's code is appended to solutions/03/advantages.py, so it may use the module's
private helpers (masked_whiten, _group_ids, _group_sum).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

_GAE_LOOP = """
def compute_gae_advantage_return(token_level_rewards, values, response_mask, gamma, lam):
    mask = response_mask.to(values.dtype)
    advantages = torch.empty_like(values)
    nextvalues = torch.zeros_like(values[:, 0])
    lastgaelam = torch.zeros_like(values[:, 0])
    for t in reversed(range(values.shape[1])):
        m = mask[:, t]
        delta = {delta}
        nextvalues = {nextvalues}
        lastgaelam = {lastgaelam}
        advantages[:, t] = lastgaelam
    returns = {returns}
    advantages = {whiten}
    return advantages, returns
"""
_GAE_OK = {
    "delta": "token_level_rewards[:, t] + gamma * nextvalues - values[:, t]",
    "nextvalues": "m * values[:, t] + (1 - m) * nextvalues",
    "lastgaelam": "m * (delta + gamma * lam * lastgaelam) + (1 - m) * lastgaelam",
    "returns": "advantages + values",
    "whiten": "masked_whiten(advantages, response_mask)",
}


def _gae(**changes: str) -> str:
    return _GAE_LOOP.format(**(_GAE_OK | changes))


def _grpo(*, std: str = "torch.sqrt(sq / (count - 1).clamp_min(1))", divide: str = "(std[ids] + epsilon)",
          ids: str = "_group_ids(index, scores.device)", single: str = "count < 2",
          norm: str = "norm_adv_by_std_in_grpo", mask: str = "response_mask.to(scalars.dtype)") -> str:
    return f"""
def compute_grpo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6,
                                   norm_adv_by_std_in_grpo=True, config=None):
    scores = token_level_rewards.sum(dim=-1)
    ids, groups = {ids}
    count = _group_sum(torch.ones_like(scores), ids, groups)
    mean = _group_sum(scores, ids, groups) / count
    centered = scores - mean[ids]
    sq = _group_sum(centered * centered, ids, groups)
    std = {std}
    single = {single}
    mean = torch.where(single, 0.0, mean)
    std = torch.where(single, 1.0, std)
    scalars = scores - mean[ids]
    if {norm}:
        scalars = scalars / {divide}
    advantages = scalars.unsqueeze(-1) * {mask}
    return advantages, advantages
"""


# Contiguous blocks of bs / n_groups responses: right only when the batch happens to be sorted by uid.
_BY_POSITION = (
    "(lambda n: (torch.arange(len(index)) // n, (len(index) + n - 1) // n))"
    "(max(1, len(index) // len(np.unique(index))))"
)

_NO_MASK = "torch.ones_like(response_mask, dtype=scalars.dtype)"  # broadcast without the mask


def _rloo(*, scalars: str = "torch.where(n > 1, (n * scores - s) / (n - 1).clamp_min(1), scores)",
          ids: str = "_group_ids(index, scores.device)", mask: str = "response_mask.to(scalars.dtype)") -> str:
    return f"""
def compute_rloo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6, config=None, **kwargs):
    scores = token_level_rewards.sum(dim=-1)
    ids, groups = {ids}
    n = _group_sum(torch.ones_like(scores), ids, groups)[ids]
    s = _group_sum(scores, ids, groups)[ids]
    scalars = {scalars}
    advantages = scalars.unsqueeze(-1) * {mask}
    return advantages, advantages
"""


def _rpp(*, new: str = "token_level_rewards[:, t] + gamma * running",
         running: str = "m * new + (1 - m) * running",
         advantages: str = "masked_whiten(returns, response_mask) * mask",
         ret: str = "returns") -> str:
    return f"""
def compute_reinforce_plus_plus_outcome_advantage(token_level_rewards, response_mask, gamma=None, config=None,
                                                  **kwargs):
    mask = response_mask.to(token_level_rewards.dtype)
    returns = torch.zeros_like(token_level_rewards)
    running = torch.zeros_like(token_level_rewards[:, 0])
    for t in reversed(range(token_level_rewards.shape[1])):
        m = mask[:, t]
        new = {new}
        returns[:, t] = new * m
        running = {running}
    advantages = {advantages}
    return advantages, {ret}
"""


def _whiten_rows(values: str) -> str:
    """Per-response whitening, a common slip for a batch-level statistic."""
    return (
        f"torch.stack([masked_whiten(v, m) if m.sum() > 1 else v * 0 for v, m in zip({values}, response_mask)])"
        " * mask"
    )


MUTANTS = [
    # --- GAE
    Mutant("gae_holes_as_normal_steps", "03.gae", "advantages",
           _gae(nextvalues="values[:, t]", lastgaelam="delta + gamma * lam * lastgaelam")),
    Mutant("gae_resets_at_masked_tokens", "03.gae", "advantages",
           _gae(nextvalues="m * values[:, t]", lastgaelam="m * (delta + gamma * lam * lastgaelam)")),
    Mutant("gae_returns_from_whitened_advantages", "03.gae", "advantages",
           _gae(returns="masked_whiten(advantages, response_mask) + values")),
    Mutant("gae_not_whitened", "03.gae", "advantages", _gae(whiten="advantages")),
    Mutant("gae_gamma_lam_swapped", "03.gae", "advantages",
           _gae(delta="token_level_rewards[:, t] + lam * nextvalues - values[:, t]")),
    Mutant("gae_no_lambda", "03.gae", "advantages",
           _gae(lastgaelam="m * (delta + gamma * lastgaelam) + (1 - m) * lastgaelam")),
    Mutant("gae_whitened_over_all_tokens", "03.gae", "advantages",
           _gae(whiten="masked_whiten(advantages, torch.ones_like(response_mask))")),
    Mutant("gae_whitened_with_population_variance", "03.gae", "advantages",
           _gae(whiten="(lambda a, k: (a - a[k].mean()) * torch.rsqrt(a[k].var(unbiased=False) + 1e-8))"
                       "(advantages, response_mask.bool())")),
    # --- GRPO
    Mutant("grpo_population_std", "03.grpo", "advantages", _grpo(std="torch.sqrt(sq / count)")),
    Mutant("grpo_no_zero_std_guard", "03.grpo", "advantages", _grpo(divide="std[ids]")),
    Mutant("grpo_groups_by_position", "03.grpo", "advantages", _grpo(ids=_BY_POSITION)),
    Mutant("grpo_ignores_norm_flag", "03.grpo", "advantages", _grpo(norm="True")),
    Mutant("grpo_fixed_epsilon", "03.grpo", "advantages", _grpo(divide="(std[ids] + 1e-6)")),
    Mutant("grpo_no_singleton_fallback", "03.grpo", "advantages", _grpo(single="count < 0")),
    Mutant("grpo_not_masked", "03.grpo", "advantages", _grpo(mask=_NO_MASK)),
    # --- RLOO
    Mutant("rloo_self_in_baseline", "03.rloo", "advantages",
           _rloo(scalars="torch.where(n > 1, scores - s / n, scores)")),
    Mutant("rloo_others_mean_divided_by_n", "03.rloo", "advantages",
           _rloo(scalars="torch.where(n > 1, scores - (s - scores) / n, scores)")),
    # verl's own compute_rloo_vectorized_outcome_advantage does this; compute_rloo_outcome_advantage does not.
    Mutant("rloo_singleton_zeroed", "03.rloo", "advantages",
           _rloo(scalars="torch.where(n > 1, (n * scores - s) / (n - 1).clamp_min(1), 0.0)")),
    Mutant("rloo_groups_by_position", "03.rloo", "advantages", _rloo(ids=_BY_POSITION)),
    Mutant("rloo_not_masked", "03.rloo", "advantages", _rloo(mask=_NO_MASK)),
    # --- REINFORCE++
    Mutant("rpp_no_discount", "03.reinforce_pp", "advantages", _rpp(new="token_level_rewards[:, t] + running")),
    Mutant("rpp_not_whitened", "03.reinforce_pp", "advantages", _rpp(advantages="returns * mask")),
    Mutant("rpp_whitened_per_response", "03.reinforce_pp", "advantages", _rpp(advantages=_whiten_rows("returns"))),
    Mutant("rpp_resets_at_masked_tokens", "03.reinforce_pp", "advantages", _rpp(running="m * new")),
    Mutant("rpp_adds_rewards_of_masked_tokens", "03.reinforce_pp", "advantages", _rpp(running="new")),
    Mutant("rpp_not_masked", "03.reinforce_pp", "advantages",
           _rpp(advantages="masked_whiten(returns, response_mask)")),
    Mutant("rpp_returns_whitened", "03.reinforce_pp", "advantages", _rpp(ret="advantages")),
    # Edges the goldens never hold (issue 24): caught by test_advantages_properties.py's differential tests.
    Mutant(
        "gae_zeroes_the_critic_in_place",
        "03.gae",
        "advantages",  # same advantages and valid returns, but the caller's values tensor is changed
        replace={
            "        mask = response_mask.bool()\n        bs, length": (
                "        mask = response_mask.bool()\n        values *= response_mask\n        bs, length"
            )
        },
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
