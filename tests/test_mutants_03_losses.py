"""Known-wrong variants of exercises/03/losses.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

# Each mutant's code is appended to solutions/03/losses.py, so it may use the module's
# helpers (_masked_sum, _masked_mean, _entropy_from_logits, agg_loss).
_POLICY_SIGNATURE = """
@register_policy_loss("vanilla")
def compute_policy_loss_vanilla(old_log_prob, log_prob, advantages, response_mask, loss_agg_mode="token-mean",
                                config=None, rollout_is_weights=None):
    cliprange = config.clip_ratio
    low = cliprange if config.clip_ratio_low is None else config.clip_ratio_low
    high = cliprange if config.clip_ratio_high is None else config.clip_ratio_high
    clip_ratio_c = config.get("clip_ratio_c", 3.0)
"""


def _policy(body: str) -> str:
    """A compute_policy_loss built from the reference with one step replaced by ``body``."""
    return _POLICY_SIGNATURE + body


_POLICY_DEFAULT_TAIL = """
    pg_clipfrac = _masked_mean(torch.gt(loss2, loss1).float(), response_mask)
    loss3 = -advantages * clip_ratio_c
    dual = torch.minimum(loss3, clipped)
    pg_clipfrac_lower = _masked_mean(torch.gt(clipped, loss3).float() * (advantages < 0).float(), response_mask)
    per_token = torch.where(advantages < 0, dual, clipped)
    if rollout_is_weights is not None:
        per_token = per_token * rollout_is_weights
    pg_loss = agg_loss(loss_mat=per_token, loss_mask=response_mask, loss_agg_mode=loss_agg_mode,
                       **config.global_batch_info)
    return pg_loss, {"actor/pg_clipfrac": pg_clipfrac.item(), "actor/ppo_kl": ppo_kl.item(),
                     "actor/pg_clipfrac_lower": pg_clipfrac_lower.item()}
"""

_POLICY_DEFAULT_HEAD = """
    log_ratio = torch.clamp(log_prob - old_log_prob, -20.0, 20.0)
    ratio = torch.exp(log_ratio)
    ppo_kl = _masked_mean(-log_ratio, response_mask)
    loss1 = -advantages * ratio
    loss2 = -advantages * torch.clamp(ratio, 1 - low, 1 + high)
"""

MUTANTS = [
    # ---------------------------------------------------------------- agg_loss
    Mutant(
        "token_mean_divides_by_all_tokens",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "token-mean":
                return _masked_sum(loss_mat, loss_mask) / loss_mask.numel()
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "seq_norm_divides_by_valid_tokens",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "seq-mean-token-sum-norm":
                seq = (loss_mat * loss_mask).sum(-1) / (loss_mask.sum(-1) + 1e-8)
                keep = (loss_mask.sum(-1) > 0).float()
                return (seq * keep).sum() / keep.sum()
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "seq_norm_divides_by_batch_size",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "seq-mean-token-sum-norm":
                return _reference_agg_loss(loss_mat, loss_mask, "seq-mean-token-sum", **kw) / loss_mask.shape[0]
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "seq_mean_counts_empty_rows",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "seq-mean-token-mean":
                return ((loss_mat * loss_mask).sum(-1) / (loss_mask.sum(-1) + 1e-8)).mean()
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "seq_mean_token_mean_divides_by_response_length",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "seq-mean-token-mean":
                seq = (loss_mat * loss_mask).sum(-1) / loss_mask.shape[-1]
                keep = (loss_mask.sum(-1) > 0).float()
                return (seq * keep).sum() / keep.sum()
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "agg_ignores_mask",
        "03.agg_loss",
        "losses",
        """
        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "token-mean":
                return loss_mat.mean()
            if loss_agg_mode == "seq-mean-token-mean":
                return loss_mat.mean(-1).mean()
            seq = loss_mat.sum(-1).mean()
            return seq / loss_mask.shape[-1] if loss_agg_mode == "seq-mean-token-sum-norm" else seq
        """,
    ),
    Mutant(
        "agg_unknown_mode_falls_back_to_token_mean",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode not in ("seq-mean-token-sum", "seq-mean-token-mean", "seq-mean-token-sum-norm"):
                loss_agg_mode = "token-mean"
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    # ------------------------------------------------------------- policy loss
    Mutant(
        "policy_min_instead_of_max",
        "03.policy_loss",
        "losses",
        _policy(_POLICY_DEFAULT_HEAD + "    clipped = torch.minimum(loss1, loss2)\n" + _POLICY_DEFAULT_TAIL),
    ),
    Mutant(
        "policy_dual_clip_for_positive_advantages_too",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL.replace("torch.where(advantages < 0, dual, clipped)", "dual")
        ),
    ),
    Mutant(
        "policy_clipfrac_without_mask",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL.replace(
                "pg_clipfrac = _masked_mean(torch.gt(loss2, loss1).float(), response_mask)",
                "pg_clipfrac = torch.gt(loss2, loss1).float().mean()",
            )
        ),
    ),
    Mutant(
        "policy_ratio_inverted",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD.replace("log_prob - old_log_prob", "old_log_prob - log_prob")
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL
        ),
    ),
    Mutant(
        "policy_no_log_ratio_clamp",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD.replace("torch.clamp(log_prob - old_log_prob, -20.0, 20.0)", "log_prob - old_log_prob")
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL
        ),
    ),
    Mutant(
        "policy_ratio_detached",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD.replace("ratio = torch.exp(log_ratio)", "ratio = torch.exp(log_ratio).detach()")
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL
        ),
    ),
    Mutant(
        "policy_high_defaults_to_low",
        "03.policy_loss",
        "losses",
        _policy(
            "    high = low if config.clip_ratio_high is None else config.clip_ratio_high\n"
            + _POLICY_DEFAULT_HEAD
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL
        ),
    ),
    Mutant(
        "policy_clipfrac_lower_for_all_advantages",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL.replace(" * (advantages < 0).float()", "")
        ),
    ),
    Mutant(
        "policy_clipfrac_with_greater_equal",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL.replace("torch.gt(loss2, loss1)", "torch.ge(loss2, loss1)")
        ),
    ),
    Mutant(
        "policy_ppo_kl_sign_flipped",
        "03.policy_loss",
        "losses",
        _policy(
            _POLICY_DEFAULT_HEAD.replace("_masked_mean(-log_ratio,", "_masked_mean(log_ratio,")
            + "    clipped = torch.maximum(loss1, loss2)\n"
            + _POLICY_DEFAULT_TAIL
        ),
    ),
    # -------------------------------------------------------------- value loss
    Mutant(
        "value_loss_without_half",
        "03.value_loss",
        "losses",
        """
        _reference_value_loss = compute_value_loss

        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            vf_loss, vf_clipfrac = _reference_value_loss(
                vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode, **kw
            )
            return 2 * vf_loss, vf_clipfrac
        """,
    ),
    Mutant(
        "value_loss_min_instead_of_max",
        "03.value_loss",
        "losses",
        """
        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            clipped = torch.max(torch.min(vpreds, values + cliprange_value), values - cliprange_value)
            l1, l2 = (vpreds - returns) ** 2, (clipped - returns) ** 2
            vf_loss = 0.5 * agg_loss(torch.min(l1, l2), response_mask, loss_agg_mode, **kw)
            return vf_loss, _masked_mean(torch.gt(l2, l1).float(), response_mask)
        """,
    ),
    Mutant(
        "value_loss_clips_around_returns",
        "03.value_loss",
        "losses",
        """
        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            clipped = torch.max(torch.min(vpreds, returns + cliprange_value), returns - cliprange_value)
            l1, l2 = (vpreds - returns) ** 2, (clipped - returns) ** 2
            vf_loss = 0.5 * agg_loss(torch.max(l1, l2), response_mask, loss_agg_mode, **kw)
            return vf_loss, _masked_mean(torch.gt(l2, l1).float(), response_mask)
        """,
    ),
    Mutant(
        "value_clipfrac_without_mask",
        "03.value_loss",
        "losses",
        """
        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            clipped = torch.max(torch.min(vpreds, values + cliprange_value), values - cliprange_value)
            l1, l2 = (vpreds - returns) ** 2, (clipped - returns) ** 2
            vf_loss = 0.5 * agg_loss(torch.max(l1, l2), response_mask, loss_agg_mode, **kw)
            return vf_loss, torch.gt(l2, l1).float().mean()
        """,
    ),
    Mutant(
        "value_loss_max_after_aggregation",
        "03.value_loss",
        "losses",
        """
        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            clipped = torch.max(torch.min(vpreds, values + cliprange_value), values - cliprange_value)
            l1, l2 = (vpreds - returns) ** 2, (clipped - returns) ** 2
            agg1 = agg_loss(l1, response_mask, loss_agg_mode, **kw)
            agg2 = agg_loss(l2, response_mask, loss_agg_mode, **kw)
            vf_loss = 0.5 * torch.max(agg1, agg2)
            return vf_loss, _masked_mean(torch.gt(l2, l1).float(), response_mask)
        """,
    ),
    # ------------------------------------------- agg_loss: global counts (issue 26)
    Mutant(
        "agg_ignores_dp_size",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, **kw):
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, **kw)
        """,
    ),
    Mutant(
        "agg_always_local_counts",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, batch_num_tokens=None, global_batch_size=None,
                     loss_scale_factor=None):
            needed = batch_num_tokens if loss_agg_mode == "token-mean" else global_batch_size
            if dp_size > 1 and needed is None:
                raise ValueError("batch_num_tokens / global_batch_size is required when dp_size > 1")
            local = _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, loss_scale_factor=loss_scale_factor)
            return local * dp_size
        """,
    ),
    Mutant(
        "agg_token_sum_is_token_mean",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw):
            if loss_agg_mode == "token-sum":
                loss_agg_mode = "token-mean"
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "agg_ignores_loss_scale_factor",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, loss_scale_factor=None, **kw):
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, **kw)
        """,
    ),
    Mutant(
        "agg_global_batch_size_ignored_in_seq_modes",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, batch_num_tokens=None, global_batch_size=None,
                     loss_scale_factor=None):
            if loss_agg_mode.startswith("seq") and dp_size > 1 and global_batch_size is None:
                raise ValueError("global_batch_size is required when dp_size > 1")
            if loss_agg_mode.startswith("seq"):
                global_batch_size = None
                return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode,
                                           loss_scale_factor=loss_scale_factor) * dp_size
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size, batch_num_tokens,
                                       global_batch_size, loss_scale_factor)
        """,
    ),
    Mutant(
        "agg_dp_size_without_counts_falls_back_to_local",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, batch_num_tokens=None, global_batch_size=None,
                     loss_scale_factor=None):
            if batch_num_tokens is None and global_batch_size is None:
                return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, loss_scale_factor=loss_scale_factor)
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size, batch_num_tokens,
                                       global_batch_size, loss_scale_factor)
        """,
    ),
    Mutant(
        "agg_token_mean_with_epsilon",
        "03.agg_loss",
        "losses",
        """
        _reference_agg_loss = agg_loss

        def agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size=1, batch_num_tokens=None, **kw):
            if loss_agg_mode == "token-mean" and batch_num_tokens is None and dp_size == 1:
                return _masked_sum(loss_mat, loss_mask) / (loss_mask.sum() + 1e-8)
            return _reference_agg_loss(loss_mat, loss_mask, loss_agg_mode, dp_size, batch_num_tokens, **kw)
        """,
    ),
    # ------------------------------------------------- vanilla loss: config and counts
    Mutant(
        "policy_ignores_global_batch_info",
        "03.policy_loss",
        "losses",
        _policy(_POLICY_DEFAULT_HEAD + "    clipped = torch.maximum(loss1, loss2)\n"
                + _POLICY_DEFAULT_TAIL.replace("\n                       **config.global_batch_info)", ")")),
    ),
    Mutant(
        "policy_ignores_rollout_is_weights",
        "03.policy_loss",
        "losses",
        _policy(_POLICY_DEFAULT_HEAD + "    clipped = torch.maximum(loss1, loss2)\n"
                + _POLICY_DEFAULT_TAIL.replace("per_token = per_token * rollout_is_weights", "pass")),
    ),
    Mutant(
        "policy_metrics_as_tensors",
        "03.policy_loss",
        "losses",
        _policy(_POLICY_DEFAULT_HEAD + "    clipped = torch.maximum(loss1, loss2)\n"
                + _POLICY_DEFAULT_TAIL.replace(".item()", "")),
    ),
    Mutant(
        "policy_ignores_clip_ratio_c_from_config",
        "03.policy_loss",
        "losses",
        _policy(_POLICY_DEFAULT_HEAD.replace("ppo_kl = ", "clip_ratio_c = 3.0\n    ppo_kl = ")
                + "    clipped = torch.maximum(loss1, loss2)\n" + _POLICY_DEFAULT_TAIL),
    ),
    # -------------------------------------------------- value loss: global counts
    Mutant(
        "value_loss_drops_global_counts",
        "03.value_loss",
        "losses",
        """
        _reference_value_loss = compute_value_loss

        def compute_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode="token-mean",
                               **kw):
            return _reference_value_loss(vpreds, returns, values, response_mask, cliprange_value, loss_agg_mode)
        """,
    ),
    # ------------------------------------------------------------ entropy loss
    Mutant(
        "entropy_loss_not_masked",
        "03.entropy_loss",
        "losses",
        """
        def compute_entropy_loss(logits, response_mask, loss_agg_mode="token-mean"):
            return agg_loss(_entropy_from_logits(logits), torch.ones_like(response_mask), loss_agg_mode)
        """,
    ),
    Mutant(
        "entropy_loss_ignores_agg_mode",
        "03.entropy_loss",
        "losses",
        """
        def compute_entropy_loss(logits, response_mask, loss_agg_mode="token-mean"):
            return agg_loss(_entropy_from_logits(logits), response_mask, "token-mean")
        """,
    ),
    Mutant(
        "entropy_averaged_over_vocabulary",
        "03.entropy_loss",
        "losses",
        """
        def compute_entropy_loss(logits, response_mask, loss_agg_mode="token-mean"):
            p = torch.softmax(logits, dim=-1)
            per_token = -(p * torch.log_softmax(logits, dim=-1)).mean(-1)
            return agg_loss(per_token, response_mask, loss_agg_mode)
        """,
    ),
    Mutant(
        "entropy_loss_negated",
        "03.entropy_loss",
        "losses",
        """
        def compute_entropy_loss(logits, response_mask, loss_agg_mode="token-mean"):
            return -agg_loss(_entropy_from_logits(logits), response_mask, loss_agg_mode)
        """,
    ),
    # Edges the goldens never hold (issue 24): caught by test_losses_properties.py's differential tests.
    Mutant(
        "seq_mean_token_sum_norm_longest_row",
        "03.agg_loss",
        "losses",  # agrees with verl whenever one row is full length, as in every golden
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
