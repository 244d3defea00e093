"""Golden values for exercises/03 masks.py, from verl 0.9.1."""

from __future__ import annotations

import torch

from verlings.goldens import snapshot


def _padded_batch(seed: int, bs: int = 6, prompt_length: int = 5, response_length: int = 7):
    """Left-padded prompts and right-padded responses, one response empty, one full length."""
    g = torch.Generator().manual_seed(seed)
    prompt_lens = torch.randint(1, prompt_length + 1, (bs,), generator=g)
    response_lens = torch.randint(1, response_length, (bs,), generator=g)
    response_lens[0], response_lens[-1] = 0, response_length
    cols_p = torch.arange(prompt_length)
    cols_r = torch.arange(response_length)
    prompt_mask = (cols_p[None, :] >= prompt_length - prompt_lens[:, None]).long()
    response_mask = (cols_r[None, :] < response_lens[:, None]).long()
    responses = torch.randint(3, 50, (bs, response_length), generator=g) * response_mask
    return responses, torch.cat([prompt_mask, response_mask], dim=1)


@snapshot("03", "response_mask")
def response_mask() -> dict:
    from verl import DataProto
    from verl.trainer.ppo.ray_trainer import compute_response_mask

    responses, attention_mask = _padded_batch(seed=3)
    data = DataProto.from_dict({"responses": responses, "attention_mask": attention_mask})
    return {"responses": responses, "attention_mask": attention_mask, "response_mask": compute_response_mask(data)}


@snapshot("03", "masked_mean")
def masked_mean() -> dict:
    from verl.utils.torch_functional import masked_mean as verl_masked_mean

    g = torch.Generator().manual_seed(31)
    values = torch.randn(4, 9, generator=g)
    mask = (torch.rand(4, 9, generator=g) > 0.35).long()
    mask[2] = 0  # a row with no valid token: the 1e-8 keeps it finite
    return {
        "values": values,
        "mask": mask,
        "mean_all": verl_masked_mean(values, mask),
        "mean_axis1": verl_masked_mean(values, mask, axis=1),
        "mean_axis0": verl_masked_mean(values, mask, axis=0),
    }


@snapshot("03", "eos_mask")
def eos_mask() -> dict:
    from verl.utils.torch_functional import get_response_mask

    g = torch.Generator().manual_seed(37)
    response_id = torch.randint(3, 40, (8, 10), generator=g)
    # Rows built to separate the classic mistakes (eos ids 1 and 2, pad id 0):
    response_id[1, 0] = 1  # EOS first: only the EOS token itself is kept
    response_id[2, 9] = 1  # EOS last: all ones
    response_id[3, 3], response_id[3, 6] = 2, 1  # second id of the list comes first
    response_id[4, 2], response_id[4, 5] = 1, 1  # two EOS: the first one ends the response
    response_id[5, 4] = 2  # only the second id of the list
    response_id[6, 4], response_id[6, 5:] = 1, 0  # EOS then padding
    response_id[7, 7] = 1  # row 0 has no EOS at all
    return {
        "response_id": response_id,
        "mask_eos1": get_response_mask(response_id, eos_token=1),
        "mask_eos12": get_response_mask(response_id, eos_token=[1, 2]),
    }


def _values_and_mask(seed: int, offset: float) -> tuple[torch.Tensor, torch.Tensor]:
    """(5, 8) float32 values whose masked positions sit far from the valid ones (+10)."""
    g = torch.Generator().manual_seed(seed)
    values = torch.randn(5, 8, generator=g) * 2.0 + offset
    mask = (torch.rand(5, 8, generator=g) > 0.35).long()
    mask[1, :] = 0  # a fully masked row
    mask[4, :] = 1  # a full row
    values = torch.where(mask.bool(), values, values + 10.0)  # unmasked statistics would be far off
    return values, mask


@snapshot("03", "masked_var")
def masked_var() -> dict:
    from verl.utils.torch_functional import masked_var as verl_masked_var

    values, mask = _values_and_mask(seed=41, offset=1.0)
    return {
        "values": values,
        "mask": mask,
        "var_unbiased": verl_masked_var(values, mask),
        "var_population": verl_masked_var(values, mask, unbiased=False),
    }


@snapshot("03", "masked_whiten")
def masked_whiten() -> dict:
    from verl.utils.torch_functional import masked_whiten as verl_masked_whiten

    values, mask = _values_and_mask(seed=43, offset=3.0)  # mean ≈ 3: forgetting to re-add it shows
    return {
        "values": values,
        "mask": mask,
        "whitened": verl_masked_whiten(values, mask),
        "whitened_keep_mean": verl_masked_whiten(values, mask, shift_mean=False),
    }


def _logits(seed: int) -> dict:
    """Moderate 3-D and 2-D logits, and float32 logits spread by ~1e4 (softmax underflows to 0)."""
    g = torch.Generator().manual_seed(seed)
    return {
        "logits": torch.randn(3, 5, 11, generator=g) * 3.0,
        "labels": torch.randint(0, 11, (3, 5), generator=g),
        "logits_2d": torch.randn(7, 11, generator=g) * 3.0,
        "labels_2d": torch.randint(0, 11, (7,), generator=g),
        "logits_large": torch.randn(4, 6, 16, generator=g) * 1e4,
        "labels_large": torch.randint(0, 16, (4, 6), generator=g),
    }


@snapshot("03", "logprobs")
def logprobs() -> dict:
    from verl.utils.torch_functional import logprobs_from_logits

    x = _logits(seed=47)
    return {
        **x,
        "logprobs": logprobs_from_logits(x["logits"], x["labels"]),
        "logprobs_2d": logprobs_from_logits(x["logits_2d"], x["labels_2d"]),
        "logprobs_large": logprobs_from_logits(x["logits_large"], x["labels_large"]),
    }


@snapshot("03", "entropy")
def entropy() -> dict:
    from verl.utils.torch_functional import entropy_from_logits

    x = _logits(seed=53)
    return {
        "logits": x["logits"],
        "logits_2d": x["logits_2d"],
        "logits_large": x["logits_large"],
        "entropy": entropy_from_logits(x["logits"]),
        "entropy_2d": entropy_from_logits(x["logits_2d"]),
        "entropy_large": entropy_from_logits(x["logits_large"]),
    }
