"""Reference solutions: masks, masked statistics and log-probabilities (verl 0.9.1 semantics)."""

from __future__ import annotations

import torch


def compute_response_mask(responses: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    # Responses are the right-most columns of the sequence, so their mask is too.
    response_length = responses.size(1)
    return attention_mask[:, -response_length:]


def masked_mean(values: torch.Tensor, mask: torch.Tensor, axis: int | None = None) -> torch.Tensor:
    # torch.where, not values * mask: 0 * inf is NaN, and padding may hold inf.
    total = torch.where(mask.bool(), values, 0.0).sum(dim=axis)
    return total / (mask.sum(dim=axis) + 1e-8)


def get_response_mask(
    response_id: torch.Tensor, eos_token: int | list[int] = 2, dtype: torch.dtype = torch.int64
) -> torch.Tensor:
    # 1 on every EOS id; a running count of EOS tokens *before* each position (cumsum
    # minus self) is 0 up to and including the first EOS, then positive.
    is_eos = torch.isin(response_id, torch.tensor(eos_token, device=response_id.device)).int()
    eos_before = is_eos.cumsum(dim=1) - is_eos
    return (eos_before == 0).to(dtype)


def masked_var(values: torch.Tensor, mask: torch.Tensor, unbiased: bool = True) -> torch.Tensor:
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask)
    if unbiased:
        n = mask.sum()
        # Bessel's correction n / (n - 1) needs at least two valid values; verl refuses the rest.
        if n == 0:
            raise ValueError("At least one element in the mask has to be 1.")
        if n == 1:
            raise ValueError("The sum of the mask is one, which can cause a division by zero.")
        variance = variance * (n / (n - 1))
    return variance


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True) -> torch.Tensor:
    # Statistics come from the valid positions only; every position is then transformed.
    mean, var = masked_mean(values, mask), masked_var(values, mask)
    whitened = (values - mean) * torch.rsqrt(var + 1e-8)
    if not shift_mean:
        whitened = whitened + mean  # rescale only: keep the original mean
    return whitened


def logprobs_from_logits(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    # log_softmax subtracts the max before exp, so large logits never overflow;
    # softmax(...).log() would underflow to log(0) = -inf instead.
    logp = torch.log_softmax(logits, dim=-1)
    return logp.gather(dim=-1, index=labels.unsqueeze(-1)).squeeze(-1)


def entropy_from_logits(logits: torch.Tensor) -> torch.Tensor:
    # H = -sum p log p = logsumexp(z) - sum p z, since log p = z - logsumexp(z);
    # no log(p), so p == 0 (underflow) never produces 0 * -inf = NaN.
    p = torch.softmax(logits, dim=-1)
    return torch.logsumexp(logits, dim=-1) - (p * logits).sum(dim=-1)
