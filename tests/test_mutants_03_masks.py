"""Known-wrong variants of exercises/03/masks.py: each must fail at least one graded test."""

import pytest

from verlings.dev.mutants import Mutant, caught

MUTANTS = [
    Mutant(
        "response_mask_from_the_left",
        "03.response_mask",
        "masks",
        """
        def compute_response_mask(responses, attention_mask):
            return attention_mask[:, : responses.size(1)]
        """,
    ),
    Mutant(
        "masked_mean_multiplies_by_mask",
        "03.masked_mean",
        "masks",
        """
        def masked_mean(values, mask, axis=None):
            return (values * mask).sum(dim=axis) / (mask.sum(dim=axis) + 1e-8)
        """,
    ),
    Mutant(
        "masked_mean_plain_mean",
        "03.masked_mean",
        "masks",
        """
        def masked_mean(values, mask, axis=None):
            return values.mean() if axis is None else values.mean(dim=axis)
        """,
    ),
    Mutant(
        "eos_mask_excludes_eos_token",
        "03.eos_mask",
        "masks",
        """
        def get_response_mask(response_id, eos_token=2, dtype=torch.int64):
            is_eos = torch.isin(response_id, torch.tensor(eos_token)).int()
            return (is_eos.cumsum(dim=1) == 0).to(dtype)  # counts the EOS itself: drops it
        """,
    ),
    Mutant(
        "eos_mask_first_id_of_list_only",
        "03.eos_mask",
        "masks",
        """
        def get_response_mask(response_id, eos_token=2, dtype=torch.int64):
            eos = eos_token[0] if isinstance(eos_token, list) else eos_token
            is_eos = (response_id == eos).int()
            return (is_eos.cumsum(dim=1) - is_eos == 0).to(dtype)
        """,
    ),
    Mutant(
        "eos_mask_ignores_dtype",
        "03.eos_mask",
        "masks",
        """
        def get_response_mask(response_id, eos_token=2, dtype=torch.int64):
            is_eos = torch.isin(response_id, torch.tensor(eos_token)).int()
            return (is_eos.cumsum(dim=1) - is_eos == 0).long()
        """,
    ),
    Mutant(
        "masked_var_population",
        "03.masked_var",
        "masks",
        """
        def masked_var(values, mask, unbiased=True):
            mean = masked_mean(values, mask)
            return masked_mean((values - mean) ** 2, mask)
        """,
    ),
    Mutant(
        "masked_var_ignores_mask",
        "03.masked_var",
        "masks",
        """
        def masked_var(values, mask, unbiased=True):
            return values.var(unbiased=unbiased)
        """,
    ),
    Mutant(
        "masked_var_multiplies_by_mask",
        "03.masked_var",
        "masks",
        """
        def masked_var(values, mask, unbiased=True):
            n = mask.sum()
            mean = (values * mask).sum() / n
            var = (((values - mean) ** 2) * mask).sum() / n
            return var * n / (n - 1) if unbiased else var
        """,
        mistake="masked_positions_leak",
    ),
    Mutant(
        "masked_whiten_forgets_shift_mean",
        "03.masked_whiten",
        "masks",
        """
        def masked_whiten(values, mask, shift_mean=True):
            mean, var = masked_mean(values, mask), masked_var(values, mask)
            return (values - mean) * torch.rsqrt(var + 1e-8)
        """,
    ),
    Mutant(
        "masked_whiten_unmasked_stats",
        "03.masked_whiten",
        "masks",
        """
        def masked_whiten(values, mask, shift_mean=True):
            mean, var = values.mean(), values.var()
            whitened = (values - mean) * torch.rsqrt(var + 1e-8)
            return whitened if shift_mean else whitened + mean
        """,
    ),
    Mutant(
        "masked_whiten_population_var",
        "03.masked_whiten",
        "masks",
        """
        def masked_whiten(values, mask, shift_mean=True):
            mean, var = masked_mean(values, mask), masked_var(values, mask, unbiased=False)
            whitened = (values - mean) * torch.rsqrt(var + 1e-8)
            return whitened if shift_mean else whitened + mean
        """,
    ),
    Mutant(
        "logprobs_softmax_then_log",
        "03.logprobs",
        "masks",
        """
        def logprobs_from_logits(logits, labels):
            logp = torch.softmax(logits, dim=-1).log()
            return logp.gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)
        """,
    ),
    Mutant(
        "logprobs_naive_exp",
        "03.logprobs",
        "masks",
        """
        def logprobs_from_logits(logits, labels):
            e = logits.exp()
            p = e / e.sum(dim=-1, keepdim=True)
            return p.log().gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)
        """,
    ),
    Mutant(
        "logprobs_log_softmax_over_dim_1",
        "03.logprobs",
        "masks",
        """
        def logprobs_from_logits(logits, labels):
            logp = torch.log_softmax(logits, dim=1)  # the sequence dim for 3-D logits
            return logp.gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)
        """,
    ),
    Mutant(
        "logprobs_gather_wrong_dim",
        "03.logprobs",
        "masks",
        """
        def logprobs_from_logits(logits, labels):
            logp = torch.log_softmax(logits, dim=-1)
            return logp.gather(dim=0, index=labels.unsqueeze(-1)).squeeze(-1)
        """,
    ),
    Mutant(
        "logprobs_detached",
        "03.logprobs",
        "masks",
        """
        def logprobs_from_logits(logits, labels):
            with torch.no_grad():
                logp = torch.log_softmax(logits, dim=-1)
            return logp.gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)
        """,
    ),
    Mutant(
        "entropy_naive_p_log_p",
        "03.entropy",
        "masks",
        """
        def entropy_from_logits(logits):
            p = torch.softmax(logits, dim=-1)
            return -(p * p.log()).sum(dim=-1)  # 0 * log 0 = NaN once p underflows
        """,
    ),
    Mutant(
        "entropy_sign_flipped",
        "03.entropy",
        "masks",
        """
        def entropy_from_logits(logits):
            p = torch.softmax(logits, dim=-1)
            return (p * logits).sum(dim=-1) - torch.logsumexp(logits, dim=-1)
        """,
    ),
    Mutant(
        "entropy_wrong_dim",
        "03.entropy",
        "masks",
        """
        def entropy_from_logits(logits):
            p = torch.softmax(logits, dim=1)
            return torch.logsumexp(logits, dim=1) - (p * logits).sum(dim=1)
        """,
    ),
]


@pytest.mark.parametrize("mutant", MUTANTS, ids=str)
def test_graded_tests_catch(mutant):
    assert caught(mutant), f"no graded test of {mutant.exercise} fails on the known-wrong variant {mutant.name!r}"
