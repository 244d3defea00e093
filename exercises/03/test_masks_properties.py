"""Graded differential tests for exercises/03/masks.py: your functions against verl 0.9.1's
``verl/utils/torch_functional.py`` (its own source, compiled without importing the verl package) on
generated batches — ragged masks with no full-length row, holes, all-padding batches, bool / int /
float masks, float32 / float64 / bfloat16 / float16 values, inf and NaN under the mask, logits in
the thousands. Each case also checks the result's dtype and that your function left its inputs
unchanged. Hypothesis is derandomized: the same examples on every run.
"""

import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

from verlings import learner_module
from verlings.differential import assert_tensors_agree, verl_torch_functional
from verlings.tensor_strategies import TENSOR_SETTINGS, batch_shapes, float_dtypes, masks, values, with_junk

m = learner_module("03", "masks")
SETTINGS = TENSOR_SETTINGS  # derandomized, 15 examples a test


@st.composite
def masked_batches(draw, junk: bool = True):
    rows, width = draw(batch_shapes)
    dtype = draw(float_dtypes)
    mask = masks(draw, rows, width)
    x = values(draw, (rows, width), dtype)
    if junk:
        x = with_junk(x, mask, draw(st.sampled_from([0.5, 100.0, float("inf"), float("nan")])))
    return x, mask


@pytest.mark.exercise("03.masked_mean")
@SETTINGS
# Always tried first: an all-padding bfloat16 batch, reduced per row.
@example(batch=(torch.tensor([[1.0, float("nan")]], dtype=torch.bfloat16), torch.tensor([[0, 0]])), axis=-1)
@given(batch=masked_batches(), axis=st.sampled_from([None, 0, 1, -1]))
def test_masked_mean_agrees_with_verl_on_generated_batches(batch, axis):
    x, mask = batch
    assert_tensors_agree(
        "masked_mean",
        m.masked_mean,
        verl_torch_functional().masked_mean,
        (x, mask),
        {"axis": axis},
        why="verl: Σ values where mask (values under the mask never count, inf and NaN included) "
        "/ (mask.sum(axis) + 1e-8); an all-padding row or batch gives 0; the dtype is what that "
        "division gives (a half-precision full reduction comes back float32)",
    )


@pytest.mark.exercise("03.masked_var")
@SETTINGS
@given(batch=masked_batches(), unbiased=st.booleans())
def test_masked_var_agrees_with_verl_on_generated_batches(batch, unbiased):
    x, mask = batch
    assert_tensors_agree(
        "masked_var",
        m.masked_var,
        verl_torch_functional().masked_var,
        (x, mask),
        {"unbiased": unbiased},
        why="verl: the masked mean of (x - masked mean)², times n / (n - 1) when unbiased; "
        "unbiased with n = 0 or 1 valid values raises ValueError",
    )


@pytest.mark.exercise("03.masked_whiten")
@SETTINGS
# Always tried first: equal valid values (variance 0: the 1e-8 inside the square root is all there is).
@example(batch=(torch.tensor([[2.0, 2.0, 2.0, 9.0]]), torch.tensor([[1, 1, 1, 0]])), shift_mean=True)
@given(batch=masked_batches(), shift_mean=st.booleans())
def test_masked_whiten_agrees_with_verl_on_generated_batches(batch, shift_mean):
    x, mask = batch
    assert_tensors_agree(
        "masked_whiten",
        m.masked_whiten,
        verl_torch_functional().masked_whiten,
        (x, mask),
        {"shift_mean": shift_mean},
        where=mask,
        why="verl: (x - μ) · rsqrt(σ² + 1e-8) with the masked mean and the unbiased masked variance "
        "(ValueError below two valid values); μ added back when shift_mean=False",
    )


@st.composite
def responses(draw):
    rows, width = draw(batch_shapes)
    ids = torch.tensor(draw(st.lists(st.integers(0, 4), min_size=rows * width, max_size=rows * width)))
    eos = draw(st.one_of(st.integers(0, 4), st.lists(st.integers(0, 4), min_size=1, max_size=3)))
    return ids.reshape(rows, width), eos


@pytest.mark.exercise("03.eos_mask")
@SETTINGS
@given(case=responses(), dtype=st.sampled_from([torch.int64, torch.bool, torch.float32, torch.bfloat16]))
def test_get_response_mask_agrees_with_verl_on_generated_ids(case, dtype):
    ids, eos = case
    assert_tensors_agree(
        "get_response_mask",
        m.get_response_mask,
        verl_torch_functional().get_response_mask,
        (ids,),
        {"eos_token": eos, "dtype": dtype},
        why="verl: 1 up to and including the first token that is any of the EOS ids, 0 after; "
        "a row without EOS is all ones; the mask has the dtype asked for",
    )


@st.composite
def logits_and_labels(draw):
    rows, width = draw(batch_shapes)
    vocab = draw(st.integers(1, 5))
    dtype = draw(st.sampled_from([torch.float32, torch.float64, torch.bfloat16]))
    scale = draw(st.sampled_from([1.0, 100.0, 2000.0]))  # thousands: exp overflows, log of 0 underflows
    shape = (rows, width, vocab) if draw(st.booleans()) else (rows, vocab)
    logits = (values(draw, shape, torch.float64) * scale).to(dtype)
    labels = torch.tensor(draw(st.lists(st.integers(0, vocab - 1), min_size=1, max_size=1)) * (rows * width))
    return logits, labels.reshape(shape[:-1]) if len(shape) == 3 else labels[:rows]


def _cancellation(logits: torch.Tensor) -> float:
    """verl's float32 path is logit - logsumexp: at logits of 2000 both sides carry 2000 · eps of
    rounding, which a log_softmax does not. That much is not a difference."""
    return 4 * torch.finfo(logits.dtype).eps * max(1.0, float(logits.abs().max()))


@pytest.mark.exercise("03.logprobs")
@SETTINGS
@given(case=logits_and_labels())
def test_logprobs_from_logits_agrees_with_verl_on_generated_logits(case):
    logits, labels = case
    assert_tensors_agree(
        "logprobs_from_logits",
        m.logprobs_from_logits,
        verl_torch_functional().logprobs_from_logits,
        (logits, labels),
        atol=_cancellation(logits),
        why="verl (CPU): logit of the label - logsumexp of the row (log_softmax then gather for bfloat16): "
        "finite for logits in the thousands, in the logits' dtype",
    )


@pytest.mark.exercise("03.entropy")
@SETTINGS
@given(case=logits_and_labels())
def test_entropy_from_logits_agrees_with_verl_on_generated_logits(case):
    logits, _ = case
    assert_tensors_agree(
        "entropy_from_logits",
        m.entropy_from_logits,
        verl_torch_functional().entropy_from_logits,
        (logits,),
        atol=_cancellation(logits),
        why="verl: logsumexp(z) - Σ softmax(z) · z over the last axis: never NaN when probabilities "
        "underflow, in the logits' dtype",
    )


@pytest.mark.exercise("03.eos_mask")
def test_get_response_mask_default_eos_is_2():
    # verl's signature: get_response_mask(response_id, eos_token=2, dtype=torch.int64).
    ids = torch.tensor([[5, 2, 7, 3], [3, 5, 6, 7]])
    assert_tensors_agree(
        "get_response_mask (eos_token left out)",
        m.get_response_mask,
        verl_torch_functional().get_response_mask,
        (ids,),
        why="the default EOS id is 2, as in verl",
    )
