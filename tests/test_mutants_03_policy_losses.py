"""Known-wrong variants of exercises/03/policy_losses.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/policy_losses.py (``replace={reference text: wrong text}``)
inside one loss: ``_m`` takes a snippet of ``compute_policy_loss_<loss>`` and its replacement, and
widens the snippet to whole lines of that function until it occurs once in the module (several
losses share lines such as the ``agg_loss`` call).
"""

import ast

import pytest

from verlings.dev.mutants import Mutant, caught
from verlings.paths import SOLUTIONS

_SOURCE = (SOLUTIONS / "03" / "policy_losses.py").read_text(encoding="utf-8")


def _function_source(name: str) -> str:
    for node in ast.parse(_SOURCE).body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            return "\n".join(_SOURCE.splitlines()[start - 1 : node.end_lineno]) + "\n"
    raise KeyError(name)


def _scoped(function: str, old: str) -> str:
    """The whole lines of ``function`` holding every ``old``, widened upwards until unique in the module."""
    lines = function.splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if old in line]
    assert hits, f"{old!r} is not on one line of the function"
    first, last = hits[0], hits[-1]
    while _SOURCE.count(span := "".join(lines[first : last + 1])) != 1:
        first, last = (first - 1, last) if first > 0 else (first, last + 1)
    return span


def _m(name: str, loss: str, exercise: str, *replacements: tuple[str, str]) -> Mutant:
    function = _function_source(f"compute_policy_loss_{loss}")
    edits = {}
    for old, new in replacements:
        assert old in function, f"{old!r} not in compute_policy_loss_{loss}"
        span = _scoped(function, old)
        edits[span] = span.replace(old, new)
    return Mutant(name, exercise, "policy_losses", replace=edits)


_AGG = "**config.global_batch_info)"
_IS = ("pg_losses = pg_losses * rollout_is_weights", "pass")

MUTANTS = [
    # ---------------------------------------------------------------- GSPO
    _m("gspo_token_level_ratio", "gspo", "03.gspo",
       ("seq_log_ratio.detach().unsqueeze(-1)", "(negative_approx_kl - log_prob).detach()")),
    _m("gspo_sequence_ratio_not_detached", "gspo", "03.gspo",
       ("log_prob - log_prob.detach() + seq_log_ratio.detach().unsqueeze(-1)", "seq_log_ratio.unsqueeze(-1)"
        " + 0 * log_prob")),
    _m("gspo_ratio_fully_detached", "gspo", "03.gspo",
       ("log_prob - log_prob.detach() + seq_log_ratio.detach().unsqueeze(-1)",
        "(log_prob - log_prob + seq_log_ratio.unsqueeze(-1)).detach() + 0 * log_prob")),
    _m("gspo_length_counts_padding", "gspo", "03.gspo",
       ("response_mask.sum(dim=-1).clamp(min=1)",
        "torch.full_like(response_mask.sum(dim=-1), response_mask.shape[-1])")),
    _m("gspo_ignores_global_batch_info", "gspo", "03.gspo", (_AGG, ")")),
    _m("gspo_ignores_rollout_is_weights", "gspo", "03.gspo", _IS),
    _m("gspo_clip_high_for_low", "gspo", "03.gspo", ("1 - low, 1 + high", "1 - high, 1 + high")),
    # the decorator left out: verl's actor looks the loss up by name and finds verl's own GSPO
    Mutant("gspo_not_registered", "03.gspo", "policy_losses", replace={'@register_policy_loss("gspo")\n': ""}),
    # ---------------------------------------------------------------- CISPO
    _m("cispo_weight_not_detached", "cispo", "03.cispo", ("-clipped_ratio.detach() *", "-clipped_ratio *")),
    _m("cispo_no_clip", "cispo", "03.cispo", ("-clipped_ratio.detach() *", "-ratio.detach() *")),
    _m("cispo_without_log_prob", "cispo", "03.cispo",
       ("* advantages * log_prob", "* advantages * ratio")),
    _m("cispo_ignores_global_batch_info", "cispo", "03.cispo", (_AGG, ")")),
    _m("cispo_clipfrac_unmasked", "cispo", "03.cispo",
       ("masked_mean((ratio != clipped_ratio).float(), response_mask)", "(ratio != clipped_ratio).float().mean()")),
    # ---------------------------------------------------------------- GPG
    _m("gpg_with_ratio", "gpg", "03.gpg_loss",
       ("pg_losses = -log_prob * advantages", "pg_losses = -torch.exp(log_prob - old_log_prob) * advantages")),
    _m("gpg_always_token_mean", "gpg", "03.gpg_loss", ("loss_agg_mode, **config", '"token-mean", **config')),
    _m("gpg_ignores_rollout_is_weights", "gpg", "03.gpg_loss", _IS),
    # ------------------------------------------------------------- GMPO
    _m("geo_mean_arithmetic_mean_of_ratios", "geo_mean", "03.geo_mean",
       ("torch.exp((log_ratio * response_mask).sum(dim=-1) / (lengths + 1e-8))",
        "(torch.exp(log_ratio) * response_mask).sum(dim=-1) / (lengths + 1e-8)")),
    _m("geo_mean_clip_ignores_sign", "geo_mean", "03.geo_mean",
       ("sign * torch.minimum(sign * negative_approx_kl, sign * clamped)", "clamped")),
    _m("geo_mean_uses_agg_loss", "geo_mean", "03.geo_mean",
       ("pg_loss = torch.mean(pg_losses)",
        "pg_loss = agg_loss(pg_losses[:, None].expand_as(response_mask), response_mask, loss_agg_mode)")),
    _m("geo_mean_skips_empty_rows", "geo_mean", "03.geo_mean",
       ("pg_loss = torch.mean(pg_losses)", "pg_loss = pg_losses[lengths > 0].mean()")),
    _m("geo_mean_clipfrac_both_signs", "geo_mean", "03.geo_mean",
       ("(clipped * (advantages > 0)).float()", "clipped.float()")),
    # ------------------------------------------------------------- Clip-Cov
    _m("clip_cov_candidates_include_ppo_clipped", "clip_cov", "03.clip_cov",
       ("~valid | clip_by_origin", "~valid")),
    _m("clip_cov_first_k_not_random", "clip_cov", "03.clip_cov",
       ("candidates[torch.randperm(len(candidates))[: min(clip_num, len(candidates))]]",
        "candidates[: min(clip_num, len(candidates))]")),
    _m("clip_cov_ignores_config_bounds", "clip_cov", "03.clip_cov",
       ("_or(config.policy_loss.clip_cov_ub, 5.0)", "5.0"), ("_or(config.policy_loss.clip_cov_lb, 1.0)", "1.0")),
    _m("clip_cov_covariance_not_centred", "clip_cov", "03.clip_cov",
       ("(advantages - masked_mean(advantages, response_mask))", "advantages")),
    _m("clip_cov_ignores_global_batch_info", "clip_cov", "03.clip_cov", (_AGG, ")")),
    _m("clip_cov_ignores_the_lower_bound", "clip_cov", "03.clip_cov",
       ("(cov < clip_cov_ub) & (cov > clip_cov_lb) & valid", "(cov < clip_cov_ub) & valid")),
    # --------------------------------------------------------------- KL-Cov
    _m("kl_cov_smallest_covariance", "kl_cov", "03.kl_cov", ("largest=True", "largest=False")),
    _m("kl_cov_penalty_everywhere", "kl_cov", "03.kl_cov",
       ("pg_losses = pg_losses.index_put((rows, cols), pg_losses_kl[rows, cols])", "pg_losses = pg_losses_kl")),
    _m("kl_cov_coefficient_fixed", "kl_cov", "03.kl_cov", ("_or(config.policy_loss.ppo_kl_coef, 1.0)", "1.0")),
    _m("kl_cov_signed_kl", "kl_cov", "03.kl_cov", ("ppo_kl_coef * abs_kl", "ppo_kl_coef * negative_approx_kl")),
    _m("kl_cov_counts_padding", "kl_cov", "03.kl_cov", ("valid = response_mask > 0", "valid = response_mask > -1")),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
