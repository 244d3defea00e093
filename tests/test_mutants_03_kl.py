"""Known-wrong variants of exercises/03/kl.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

# Each mutant's code is appended to solutions/03/kl.py, so it may use the module's
# helpers (_kl_forward, np, torch) and the reference functions it wraps.


def _forward_override(branch: str) -> str:
    """A kl_penalty whose base estimators come from the reference except for one replaced branch."""
    return f"""
_reference_kl_forward = _kl_forward

def _kl_forward(logprob, ref_logprob, name):
{branch}
    return _reference_kl_forward(logprob, ref_logprob, name)
"""


MUTANTS = [
    # ---------------------------------------------------------- kl_penalty
    Mutant(
        "k3_direction_flipped",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("low_var_kl", "k3"):
        x = torch.clamp(logprob - ref_logprob, min=-20, max=20)
        return torch.clamp(torch.exp(x) - x - 1, min=-10, max=10)"""
        ),
    ),
    Mutant(
        "k3_without_output_clamp",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("low_var_kl", "k3"):
        x = torch.clamp(ref_logprob - logprob, min=-20, max=20)
        return torch.exp(x) - x - 1"""
        ),
    ),
    Mutant(
        "k3_without_log_ratio_clamp",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("low_var_kl", "k3"):
        x = ref_logprob - logprob
        return torch.clamp(torch.exp(x) - x - 1, min=-10, max=10)"""
        ),
    ),
    Mutant(
        "k1_sign_flipped",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("kl", "k1"):
        return ref_logprob - logprob"""
        ),
    ),
    Mutant(
        "k2_without_half",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("mse", "k2"):
        return (logprob - ref_logprob).square()"""
        ),
    ),
    Mutant(
        "aliases_missing",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name in ("kl", "mse", "low_var_kl"):
        raise NotImplementedError(name)"""
        ).replace("raise NotImplementedError(name)", "raise KeyError(name)"),
    ),
    Mutant(
        "unknown_name_falls_back_to_k1",
        "03.kl_penalty",
        "kl",
        _forward_override(
            """    if name not in ("kl", "k1", "abs", "mse", "k2", "low_var_kl", "k3"):
        return logprob - ref_logprob"""
        ),
    ),
    Mutant(
        "plain_estimators_use_straight_through",
        "03.kl_penalty",
        "kl",
        """
        _reference_kl_penalty = kl_penalty

        def kl_penalty(logprob, ref_logprob, kl_penalty):
            name = kl_penalty if kl_penalty.endswith("+") else kl_penalty + "+"
            return _reference_kl_penalty(logprob, ref_logprob, name)
        """,
    ),
    # ------------------------------------------------- kl_straight_through
    Mutant(
        "k3plus_without_straight_through",
        "03.kl_straight_through",
        "kl",
        """
        def kl_penalty(logprob, ref_logprob, kl_penalty):
            return _kl_forward(logprob, ref_logprob, kl_penalty.rstrip("+"))
        """,
    ),
    Mutant(
        "straight_through_value_of_k2",
        "03.kl_straight_through",
        "kl",
        """
        _reference_kl_penalty = kl_penalty

        def kl_penalty(logprob, ref_logprob, kl_penalty):
            if kl_penalty.endswith("+"):
                return 0.5 * (logprob - ref_logprob).square()
            return _reference_kl_penalty(logprob, ref_logprob, kl_penalty)
        """,
    ),
    Mutant(
        "straight_through_fully_detached",
        "03.kl_straight_through",
        "kl",
        """
        _reference_kl_penalty = kl_penalty

        def kl_penalty(logprob, ref_logprob, kl_penalty):
            out = _reference_kl_penalty(logprob, ref_logprob, kl_penalty)
            return out.detach() if kl_penalty.endswith("+") else out
        """,
    ),
    Mutant(
        "straight_through_k1_gradient",
        "03.kl_straight_through",
        "kl",
        """
        _reference_kl_penalty = kl_penalty

        def kl_penalty(logprob, ref_logprob, kl_penalty):
            if not kl_penalty.endswith("+"):
                return _reference_kl_penalty(logprob, ref_logprob, kl_penalty)
            k1 = logprob - ref_logprob
            return k1 - k1.detach() + _kl_forward(logprob, ref_logprob, kl_penalty[:-1]).detach()
        """,
    ),
    Mutant(
        "straight_through_only_for_k3",
        "03.kl_straight_through",
        "kl",
        """
        _reference_kl_penalty = kl_penalty

        def kl_penalty(logprob, ref_logprob, kl_penalty):
            if kl_penalty.endswith("+") and kl_penalty not in ("k3+", "low_var_kl+"):
                return _kl_forward(logprob, ref_logprob, kl_penalty[:-1])
            return _reference_kl_penalty(logprob, ref_logprob, kl_penalty)
        """,
    ),
    # ---------------------------------------------------- apply_kl_penalty
    Mutant(
        "kl_penalty_added_not_subtracted",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask
            per_seq = kld.sum(-1) / (response_mask.sum(-1) + 1e-8)
            return token_level_scores + kl_coef * kld, per_seq.mean().item()
        """,
    ),
    Mutant(
        "current_kl_not_masked",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask
            return token_level_scores - kl_coef * kld, kld.mean(dim=-1).mean().item()
        """,
    ),
    Mutant(
        "current_kl_skips_empty_rows",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask
            n = response_mask.sum(-1)
            per_seq = kld.sum(-1) / (n + 1e-8)
            return token_level_scores - kl_coef * kld, (per_seq.sum() / (n > 0).sum()).item()
        """,
    ),
    Mutant(
        "padding_penalised",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty)
            per_seq = (kld * response_mask).sum(-1) / (response_mask.sum(-1) + 1e-8)
            return token_level_scores - kl_coef * kld, per_seq.mean().item()
        """,
    ),
    Mutant(
        "kl_direction_ref_minus_old",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(ref_log_prob, old_log_prob, kl_penalty) * response_mask
            per_seq = kld.sum(-1) / (response_mask.sum(-1) + 1e-8)
            return token_level_scores - kl_coef * kld, per_seq.mean().item()
        """,
    ),
    Mutant(
        "current_kl_token_mean",
        "03.apply_kl_penalty",
        "kl",
        """
        def apply_kl_penalty(token_level_scores, old_log_prob, ref_log_prob, response_mask, kl_coef, kl_penalty="kl"):
            kld = _kl_penalty(old_log_prob, ref_log_prob, kl_penalty) * response_mask
            return token_level_scores - kl_coef * kld, (kld.sum() / response_mask.sum()).item()
        """,
    ),
    # ----------------------------------------------------- kl_controllers
    Mutant(
        "adaptive_error_not_clipped",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                self.value *= 1 + (current_kl / self.target - 1) * n_steps / self.horizon
        """,
    ),
    Mutant(
        "adaptive_ignores_n_steps",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                error = np.clip(current_kl / self.target - 1, -0.2, 0.2)
                self.value *= 1 + error / self.horizon
        """,
    ),
    Mutant(
        "adaptive_n_steps_inverted",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                error = np.clip(current_kl / self.target - 1, -0.2, 0.2)
                self.value *= 1 + error * self.horizon / n_steps
        """,
    ),
    Mutant(
        "adaptive_additive_update",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                error = np.clip(current_kl / self.target - 1, -0.2, 0.2)
                self.value += error * n_steps / self.horizon
        """,
    ),
    Mutant(
        "adaptive_ratio_inverted",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                error = np.clip(self.target / current_kl - 1, -0.2, 0.2)
                self.value *= 1 + error * n_steps / self.horizon
        """,
    ),
    Mutant(
        "adaptive_clips_the_multiplier",
        "03.kl_controllers",
        "kl",
        """
        class AdaptiveKLController(AdaptiveKLController):
            def update(self, current_kl, n_steps):
                self.value *= np.clip(1 + (current_kl / self.target - 1) * n_steps / self.horizon, 0.8, 1.2)
        """,
    ),
    Mutant(
        "fixed_controller_adapts",
        "03.kl_controllers",
        "kl",
        """
        class FixedKLController(AdaptiveKLController):
            def __init__(self, kl_coef):
                super().__init__(init_kl_coef=kl_coef, target_kl=0.1, horizon=1000)
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
