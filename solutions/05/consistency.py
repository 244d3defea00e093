"""Trajectory consistency checks (reference solution)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

NON_MODEL_TOKENS = ("<|im_start|>", "<tool_response>", "</tool_response>")
TAGS = ("length", "mask", "logprob", "prompt", "drift")


def _chat_ids(tokenizer: Any, messages: Sequence[dict], tools: list[dict] | None) -> list[int]:
    ids = tokenizer.apply_chat_template(list(messages), tools=tools or None, add_generation_prompt=True, tokenize=True)
    if hasattr(ids, "keys") and "input_ids" in ids:
        ids = ids["input_ids"]
    return [int(t) for t in ids]


def _model_runs(mask: list[int]) -> list[tuple[int, int]]:
    """[start, end) of every maximal run of mask == 1."""
    runs, start = [], None
    for i, m in enumerate([*mask, 0]):
        if m == 1 and start is None:
            start = i
        elif m != 1 and start is not None:
            runs.append((start, i))
            start = None
    return runs


def _show(tokenizer: Any, ids: list[int]) -> str:
    text = tokenizer.decode(ids)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def check_trajectory(
    output: Any, tokenizer: Any, messages: Sequence[dict], tools: list[dict] | None = None
) -> list[str]:
    problems: list[str] = []
    ids = [int(t) for t in output.response_ids]
    mask = [int(m) for m in output.response_mask]
    logprobs = None if output.response_logprobs is None else [float(x) for x in output.response_logprobs]

    # 1. One entry per token in every list — truncating one list and not the others shifts everything.
    if len(mask) != len(ids):
        problems.append(f"length: response_mask has {len(mask)} entries for {len(ids)} response_ids")
    if logprobs is not None and len(logprobs) != len(ids):
        problems.append(f"length: response_logprobs has {len(logprobs)} entries for {len(ids)} response_ids")
    n = min(len(ids), len(mask), len(ids) if logprobs is None else len(logprobs))
    ids, mask = ids[:n], mask[:n]

    # 2. Mask values, and tokens only a chat template or a tool writes but marked as the model's.
    odd = [i for i, m in enumerate(mask) if m not in (0, 1)]
    if odd:
        problems.append(f"mask: response_mask must be 0 or 1, found other values at positions {odd[:8]}")
    non_model = {tokenizer.convert_tokens_to_ids(t) for t in NON_MODEL_TOKENS}
    runs = _model_runs(mask)
    for start, end in runs:
        run = ids[start:end]
        bad = [start + i for i, t in enumerate(run) if t in non_model]
        if tokenizer.eos_token_id in run[:-1]:  # the model stops at its EOS: nothing after it is its own
            first = run.index(tokenizer.eos_token_id)
            bad += [start + i for i in range(first + 1, len(run))]
        if bad:
            bad = sorted(set(bad))
            problems.append(
                f"mask: tokens {bad[0]}..{bad[-1]} ({_show(tokenizer, ids[bad[0] : bad[-1] + 1])}) have mask 1 but "
                "were written by a tool or the chat template, not sampled by the model"
            )

    # 3. Log-probs: 0 where mask is 0 (nothing was sampled there), a real log-probability where it is 1.
    if logprobs is not None:
        logprobs = logprobs[:n]
        tool_lp = [i for i in range(n) if mask[i] == 0 and logprobs[i] != 0.0]
        if tool_lp:
            problems.append(f"logprob: tool/template tokens {tool_lp[:8]} carry non-zero log-probs")
        model_lp = [i for i in range(n) if mask[i] == 1 and not (math.isfinite(logprobs[i]) and logprobs[i] <= 0.0)]
        if model_lp:
            problems.append(f"logprob: model tokens {model_lp[:8]} have log-probs that are not finite and <= 0")

    # 4. The prompt is the chat template of the messages, rendered once.
    expected = _chat_ids(tokenizer, messages, tools)
    prompt = [int(t) for t in output.prompt_ids]
    if prompt != expected:
        at = next((i for i, (a, b) in enumerate(zip(prompt, expected)) if a != b), min(len(prompt), len(expected)))
        problems.append(
            f"prompt: prompt_ids ({len(prompt)} tokens) differ from the chat template of the messages "
            f"({len(expected)} tokens) from position {at}"
        )

    # 5. Drift: would decode → encode give back the ids the model sampled?
    for turn, (start, end) in enumerate(runs):
        run = ids[start:end]
        again = list(tokenizer.encode(tokenizer.decode(run), add_special_tokens=False))
        if again != run:
            problems.append(
                f"drift: model turn {turn} (response tokens {start}..{end - 1}, {_show(tokenizer, run)}) re-tokenises "
                f"to {len(again)} different ids instead of {len(run)}: training on text would not train on "
                "what was sampled"
            )
    return problems
