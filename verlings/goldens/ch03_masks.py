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
