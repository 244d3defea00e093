"""Known-wrong variants of exercises/03/kl.py: each must fail at least one graded test.

Each is a small edit of solutions/03/kl.py (``replace``): the text of the reference and what the
mistake puts there instead.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

KL, ST, APPLY, CTRL = "03.kl_penalty", "03.kl_straight_through", "03.apply_kl_penalty", "03.kl_controllers"
K3_LOG_RATIO = "torch.clamp(ref_logprob - logprob, min=-20, max=20)"
K2 = "return 0.5 * (logprob - ref_logprob).square()"
ST_RETURN = "return k2 - k2.detach() + forward.detach()"
KLD = "kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask  # no penalty on padding"
REWARDS = "token_level_rewards = token_level_scores - kl_coef * kld"
PER_SEQ = "per_seq = (kld * response_mask).sum(dim=-1) / (response_mask.sum(dim=-1) + 1e-8)"
CURRENT_KL = "current_kl = per_seq.mean(dim=0).item()"
ERROR = "np.clip(current_kl / self.target - 1, -0.2, 0.2)"
UPDATE = "self.value *= 1 + proportional_error * n_steps / self.horizon"
FIXED_BODY = (
    "        self.value = kl_coef\n\n    def update(self, current_kl: float, n_steps: int) -> None:\n"
    "        pass  # fixed: the coefficient never moves"
)

MUTANTS = [
    # ---------------------------------------------------------- kl_penalty
    Mutant(
        "k3_direction_flipped", KL, "kl", replace={K3_LOG_RATIO: "torch.clamp(logprob - ref_logprob, min=-20, max=20)"}
    ),
    Mutant("k3_without_output_clamp", KL, "kl", replace={"return torch.clamp(kld, min=-10, max=10)": "return kld"}),
    Mutant("k3_without_log_ratio_clamp", KL, "kl", replace={K3_LOG_RATIO: "ref_logprob - logprob"}),
    Mutant("k1_sign_flipped", KL, "kl", replace={"return logprob - ref_logprob": "return ref_logprob - logprob"}),
    Mutant("k2_without_half", KL, "kl", replace={K2: "return (logprob - ref_logprob).square()"}),
    # the first three names raise, k1/k2/k3 still work
    Mutant(
        "aliases_missing",
        KL,
        "kl",
        replace={
            'if name in ("kl", "k1"):': 'if name in ("kl", "mse", "low_var_kl"):\n        raise KeyError(name)\n'
            '    if name in ("kl", "k1"):',
        },
    ),
    Mutant(
        "unknown_name_falls_back_to_k1",
        KL,
        "kl",
        replace={'raise NotImplementedError(f"unknown KL estimator {name!r}")': "return logprob - ref_logprob"},
    ),
    Mutant(
        "plain_estimators_use_straight_through",
        KL,
        "kl",
        replace={
            "    base = kl_penalty[:-1]": (
                '    kl_penalty = kl_penalty if kl_penalty.endswith("+") else kl_penalty + "+"\n'
                "    base = kl_penalty[:-1]"
            ),
        },
    ),
    # ------------------------------------------------- kl_straight_through
    Mutant(
        "k3plus_without_straight_through",
        ST,
        "kl",
        replace={'    if not kl_penalty.endswith("+"):\n        return forward': "    return forward"},
    ),
    Mutant("straight_through_value_of_k2", ST, "kl", replace={ST_RETURN: "return k2"}),
    Mutant("straight_through_fully_detached", ST, "kl", replace={ST_RETURN: "return forward.detach()"}),
    Mutant(
        "straight_through_k1_gradient",
        ST,
        "kl",
        replace={"k2 = 0.5 * (logprob - ref_logprob).square()": "k2 = logprob - ref_logprob"},
    ),
    Mutant(
        "straight_through_only_for_k3",
        ST,
        "kl",
        replace={
            'if not kl_penalty.endswith("+"):': 'if not kl_penalty.endswith("+") or base not in ("k3", "low_var_kl"):',
        },
    ),
    # ---------------------------------------------------- apply_kl_penalty
    Mutant(
        "kl_penalty_added_not_subtracted",
        APPLY,
        "kl",
        replace={REWARDS: "token_level_rewards = token_level_scores + kl_coef * kld"},
    ),
    Mutant("current_kl_not_masked", APPLY, "kl", replace={PER_SEQ: "per_seq = kld.mean(dim=-1)"}),
    Mutant(
        "current_kl_skips_empty_rows",
        APPLY,
        "kl",
        replace={CURRENT_KL: "current_kl = (per_seq.sum() / (response_mask.sum(-1) > 0).sum()).item()"},
    ),
    Mutant(
        "padding_penalised", APPLY, "kl", replace={KLD: "kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty)"}
    ),
    Mutant(
        "kl_direction_ref_minus_old",
        APPLY,
        "kl",
        replace={KLD: "kld = _kl_penalty(ref_log_prob, old_log_prob, kl_penalty) * response_mask"},
    ),
    Mutant(
        "current_kl_token_mean",
        APPLY,
        "kl",
        replace={CURRENT_KL: "current_kl = (kld.sum() / response_mask.sum()).item()"},
    ),
    # ----------------------------------------------------- kl_controllers
    Mutant("adaptive_error_not_clipped", CTRL, "kl", replace={ERROR: "(current_kl / self.target - 1)"}),
    Mutant(
        "adaptive_ignores_n_steps", CTRL, "kl", replace={UPDATE: "self.value *= 1 + proportional_error / self.horizon"}
    ),
    Mutant(
        "adaptive_n_steps_inverted",
        CTRL,
        "kl",
        replace={UPDATE: "self.value *= 1 + proportional_error * self.horizon / n_steps"},
    ),
    Mutant(
        "adaptive_additive_update",
        CTRL,
        "kl",
        replace={UPDATE: "self.value += proportional_error * n_steps / self.horizon"},
    ),
    Mutant("adaptive_ratio_inverted", CTRL, "kl", replace={ERROR: "np.clip(self.target / current_kl - 1, -0.2, 0.2)"}),
    Mutant(
        "adaptive_clips_the_multiplier",
        CTRL,
        "kl",
        replace={
            f"proportional_error = {ERROR}\n        {UPDATE}": (
                "self.value *= np.clip(1 + (current_kl / self.target - 1) * n_steps / self.horizon, 0.8, 1.2)"
            ),
        },
    ),
    Mutant(
        "fixed_controller_adapts",
        CTRL,
        "kl",
        replace={
            "class FixedKLController:": "class FixedKLController(AdaptiveKLController):",
            FIXED_BODY: "        super().__init__(init_kl_coef=kl_coef, target_kl=0.1, horizon=1000)",
        },
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
