"""Known-wrong variants of exercises/03/advantages.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/advantages.py (``replace={reference text: wrong text}``).
The reference runs GAE and REINFORCE++ as one multiply-add per token (``x = step + decay * x``):
a masked token has step 0 and decay 1 (carried through); a mutant that resets at masked tokens
gives it decay 0, one that treats holes as normal steps gives it the valid token's step and decay.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

A = "advantages"
GAE, GRPO, RLOO, RPP = "03.gae", "03.grpo", "03.rloo", "03.reinforce_pp"

# --- GAE
GAE_MASK = "        mask = response_mask.bool()\n        bs, length"
FIRST_VALID = "torch.where(mask, pos, length)"  # the next *valid* position; `pos` makes it simply t + 1
GAE_DECAY = "torch.where(mask, gamma * lam, 1.0)"
WHITEN_GAE = "advantages = masked_whiten(advantages, response_mask)"
# --- GRPO / RLOO: group ids, then per-group counts and sums
IDS = "ids, groups = _group_ids(index, scores.device)\n"
COUNTS = (
    "        count = _group_sum(torch.ones_like(scores), ids, groups)\n"
    "        total = _group_sum(scores, ids, groups)\n"
)
GRPO_IDS = IDS + COUNTS + "        mean = total / count"
RLOO_IDS = IDS + COUNTS + "        n, s ="
# Contiguous blocks of bs / n_groups responses: right only when the batch happens to be sorted by uid.
BY_POSITION = (
    "ids, groups = (lambda n: (torch.arange(len(index)) // n, (len(index) + n - 1) // n))"
    "(max(1, len(index) // len(np.unique(index))))\n"
)
BROADCAST = "        advantages = _broadcast(scalars, response_mask)"
NO_MASK = "        advantages = _broadcast(scalars, torch.ones_like(response_mask))"  # every token, padding too
GRPO_DIVIDE = "scalars = scalars / (std[ids] + epsilon)\n"
RLOO_SCALARS = "torch.where(n > 1, (n * scores - s) / (n - 1).clamp_min(1), scores)\n"
# --- REINFORCE++
RPP_DECAY = "torch.where(mask, gamma, 1.0)"
RPP_STEP = "torch.where(mask, token_level_rewards, 0.0)"
WHITEN_RPP = "advantages = masked_whiten(returns, response_mask) * mask"

MUTANTS = [
    # --- GAE
    Mutant("gae_holes_as_normal_steps", GAE, A,
           replace={GAE_MASK: GAE_MASK.replace("response_mask.bool()", "torch.ones_like(response_mask, dtype=bool)")}),
    # each hole ends the episode: no value bootstrapped across it, lastgaelam restarts at 0
    Mutant("gae_resets_at_masked_tokens", GAE, A, replace={
        FIRST_VALID: "pos", "torch.cat([values, ": "torch.cat([values * mask, ",
        GAE_DECAY: "torch.where(mask, gamma * lam, 0.0)"}),
    Mutant("gae_returns_from_whitened_advantages", GAE, A,
           replace={"returns = advantages + values": "returns = masked_whiten(advantages, response_mask) + values"}),
    Mutant("gae_not_whitened", GAE, A, replace={f"        {WHITEN_GAE}\n": ""}),
    Mutant("gae_gamma_lam_swapped", GAE, A, replace={"+ gamma * nextvalues": "+ lam * nextvalues"}),
    Mutant("gae_no_lambda", GAE, A, replace={GAE_DECAY: "torch.where(mask, gamma, 1.0)"}),
    Mutant("gae_whitened_over_all_tokens", GAE, A,
           replace={WHITEN_GAE: "advantages = masked_whiten(advantages, torch.ones_like(response_mask))"}),
    Mutant("gae_whitened_with_population_variance", GAE, A, replace={
        WHITEN_GAE: "advantages = (lambda a, k: (a - a[k].mean()) * torch.rsqrt(a[k].var(unbiased=False) + 1e-8))"
                    "(advantages, response_mask.bool())"}),
    # --- GRPO
    Mutant("grpo_population_std", GRPO, A,
           replace={"std = torch.sqrt(sq / (count - 1).clamp_min(1))": "std = torch.sqrt(sq / count)"}),
    Mutant("grpo_no_zero_std_guard", GRPO, A, replace={GRPO_DIVIDE: "scalars = scalars / std[ids]\n"}),
    Mutant("grpo_groups_by_position", GRPO, A, replace={GRPO_IDS: GRPO_IDS.replace(IDS, BY_POSITION)}),
    Mutant("grpo_ignores_norm_flag", GRPO, A, replace={"if norm_adv_by_std_in_grpo:": "if True:"}),
    Mutant("grpo_fixed_epsilon", GRPO, A, replace={"(std[ids] + epsilon)": "(std[ids] + 1e-6)"}),
    Mutant("grpo_no_singleton_fallback", GRPO, A, replace={"single = count < 2": "single = count < 0"}),
    Mutant("grpo_not_masked", GRPO, A, replace={GRPO_DIVIDE + BROADCAST: GRPO_DIVIDE + NO_MASK}),
    # --- RLOO
    Mutant("rloo_self_in_baseline", RLOO, A,
           replace={RLOO_SCALARS: "torch.where(n > 1, scores - s / n, scores)\n"}),
    Mutant("rloo_others_mean_divided_by_n", RLOO, A,
           replace={RLOO_SCALARS: "torch.where(n > 1, scores - (s - scores) / n, scores)\n"}),
    # verl's own compute_rloo_vectorized_outcome_advantage does this; compute_rloo_outcome_advantage does not.
    Mutant("rloo_singleton_zeroed", RLOO, A,
           replace={RLOO_SCALARS: RLOO_SCALARS.replace(", scores)", ", 0.0)")}),
    Mutant("rloo_groups_by_position", RLOO, A, replace={RLOO_IDS: RLOO_IDS.replace(IDS, BY_POSITION)}),
    Mutant("rloo_not_masked", RLOO, A, replace={RLOO_SCALARS + BROADCAST: RLOO_SCALARS + NO_MASK}),
    # --- REINFORCE++
    Mutant("rpp_no_discount", RPP, A, replace={RPP_DECAY: "torch.where(mask, 1.0, 1.0)"}),
    Mutant("rpp_not_whitened", RPP, A, replace={WHITEN_RPP: "advantages = returns * mask"}),
    # per-response whitening, a common slip for a batch-level statistic
    Mutant("rpp_whitened_per_response", RPP, A, replace={
        WHITEN_RPP: "advantages = torch.stack([masked_whiten(v, m) if m.sum() > 1 else v * 0 "
                    "for v, m in zip(returns, response_mask)]) * mask"}),
    Mutant("rpp_resets_at_masked_tokens", RPP, A, replace={RPP_DECAY: "torch.where(mask, gamma, 0.0)"}),
    # a masked token's reward is added and the return discounted across it
    Mutant("rpp_adds_rewards_of_masked_tokens", RPP, A,
           replace={RPP_DECAY: "torch.where(mask, gamma, gamma)", RPP_STEP: "token_level_rewards"}),
    Mutant("rpp_not_masked", RPP, A, replace={WHITEN_RPP: "advantages = masked_whiten(returns, response_mask)"}),
    Mutant("rpp_returns_whitened", RPP, A, replace={
        WHITEN_RPP + "\n    return advantages, returns": WHITEN_RPP + "\n    return advantages, advantages"}),
    # Edges the goldens never hold (issue 24): caught by test_advantages_properties.py's differential tests.
    Mutant(
        "gae_zeroes_the_critic_in_place",
        GAE,
        A,  # same advantages and valid returns, but the caller's values tensor is changed
        replace={GAE_MASK: "        mask = response_mask.bool()\n        values *= response_mask\n        bs, length"},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
