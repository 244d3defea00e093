"""Known-wrong variants of the more estimators in exercises/03/advantages.py (§2.6–§2.10).

Most are small edits of solutions/03/advantages.py (``replace``: each text occurs once there); the
few that rewrite a function append it (``code``), using the module's helpers and the reference
functions it wraps.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

# texts of solutions/03/advantages.py that the edits replace
PASSK = "03.grpo_passk"
PASSK_STD = "torch.std(rewards) + epsilon"
RPPB_MEAN = (
    "# The group mean as a baseline (0 for a group of one), then one whitening over the whole batch.\n"
    "        mean = torch.where(count > 1, _group_sum(scores, ids, groups) / count, 0.0)"
)
OPO_WEIGHTED = "_group_sum(lengths * scores, ids, groups) / _group_sum(lengths, ids, groups)"
REMAX_ADV = "returns - reward_baselines.unsqueeze(-1) * response_mask"
GPG_ADV = "alpha * (scores - mean[ids]) / f_norm"
PASSK_TOO_SMALL = (
    'raise ValueError(f"Pass@k requires at least 2 samples per group. Got {rewards.numel()} for group {g}.")'
)


MUTANTS = [
    # ------------------------------------------------------------- pass@k
    Mutant("passk_population_std", PASSK, "advantages",
           replace={PASSK_STD: "torch.std(rewards, unbiased=False) + epsilon"}),
    Mutant("passk_flag_from_keyword", PASSK, "advantages",
           replace={'norm = config.get("norm_adv_by_std_in_grpo", True)': "norm = norm_adv_by_std_in_grpo"}),
    Mutant("passk_margin_over_the_mean", PASSK, "advantages",
           replace={"advantage = top[0] - top[1]": "advantage = top[0] - rewards.mean()"}),
    Mutant("passk_accepts_groups_of_one", PASSK, "advantages", replace={PASSK_TOO_SMALL: "continue"}),
    Mutant("passk_fixed_epsilon", PASSK, "advantages", replace={PASSK_STD: "torch.std(rewards) + 1e-6"}),
    Mutant(
        "passk_credits_every_response",  # GRPO-style: everyone gets r - r_second_max
        PASSK,
        "advantages",
        replace={"scalars[members[top_idx[0]]] = advantage": (
            "scalars[members] = (rewards - top[1]) / ((torch.std(rewards) + epsilon) if norm else 1.0)"
        )},
    ),
    # ------------------------------------------------- REINFORCE++ baseline
    Mutant(
        "rppb_no_group_baseline",
        "03.reinforce_pp_baseline",
        "advantages",
        replace={"_broadcast(scores - mean[ids], response_mask)": "_broadcast(scores, response_mask)"},
    ),
    Mutant(
        "rppb_whitens_per_group",  # GRPO's normalisation instead of one over the batch
        "03.reinforce_pp_baseline",
        "advantages",
        """
        def compute_reinforce_plus_plus_baseline_outcome_advantage(token_level_rewards, response_mask, index,
                                                                   epsilon=1e-6, config=None, **kwargs):
            advantages, _ = compute_grpo_outcome_advantage(token_level_rewards, response_mask, index)
            return advantages, advantages
        """,
    ),
    Mutant(
        "rppb_singleton_keeps_its_score_as_mean",
        "03.reinforce_pp_baseline",
        "advantages",
        replace={RPPB_MEAN: "mean = _group_sum(scores, ids, groups) / count"},
    ),
    Mutant(
        "rppb_not_remasked_after_whitening",
        "03.reinforce_pp_baseline",
        "advantages",
        replace={"masked_whiten(centered, response_mask) * response_mask": "masked_whiten(centered, response_mask)"},
    ),
    # ---------------------------------------------------------------- OPO
    Mutant(
        "opo_plain_mean_baseline",
        "03.opo",
        "advantages",
        replace={OPO_WEIGHTED: "_group_sum(scores, ids, groups) / count"},
    ),
    Mutant(
        "opo_length_is_padded_length",
        "03.opo",
        "advantages",
        """
        _reference_opo = compute_opo_outcome_advantage

        def compute_opo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6, config=None,
                                          **kwargs):
            # every response counted as response_length long: the weights are all equal
            advantages, _ = _reference_opo(token_level_rewards, torch.ones_like(response_mask), index)
            advantages = advantages * response_mask
            return advantages, advantages
        """,
    ),
    Mutant(
        "opo_singleton_baseline_is_its_score",
        "03.opo",
        "advantages",
        replace={"baseline = torch.where(count > 1, weighted, 0.0)": "baseline = weighted"},
    ),
    # -------------------------------------------------------------- ReMax
    Mutant(
        "remax_counts_masked_rewards",
        "03.remax",
        "advantages",
        replace={"returns = (token_level_rewards * response_mask).flip(": "returns = token_level_rewards.flip("},
    ),
    Mutant(
        "remax_baseline_on_every_token",
        "03.remax",
        "advantages",
        replace={REMAX_ADV: "returns - reward_baselines.unsqueeze(-1)"},
    ),
    Mutant(
        "remax_advantage_is_score_minus_baseline",  # one number per response, not a return-to-go
        "03.remax",
        "advantages",
        replace={REMAX_ADV: (
            "_broadcast((token_level_rewards * response_mask).sum(-1) - reward_baselines, response_mask)"
        )},
    ),
    # ---------------------------------------------------------------- GPG
    Mutant(
        "gpg_uses_the_alpha_argument",
        "03.gpg",
        "advantages",
        replace={"alpha = scores.shape[0] /": "alpha = alpha * scores.shape[0] /"},
    ),
    Mutant(
        "gpg_without_alpha",
        "03.gpg",
        "advantages",
        replace={GPG_ADV: "(scores - mean[ids]) / f_norm"},
    ),
    Mutant(
        "gpg_divides_by_std",
        "03.gpg",
        "advantages",
        """
        def compute_gpg_outcome_advantage(token_level_rewards, response_mask, index, epsilon=1e-6, f_norm=1.0,
                                          alpha=1.0, config=None, **kwargs):
            scores = token_level_rewards.sum(dim=-1)
            alpha = scores.shape[0] / torch.count_nonzero(scores).clamp(min=1)
            grpo, _ = compute_grpo_outcome_advantage(token_level_rewards, response_mask, index, epsilon=epsilon)
            advantages = alpha * grpo / f_norm
            return advantages, advantages
        """,
    ),
    Mutant(
        "gpg_ignores_f_norm",
        "03.gpg",
        "advantages",
        replace={GPG_ADV: "alpha * (scores - mean[ids])"},
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
