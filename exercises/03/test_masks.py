"""Graded tests for exercises/03/masks.py (goldens from verl 0.9.1: verlings/goldens/ch03_masks.py)."""

import math

import pytest
import torch

from verlings import learner_module
from verlings.testing import assert_close, golden, matches, tensors

masks = learner_module("03", "masks")


@pytest.mark.exercise("03.response_mask")
def test_compute_response_mask_matches_verl():
    g = tensors(golden("03", "response_mask"))
    seen = masks.compute_response_mask(responses=g["responses"], attention_mask=g["attention_mask"])
    assert_close(
        seen, g["response_mask"], what="compute_response_mask",
        why="the response is the right-most response_length columns of attention_mask",
    )
    expected_dtype = g["attention_mask"].dtype
    assert seen.dtype == expected_dtype, f"dtype {seen.dtype}, expected attention_mask's {expected_dtype}"


@pytest.mark.exercise("03.response_mask")
def test_compute_response_mask_ignores_prompt_padding():
    # Worked by hand: prompt of 4 columns (2 real), response of 3 columns (2 real).
    attention_mask = torch.tensor([[0, 0, 1, 1, 1, 1, 0]])
    responses = torch.tensor([[7, 8, 0]])
    seen = masks.compute_response_mask(responses=responses, attention_mask=attention_mask)
    assert_close(seen, torch.tensor([[1, 1, 0]]), what="compute_response_mask")


@pytest.mark.exercise("03.masked_mean")
@pytest.mark.parametrize(("axis", "key"), [(None, "mean_all"), (1, "mean_axis1"), (0, "mean_axis0")])
def test_masked_mean_matches_verl(axis, key):
    g = tensors(golden("03", "masked_mean"))
    seen = masks.masked_mean(values=g["values"], mask=g["mask"], axis=axis)
    assert_close(seen, g[key], what=f"masked_mean(axis={axis})")


@pytest.mark.exercise("03.masked_mean")
def test_masked_mean_ignores_inf_on_masked_positions():
    # (1 + 2) / 2 = 1.5; the inf sits on a masked position and must not leak (0 * inf = NaN).
    values = torch.tensor([1.0, 2.0, float("inf")])
    seen = masks.masked_mean(values=values, mask=torch.tensor([1, 1, 0]))
    assert_close(
        seen, torch.tensor(1.5), what="masked_mean with inf under the mask",
        why="values * mask turns inf into NaN; select with torch.where first",
    )


# --- get_response_mask --------------------------------------------------------------------------


@pytest.mark.exercise("03.eos_mask")
def test_get_response_mask_single_eos_matches_verl():
    g = tensors(golden("03", "eos_mask"))
    seen = masks.get_response_mask(response_id=g["response_id"], eos_token=1)
    assert_close(
        seen, g["mask_eos1"], what="get_response_mask(eos_token=1)",
        why="1 up to and including the first EOS, 0 after it (the EOS token itself is kept)",
    )
    assert seen.dtype == torch.int64, f"dtype {seen.dtype}, expected the default torch.int64"


@pytest.mark.exercise("03.eos_mask")
def test_get_response_mask_eos_list_matches_verl():
    g = tensors(golden("03", "eos_mask"))
    seen = masks.get_response_mask(response_id=g["response_id"], eos_token=[1, 2])
    assert_close(
        seen, g["mask_eos12"], what="get_response_mask(eos_token=[1, 2])",
        why="with a list, the first token that is ANY of the ids ends the response (rows 3 and 5 end on id 2)",
    )


@pytest.mark.exercise("03.eos_mask")
def test_get_response_mask_verl_docstring_example():
    # verl's own docstring example, checked by hand: keep up to and including the first EOS.
    response_id = torch.tensor([
        [20, 10, 34, 1, 0, 0, 0],  # eos 1 at column 3
        [78, 0, 76, 2, 1, 0, 0],   # eos 2 at column 3, eos 1 at column 4
        [23, 98, 1, 0, 0, 0, 0],   # eos 1 at column 2
        [33, 3, 98, 45, 1, 0, 0],  # eos 1 at column 4
    ])
    only_1 = torch.tensor([
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
    ])
    one_or_2 = torch.tensor([
        [1, 1, 1, 1, 0, 0, 0],
        [1, 1, 1, 1, 0, 0, 0],  # now eos 2 at column 3 ends it
        [1, 1, 1, 0, 0, 0, 0],
        [1, 1, 1, 1, 1, 0, 0],
    ])
    seen = masks.get_response_mask(response_id=response_id, eos_token=1)
    assert_close(seen, only_1, what="get_response_mask(eos_token=1)")
    seen = masks.get_response_mask(response_id=response_id, eos_token=[1, 2])
    assert_close(seen, one_or_2, what="get_response_mask(eos_token=[1, 2])")


@pytest.mark.exercise("03.eos_mask")
@pytest.mark.parametrize("dtype", [torch.bool, torch.float32, torch.int32])
def test_get_response_mask_keeps_requested_dtype(dtype):
    g = tensors(golden("03", "eos_mask"))
    seen = masks.get_response_mask(response_id=g["response_id"], eos_token=[1, 2], dtype=dtype)
    assert seen.dtype == dtype, f"get_response_mask(dtype={dtype}) returned {seen.dtype}"
    assert tuple(seen.shape) == tuple(g["response_id"].shape), f"shape {tuple(seen.shape)}"
    assert_close(seen, g["mask_eos12"], what=f"get_response_mask(dtype={dtype})")


@pytest.mark.exercise("03.eos_mask")
def test_get_response_mask_ignores_tokens_after_eos():
    # Whatever the engine generated after the first EOS (even more EOS tokens) changes nothing.
    g = tensors(golden("03", "eos_mask"))
    after = g["mask_eos12"] == 0
    noise = torch.randint(0, 4, g["response_id"].shape, generator=torch.Generator().manual_seed(0))
    scrambled = torch.where(after, noise, g["response_id"])
    seen = masks.get_response_mask(response_id=scrambled, eos_token=[1, 2])
    assert_close(
        seen, g["mask_eos12"], what="get_response_mask after scrambling the tokens past the first EOS",
        why="only the FIRST EOS of a row matters",
    )


# --- masked_var ---------------------------------------------------------------------------------


@pytest.mark.exercise("03.masked_var")
def test_masked_var_unbiased_matches_verl():
    g = tensors(golden("03", "masked_var"))
    seen = masks.masked_var(values=g["values"], mask=g["mask"])
    assert_close(
        seen, g["var_unbiased"], what="masked_var (default unbiased=True)",
        why="unbiased by default: multiply the masked population variance by n / (n - 1), n = mask.sum()",
    )
    assert seen.shape == (), f"masked_var reduces everything to a 0-dim tensor, got shape {tuple(seen.shape)}"


@pytest.mark.exercise("03.masked_var")
def test_masked_var_population_matches_verl():
    g = tensors(golden("03", "masked_var"))
    seen = masks.masked_var(values=g["values"], mask=g["mask"], unbiased=False)
    assert_close(
        seen, g["var_population"], what="masked_var(unbiased=False)",
        why="population variance: the masked mean of squared deviations from the masked mean",
    )


@pytest.mark.exercise("03.masked_var")
def test_masked_var_hand_worked():
    # valid 1, 2, 3 (100 is masked): mean 2, squared deviations 1 + 0 + 1 = 2;
    # unbiased 2 / (3 - 1) = 1, population 2 / 3.
    values = torch.tensor([1.0, 2.0, 3.0, 100.0])
    mask = torch.tensor([1, 1, 1, 0])
    assert_close(masks.masked_var(values=values, mask=mask), torch.tensor(1.0),
                 what="masked_var([1, 2, 3 | 100])")
    assert_close(masks.masked_var(values=values, mask=mask, unbiased=False), torch.tensor(2.0 / 3.0),
                 what="masked_var([1, 2, 3 | 100], unbiased=False)")


@pytest.mark.exercise("03.masked_var")
@pytest.mark.parametrize("garbage", [float("nan"), float("inf"), 1e6])
def test_masked_var_ignores_masked_positions(garbage):
    g = tensors(golden("03", "masked_var"))
    values = torch.where(g["mask"].bool(), g["values"], garbage)
    seen = masks.masked_var(values=values, mask=g["mask"])
    # the golden values themselves are the control: if they match, only the masked values differ
    clean = masks.masked_var(values=g["values"], mask=g["mask"])
    assert_close(
        seen, g["var_unbiased"], what=f"masked_var with {garbage} on masked positions",
        why=f"the golden values with {garbage} where the mask is 0 (0 * inf and 0 * nan are NaN)",
        cause="masked_positions_leak" if matches(clean, g["var_unbiased"]) else None,
    )


@pytest.mark.exercise("03.masked_var")
@pytest.mark.parametrize("mask", [[0, 0, 0], [0, 1, 0]], ids=["no-valid-token", "one-valid-token"])
def test_masked_var_unbiased_needs_two_tokens(mask):
    with pytest.raises(ValueError):
        masks.masked_var(values=torch.tensor([1.0, 2.0, 3.0]), mask=torch.tensor(mask))


@pytest.mark.exercise("03.masked_var")
def test_masked_var_keeps_dtype_and_gradient():
    # d var / d v_i = 2 (v_i - mean) / (n - 1) on valid positions, 0 on masked ones.
    g = tensors(golden("03", "masked_var"))
    values = g["values"].double().requires_grad_(True)
    mask = g["mask"]
    seen = masks.masked_var(values=values, mask=mask)
    assert seen.dtype == torch.float64, f"float64 values gave a {seen.dtype} variance"
    seen.backward()
    valid = mask.bool()
    n = mask.sum().double()
    mean = g["values"].double()[valid].mean()
    expected = torch.where(valid, 2.0 * (g["values"].double() - mean) / (n - 1), 0.0)
    assert values.grad is not None, "no gradient reached values — is the result detached?"
    assert_close(values.grad, expected, what="d masked_var / d values", mask=mask)


# --- masked_whiten ------------------------------------------------------------------------------


def _valid_only(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    # Callers multiply whitened values by the mask; only valid positions are graded.
    return torch.where(mask.bool(), x, torch.zeros_like(x))


@pytest.mark.exercise("03.masked_whiten")
def test_masked_whiten_matches_verl():
    g = tensors(golden("03", "masked_whiten"))
    seen = masks.masked_whiten(values=g["values"], mask=g["mask"])
    assert tuple(seen.shape) == tuple(g["values"].shape), f"shape {tuple(seen.shape)}, expected values' shape"
    assert_close(
        _valid_only(seen, g["mask"]), _valid_only(g["whitened"], g["mask"]), mask=g["mask"],
        what="masked_whiten (valid positions)",
        why="mean and unbiased variance over the VALID positions only, then (values - mean) * rsqrt(var + 1e-8)",
    )


@pytest.mark.exercise("03.masked_whiten")
def test_masked_whiten_keep_mean_matches_verl():
    g = tensors(golden("03", "masked_whiten"))
    seen = masks.masked_whiten(values=g["values"], mask=g["mask"], shift_mean=False)
    assert_close(
        _valid_only(seen, g["mask"]), _valid_only(g["whitened_keep_mean"], g["mask"]), mask=g["mask"],
        what="masked_whiten(shift_mean=False) (valid positions)",
        why="shift_mean=False only rescales: add the masked mean back after scaling",
    )


@pytest.mark.exercise("03.masked_whiten")
@pytest.mark.parametrize("garbage", [float("nan"), float("inf")])
def test_masked_whiten_ignores_masked_positions(garbage):
    g = tensors(golden("03", "masked_whiten"))
    values = torch.where(g["mask"].bool(), g["values"], garbage)
    seen = masks.masked_whiten(values=values, mask=g["mask"])
    # the golden values themselves are the control: if they match, only the masked values differ
    clean = masks.masked_whiten(values=g["values"], mask=g["mask"])
    assert_close(
        _valid_only(seen, g["mask"]), _valid_only(g["whitened"], g["mask"]), mask=g["mask"],
        what=f"masked_whiten with {garbage} on masked positions",
        why=f"the golden values with {garbage} where the mask is 0",
        cause="masked_positions_leak" if matches(_valid_only(clean, g["mask"]), _valid_only(g["whitened"], g["mask"]))
        else None,
    )


@pytest.mark.exercise("03.masked_whiten")
def test_masked_whiten_gives_zero_mean_unit_variance():
    # Property, in float64: the valid outputs have mean 0 and unbiased variance var / (var + 1e-8) ≈ 1.
    g = tensors(golden("03", "masked_whiten"))
    seen = masks.masked_whiten(values=g["values"].double(), mask=g["mask"])
    assert seen.dtype == torch.float64, f"float64 values came back as {seen.dtype}"
    valid = seen[g["mask"].bool()]
    assert_close(valid.mean(), torch.tensor(0.0, dtype=torch.float64),
                 what="mean of the whitened valid values")
    assert_close(valid.var(), torch.tensor(1.0, dtype=torch.float64),
                 what="unbiased variance of the whitened valid values",
                 why="divide by the square root of the UNBIASED masked variance")


# --- logprobs_from_logits -----------------------------------------------------------------------


@pytest.mark.exercise("03.logprobs")
@pytest.mark.parametrize("case", ["", "_2d"], ids=["3d", "2d"])
def test_logprobs_from_logits_matches_verl(case):
    g = tensors(golden("03", "logprobs"))
    seen = masks.logprobs_from_logits(logits=g[f"logits{case}"], labels=g[f"labels{case}"])
    assert_close(
        seen, g[f"logprobs{case}"], what=f"logprobs_from_logits, logits {tuple(g[f'logits{case}'].shape)}",
        why="log-softmax over the LAST dimension (the vocabulary), then pick each label's entry",
    )


@pytest.mark.exercise("03.logprobs")
def test_logprobs_from_logits_large_logits_stay_finite():
    g = tensors(golden("03", "logprobs"))
    seen = masks.logprobs_from_logits(logits=g["logits_large"], labels=g["labels_large"])
    assert_close(
        seen, g["logprobs_large"], what="logprobs_from_logits with logits of size ~1e4",
        why="exp(1e4) overflows and softmax underflows to 0 (log 0 = -inf): use log_softmax or logits - logsumexp",
    )


@pytest.mark.exercise("03.logprobs")
def test_logprobs_from_logits_hand_worked():
    # logits [0, 0, log 2] → p = [1, 1, 2] / 4: log p(label 2) = log(1/2), log p(label 0) = log(1/4).
    logits = torch.tensor([[0.0, 0.0, math.log(2.0)], [0.0, 0.0, math.log(2.0)]])
    seen = masks.logprobs_from_logits(logits=logits, labels=torch.tensor([2, 0]))
    assert_close(seen, torch.tensor([math.log(0.5), math.log(0.25)]), what="logprobs_from_logits")


@pytest.mark.exercise("03.logprobs")
def test_logprobs_from_logits_gradient_and_dtype():
    # d log p(y) / d z = onehot(y) - softmax(z): the policy gradient flows back to every logit.
    g = tensors(golden("03", "logprobs"))
    logits = g["logits"].double().requires_grad_(True)
    seen = masks.logprobs_from_logits(logits=logits, labels=g["labels"])
    assert seen.dtype == torch.float64, f"float64 logits gave {seen.dtype} log-probs"
    assert tuple(seen.shape) == tuple(g["labels"].shape), f"shape {tuple(seen.shape)}, expected labels' shape"
    seen.sum().backward()
    assert logits.grad is not None, "no gradient reached the logits — is the result detached?"
    z = g["logits"].double()
    expected = torch.nn.functional.one_hot(g["labels"], z.shape[-1]).double() - torch.softmax(z, dim=-1)
    assert_close(logits.grad, expected, what="d logprobs / d logits")


# --- entropy_from_logits ------------------------------------------------------------------------


@pytest.mark.exercise("03.entropy")
@pytest.mark.parametrize("case", ["", "_2d"], ids=["3d", "2d"])
def test_entropy_from_logits_matches_verl(case):
    g = tensors(golden("03", "entropy"))
    seen = masks.entropy_from_logits(logits=g[f"logits{case}"])
    assert_close(
        seen, g[f"entropy{case}"], what=f"entropy_from_logits, logits {tuple(g[f'logits{case}'].shape)}",
        why="H = -sum p log p over the vocabulary (last dim); entropy is never negative",
    )


@pytest.mark.exercise("03.entropy")
def test_entropy_from_logits_large_logits_stay_finite():
    g = tensors(golden("03", "entropy"))
    seen = masks.entropy_from_logits(logits=g["logits_large"])
    assert_close(
        seen, g["entropy_large"], what="entropy_from_logits with logits of size ~1e4",
        why="p underflows to 0 and 0 * log 0 = 0 * -inf = NaN: use logsumexp(z) - sum(p * z)",
    )


@pytest.mark.exercise("03.entropy")
def test_entropy_from_logits_hand_worked():
    # Equal logits: uniform over 4 tokens, H = log 4. Two equal logits far above the rest:
    # p ≈ [1/2, 1/2, e^-40 / 2, e^-40 / 2], so H = log 2 + O(1e-16).
    logits = torch.tensor([[3.0, 3.0, 3.0, 3.0], [20.0, 20.0, -20.0, -20.0]])
    seen = masks.entropy_from_logits(logits=logits)
    assert_close(seen, torch.tensor([math.log(4.0), math.log(2.0)]), what="entropy_from_logits")


@pytest.mark.exercise("03.entropy")
def test_entropy_from_logits_gradient_and_dtype():
    # d H / d z_i = -p_i (log p_i + H): the entropy bonus trains the logits.
    g = tensors(golden("03", "entropy"))
    logits = g["logits"].double().requires_grad_(True)
    seen = masks.entropy_from_logits(logits=logits)
    assert seen.dtype == torch.float64, f"float64 logits gave a {seen.dtype} entropy"
    expected_shape = tuple(g["logits"].shape[:-1])
    assert tuple(seen.shape) == expected_shape, f"shape {tuple(seen.shape)}, expected (bs, response_length)"
    seen.sum().backward()
    assert logits.grad is not None, "no gradient reached the logits — is the result detached?"
    z = g["logits"].double()
    p, logp = torch.softmax(z, dim=-1), torch.log_softmax(z, dim=-1)
    h = -(p * logp).sum(dim=-1, keepdim=True)
    assert_close(logits.grad, -p * (logp + h), what="d entropy / d logits")
