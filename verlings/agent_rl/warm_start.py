"""Chapter 07's warm start: chapter 06's SFT pipeline (verl's SFT trainer, cached by recipe) on
tool-using conversations, so that the policy GRPO starts from already writes ``<tool_call>``.

A random model never emits a well-formed Hermes call, and GRPO cannot reward what never
happens. :data:`RECIPE` trains on :func:`verlings.agent_rl.task.sft_rows` (user question →
assistant ``<tool_call>`` → tool answer → assistant answer); verl's ``MultiTurnSFTDataset``
puts the loss on the assistant turns only, and renders the first turn with the ``tools``
column, i.e. the same system prompt the agent loop renders in RL.
"""

from __future__ import annotations

from pathlib import Path

from verlings.agent_rl import task
from verlings.capstone import sft

sft.ROW_MAKERS[task.TASK.name] = lambda n, seed: task.sft_rows(n, seed=seed)

# Sequences are ~235 tokens (the tool schema in the system prompt is most of it); the loss is on
# ~35 of them. Measured on the shared 2-core machine: see benchmarks/bench_07_agent.py.
# What it learns (benchmarks/bench_07_warm_start_copy.py, ch07 §5): the call's template (a well-formed
# call on 64/64 held-out questions) but not the digits (the question's expression 0/64, the tool's answer
# repeated 0/64); padded rows and fixed-width operands did not change that within 240 steps.
RECIPE = sft.Recipe(steps=80, batch_size=16, lr=3e-3, n_rows=1280, seed=1, max_length=256, task=task.TASK.name)


def warm_start(rebuild: bool = False, log=print, timeout_s: float = 1800) -> Path:
    """The warm start's Hugging Face folder (cached under ``.verlings/cache/capstone/sft-<key>``)."""
    return sft.warm_start(RECIPE, rebuild=rebuild, log=log, timeout_s=timeout_s)
