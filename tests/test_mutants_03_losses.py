"""Known-wrong variants of exercises/03/losses.py: each must fail at least one graded test.

Each mutant is an edit of solutions/03/losses.py (``replace={reference text: wrong text}``).
"""

import pytest

from verlings.dev.mutants import Mutant, caught

AGG, POLICY, VALUE, ENTROPY = "03.agg_loss", "03.policy_loss", "03.value_loss", "03.entropy_loss"
L = "losses"

# --- agg_loss
START = '    if loss_agg_mode == "token-mean":\n        if batch_num_tokens is None:\n'  # its first lines


def _first(line: str) -> dict[str, str]:
    """The edit that puts ``line`` at the top of agg_loss's body."""
    return {START: f"    {line}\n{START}"}


LOCAL_TOKENS = "batch_num_tokens = loss_mask.sum()  #"
TOKEN_MEAN_OUT = "return _masked_sum(loss_mat, loss_mask) / batch_num_tokens * dp_size"
SEQ_OUT = "loss = _masked_sum(seq_losses, seq_mask) / global_batch_size * dp_size"
SEQ_TOKEN_MEAN = 'if loss_agg_mode == "seq-mean-token-mean":\n            seq_losses = seq_losses / (n_tokens + 1e-8)'
NORM = "loss = loss / (loss_mask.shape[-1] if loss_scale_factor is None else loss_scale_factor)"
INVALID = 'raise ValueError(f"Invalid loss_agg_mode'
# --- compute_policy_loss_vanilla
LOG_RATIO = "negative_approx_kl = torch.clamp(log_prob - old_log_prob, min=-20.0, max=20.0)"
CLIPFRAC = "pg_clipfrac = _masked_mean(torch.gt(pg_losses2, pg_losses1).float(), response_mask)"
# --- compute_value_loss
VALUE_MAX = "clipped_vf_losses = torch.max(vf_losses1, vf_losses2)"
VALUE_COUNTS = (
    "        dp_size=dp_size,\n"
    "        batch_num_tokens=batch_num_tokens,\n"
    "        global_batch_size=global_batch_size,\n"
    "        loss_scale_factor=loss_scale_factor,\n"
)
# --- compute_entropy_loss
ENTROPY_AGG = "agg_loss(loss_mat=token_entropy, loss_mask=response_mask, loss_agg_mode=loss_agg_mode)"

MUTANTS = [
    # ---------------------------------------------------------------- agg_loss
    Mutant("token_mean_divides_by_all_tokens", AGG, L,
           replace={LOCAL_TOKENS: "batch_num_tokens = loss_mask.numel()  #"}),
    # Dr. GRPO's norm mode computed as seq-mean-token-mean: each sequence divided by its own length
    Mutant("seq_norm_divides_by_valid_tokens", AGG, L, replace={
        SEQ_TOKEN_MEAN: SEQ_TOKEN_MEAN.replace('== "seq-mean-token-mean"',
                                               'in ("seq-mean-token-mean", "seq-mean-token-sum-norm")'),
        NORM: "pass"}),
    Mutant("seq_norm_divides_by_batch_size", AGG, L, replace={NORM: "loss = loss / loss_mask.shape[0]"}),
    Mutant("seq_mean_counts_empty_rows", AGG, L, replace={
        "seq_mask = (n_tokens > 0).float()":
            'seq_mask = (n_tokens >= 0 if loss_agg_mode == "seq-mean-token-mean" else n_tokens > 0).float()'}),
    Mutant("seq_mean_token_mean_divides_by_response_length", AGG, L,
           replace={"seq_losses / (n_tokens + 1e-8)": "seq_losses / loss_mask.shape[-1]"}),
    Mutant("agg_ignores_mask", AGG, L, replace=_first("loss_mask = torch.ones_like(loss_mask)")),
    Mutant("agg_unknown_mode_falls_back_to_token_mean", AGG, L, replace={
        INVALID: 'return agg_loss(loss_mat, loss_mask, "token-mean", dp_size, batch_num_tokens, global_batch_size)\n'
                 f"    {INVALID}"}),
    # ------------------------------------------------------------- policy loss
    Mutant("policy_min_instead_of_max", POLICY, L, replace={
        "clip_pg_losses1 = torch.maximum(pg_losses1, pg_losses2)":
            "clip_pg_losses1 = torch.minimum(pg_losses1, pg_losses2)"}),
    Mutant("policy_dual_clip_for_positive_advantages_too", POLICY, L, replace={
        "pg_losses = torch.where(advantages < 0, clip_pg_losses2, clip_pg_losses1)": "pg_losses = clip_pg_losses2"}),
    Mutant("policy_clipfrac_without_mask", POLICY, L,
           replace={CLIPFRAC: "pg_clipfrac = torch.gt(pg_losses2, pg_losses1).float().mean()"}),
    Mutant("policy_ratio_inverted", POLICY, L,
           replace={"torch.clamp(log_prob - old_log_prob,": "torch.clamp(old_log_prob - log_prob,"}),
    Mutant("policy_no_log_ratio_clamp", POLICY, L,
           replace={LOG_RATIO: "negative_approx_kl = log_prob - old_log_prob"}),
    Mutant("policy_ratio_detached", POLICY, L,
           replace={"ratio = torch.exp(negative_approx_kl)": "ratio = torch.exp(negative_approx_kl).detach()"}),
    Mutant("policy_high_defaults_to_low", POLICY, L, replace={
        "config.clip_ratio_high is not None else clip_ratio": "config.clip_ratio_high is not None else cliprange_low"}),
    Mutant("policy_clipfrac_lower_for_all_advantages", POLICY, L,
           replace={".float() * (advantages < 0).float(), response_mask": ".float(), response_mask"}),
    Mutant("policy_clipfrac_with_greater_equal", POLICY, L,
           replace={"torch.gt(pg_losses2, pg_losses1)": "torch.ge(pg_losses2, pg_losses1)"}),
    Mutant("policy_ppo_kl_sign_flipped", POLICY, L,
           replace={"_masked_mean(-negative_approx_kl,": "_masked_mean(negative_approx_kl,"}),
    # -------------------------------------------------------------- value loss
    Mutant("value_loss_without_half", VALUE, L, replace={"vf_loss = 0.5 * agg_loss(": "vf_loss = agg_loss("}),
    Mutant("value_loss_min_instead_of_max", VALUE, L,
           replace={VALUE_MAX: "clipped_vf_losses = torch.min(vf_losses1, vf_losses2)"}),
    Mutant("value_loss_clips_around_returns", VALUE, L, replace={
        "torch.min(vpreds, values + cliprange_value), values - cliprange_value)":
            "torch.min(vpreds, returns + cliprange_value), returns - cliprange_value)"}),
    Mutant("value_clipfrac_without_mask", VALUE, L, replace={
        "vf_clipfrac = _masked_mean(torch.gt(vf_losses2, vf_losses1).float(), response_mask)":
            "vf_clipfrac = torch.gt(vf_losses2, vf_losses1).float().mean()"}),
    # the larger of the two *aggregated* losses, not the larger per token: the matrix whose
    # aggregate is larger is picked, then aggregated
    Mutant("value_loss_max_after_aggregation", VALUE, L, replace={
        VALUE_MAX: "clipped_vf_losses = max((vf_losses1, vf_losses2), key=lambda m: float(agg_loss(\n"
                   "        m, response_mask, loss_agg_mode, dp_size, batch_num_tokens, global_batch_size, "
                   "loss_scale_factor)))"}),
    # ------------------------------------------- agg_loss: global counts (issue 26)
    Mutant("agg_ignores_dp_size", AGG, L, replace=_first("dp_size = 1")),
    # the counts are checked for, then the local ones used instead
    Mutant("agg_always_local_counts", AGG, L, replace={
        TOKEN_MEAN_OUT: "return _masked_sum(loss_mat, loss_mask) / loss_mask.sum() * dp_size",
        SEQ_OUT: "loss = _masked_sum(seq_losses, seq_mask) / seq_mask.sum() * dp_size"}),
    Mutant("agg_token_sum_is_token_mean", AGG, L,
           replace={'if loss_agg_mode == "token-mean":': 'if loss_agg_mode in ("token-mean", "token-sum"):'}),
    Mutant("agg_ignores_loss_scale_factor", AGG, L, replace={NORM: "loss = loss / loss_mask.shape[-1]"}),
    Mutant("agg_global_batch_size_ignored_in_seq_modes", AGG, L,
           replace={SEQ_OUT: "loss = _masked_sum(seq_losses, seq_mask) / seq_mask.sum() * dp_size"}),
    Mutant("agg_dp_size_without_counts_falls_back_to_local", AGG, L,
           replace=_first("if batch_num_tokens is None and global_batch_size is None:\n        dp_size = 1")),
    Mutant("agg_token_mean_with_epsilon", AGG, L,
           replace={LOCAL_TOKENS: "batch_num_tokens = loss_mask.sum() + 1e-8  #"}),
    # ------------------------------------------------- vanilla loss: config and counts
    Mutant("policy_ignores_global_batch_info", POLICY, L,
           replace={"loss_agg_mode=loss_agg_mode, **config.global_batch_info": "loss_agg_mode=loss_agg_mode"}),
    Mutant("policy_ignores_rollout_is_weights", POLICY, L,
           replace={"pg_losses = pg_losses * rollout_is_weights": "pass"}),
    Mutant("policy_metrics_as_tensors", POLICY, L, replace={
        f"{name}.detach().item()": f"{name}.detach()" for name in ("pg_clipfrac", "ppo_kl", "pg_clipfrac_lower")}),
    Mutant("policy_ignores_clip_ratio_c_from_config", POLICY, L,
           replace={'clip_ratio_c = config.get("clip_ratio_c", 3.0)': "clip_ratio_c = 3.0"}),
    # -------------------------------------------------- value loss: global counts
    Mutant("value_loss_drops_global_counts", VALUE, L, replace={VALUE_COUNTS: ""}),
    # ------------------------------------------------------------ entropy loss
    Mutant("entropy_loss_not_masked", ENTROPY, L,
           replace={ENTROPY_AGG: ENTROPY_AGG.replace("=response_mask", "=torch.ones_like(response_mask)")}),
    Mutant("entropy_loss_ignores_agg_mode", ENTROPY, L,
           replace={ENTROPY_AGG: ENTROPY_AGG.replace("loss_agg_mode=loss_agg_mode", 'loss_agg_mode="token-mean"')}),
    Mutant("entropy_averaged_over_vocabulary", ENTROPY, L, replace={
        "token_entropy = _entropy_from_logits(logits)":
            "token_entropy = -(torch.softmax(logits, dim=-1) * torch.log_softmax(logits, dim=-1)).mean(-1)"}),
    Mutant("entropy_loss_negated", ENTROPY, L, replace={f"return {ENTROPY_AGG}": f"return -{ENTROPY_AGG}"}),
    # Edges the goldens never hold (issue 24): caught by test_losses_properties.py's differential tests.
    Mutant(
        "seq_mean_token_sum_norm_longest_row",
        AGG,
        L,  # agrees with verl whenever one row is full length, as in every golden
        replace={
            "loss_mask.shape[-1] if loss_scale_factor is None": (
                "loss_mask.sum(dim=-1).max() if loss_scale_factor is None"
            )
        },
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
