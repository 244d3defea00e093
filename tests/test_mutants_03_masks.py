"""Known-wrong variants of exercises/03/masks.py: each must fail at least one graded test.

Each is a small edit of solutions/03/masks.py (``replace``); a whole function (``code``) only
where the mistake rewrites more than an expression.
"""

import pytest

from verlings.dev.mutants import Mutant, caught

MASK, MEAN, EOS, VAR = "03.response_mask", "03.masked_mean", "03.eos_mask", "03.masked_var"
WHITEN, LOGP, ENTR = "03.masked_whiten", "03.logprobs", "03.entropy"
GATHER = "logp.gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)"
LOG_SOFTMAX = "logp = torch.log_softmax(logits, dim=-1)"
ENTROPY = "return torch.logsumexp(logits, dim=-1) - (p * logits).sum(dim=-1)"
IS_EOS = "is_eos = torch.isin(response_id, torch.tensor(eos_token, device=response_id.device)).int()"

MUTANTS = [
    Mutant(
        "response_mask_from_the_left",
        MASK,
        "masks",
        replace={"attention_mask[:, -response_length:]": "attention_mask[:, :response_length]"},
    ),
    Mutant(
        "masked_mean_multiplies_by_mask",
        MEAN,
        "masks",
        replace={"torch.where(mask.bool(), values, 0.0).sum(dim=axis)": "(values * mask).sum(dim=axis)"},
    ),
    Mutant(
        "masked_mean_plain_mean",
        MEAN,
        "masks",
        replace={
            "return total / (mask.sum(dim=axis) + 1e-8)": (
                "return values.mean() if axis is None else values.mean(dim=axis)"
            )
        },
    ),
    Mutant(
        "eos_mask_excludes_eos_token",
        EOS,
        "masks",  # counts the EOS itself: drops it
        replace={"eos_before = is_eos.cumsum(dim=1) - is_eos": "eos_before = is_eos.cumsum(dim=1)"},
    ),
    Mutant(
        "eos_mask_first_id_of_list_only",
        EOS,
        "masks",
        replace={
            IS_EOS: "eos = eos_token[0] if isinstance(eos_token, list) else eos_token\n"
            "    is_eos = (response_id == eos).int()"
        },
    ),
    Mutant("eos_mask_ignores_dtype", EOS, "masks", replace={"(eos_before == 0).to(dtype)": "(eos_before == 0).long()"}),
    Mutant("masked_var_population", VAR, "masks", replace={"    if unbiased:\n": "    if False:\n"}),
    Mutant(
        "masked_var_ignores_mask",
        VAR,
        "masks",
        replace={"    mean = masked_mean(values, mask)\n": "    return values.var(unbiased=unbiased)\n"},
    ),
    Mutant(
        "masked_var_multiplies_by_mask",
        VAR,
        "masks",
        mistake="masked_positions_leak",
        code="""
        def masked_var(values, mask, unbiased=True):
            n = mask.sum()
            mean = (values * mask).sum() / n
            var = (((values - mean) ** 2) * mask).sum() / n
            return var * n / (n - 1) if unbiased else var
        """,
    ),
    Mutant(
        "masked_whiten_forgets_shift_mean", WHITEN, "masks", replace={"    if not shift_mean:\n": "    if False:\n"}
    ),
    Mutant(
        "masked_whiten_unmasked_stats",
        WHITEN,
        "masks",
        replace={
            "mean, var = masked_mean(values, mask), masked_var(values, mask)": "mean, var = values.mean(), values.var()"
        },
    ),
    Mutant(
        "masked_whiten_population_var",
        WHITEN,
        "masks",
        replace={"masked_var(values, mask)\n": "masked_var(values, mask, unbiased=False)\n"},
    ),
    Mutant(
        "logprobs_softmax_then_log",
        LOGP,
        "masks",
        replace={LOG_SOFTMAX: "logp = torch.softmax(logits, dim=-1).log()"},
    ),
    Mutant(
        "logprobs_naive_exp",
        LOGP,
        "masks",
        replace={LOG_SOFTMAX: ("logp = (logits.exp() / logits.exp().sum(dim=-1, keepdim=True)).log()")},
    ),
    Mutant(
        "logprobs_log_softmax_over_dim_1",
        LOGP,
        "masks",  # the sequence dim for 3-D logits
        replace={LOG_SOFTMAX: "logp = torch.log_softmax(logits, dim=1)"},
    ),
    Mutant("logprobs_gather_wrong_dim", LOGP, "masks", replace={GATHER: GATHER.replace("dim=-1", "dim=0")}),
    Mutant(
        "logprobs_detached",
        LOGP,
        "masks",
        replace={LOG_SOFTMAX: "logp = torch.log_softmax(logits, dim=-1).detach()"},
    ),
    Mutant(
        "entropy_naive_p_log_p",
        ENTR,
        "masks",  # 0 * log 0 = NaN once p underflows
        replace={ENTROPY: "return -(p * p.log()).sum(dim=-1)"},
    ),
    Mutant(
        "entropy_sign_flipped",
        ENTR,
        "masks",
        replace={ENTROPY: "return (p * logits).sum(dim=-1) - torch.logsumexp(logits, dim=-1)"},
    ),
    Mutant(
        "entropy_wrong_dim",
        ENTR,
        "masks",
        replace={
            "p = torch.softmax(logits, dim=-1)": "p = torch.softmax(logits, dim=1)",
            ENTROPY: ENTROPY.replace("dim=-1", "dim=1"),
        },
    ),
    # Edges the goldens never hold (issue 24): caught by test_masks_properties.py's differential tests.
    Mutant(
        "masked_mean_always_float32",
        MEAN,
        "masks",  # a bfloat16 or float64 batch comes back float32 (verl keeps the dtype, 0-dim promotion aside)
        replace={"return total / (mask.sum(dim=axis) + 1e-8)": "return (total / (mask.sum(dim=axis) + 1e-8)).float()"},
    ),
    Mutant(
        "logprobs_in_float32",
        LOGP,
        "masks",  # stable, but a float64 or bfloat16 model gets float32 log-probs back
        replace={LOG_SOFTMAX: "logp = torch.log_softmax(logits.float(), dim=-1)"},
    ),
    Mutant(
        "masked_whiten_in_place",
        WHITEN,
        "masks",  # the caller's advantages are overwritten
        code="""
        def masked_whiten(values, mask, shift_mean=True):
            mean, var = masked_mean(values, mask), masked_var(values, mask)
            values -= mean
            values *= torch.rsqrt(var + 1e-8)
            if not shift_mean:
                values += mean
            return values
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
