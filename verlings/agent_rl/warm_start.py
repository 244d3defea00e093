"""Chapter 07's warm start: chapter 06's SFT pipeline (verl's SFT trainer, cached by recipe) on
tool-using conversations, so that the policy GRPO starts from already writes ``<tool_call>``.

A random model never emits a well-formed Hermes call, and GRPO cannot reward what never
happens. :data:`RECIPE` trains on :func:`verlings.agent_rl.task.sft_rows_with_drills`: whole
conversations (user question → assistant ``<tool_call>`` → tool answer → assistant answer) and
short drills of their two assistant turns; verl's ``MultiTurnSFTDataset``
puts the loss on the assistant turns only, and renders the first turn with the ``tools``
column, i.e. the same system prompt the agent loop renders in RL.
"""

from __future__ import annotations

from pathlib import Path

from verlings.agent_rl import task
from verlings.capstone import sft

sft.ROW_MAKERS[task.TASK.name] = lambda n, seed: task.sft_rows(n, seed=seed)
DRILLS_TASK = f"{task.TASK.name}+bare-drills-75"
sft.ROW_MAKERS[DRILLS_TASK] = lambda n, seed: task.sft_rows_with_drills(n, seed, drill_share=0.75)

# Whole conversations are ~235 tokens (the tool schema in the system prompt is most of it), with the
# loss on ~35 of them. On those alone the 2-layer model learns the call's template and not the digits
# (ch07 §5: the question's expression 0/64, the tool's answer 0/64, 80 steps; no better at 1000 steps):
# copying is not learned that far back from the number, among other digits. Three in four rows are
# short drills (``task.drill_rows``) where it is; what they teach carries over to the whole
# conversation. fp32: in verl's default bf16 the same rows hardly teach copying (sft.Recipe.fp32).
# Padded rows, as chapter 06's demo (sdpa gets no mask between packed rows). Measured in ch07 §5.1
# (benchmarks/bench_07_warm_start_copy.py) and §5 (benchmarks/bench_07_agent.py).
RECIPE = sft.Recipe(steps=500, batch_size=32, lr=3e-3, n_rows=32000, seed=1, max_length=256, task=DRILLS_TASK,
                    remove_padding=False, fp32=True)


def warm_start(rebuild: bool = False, log=print, timeout_s: float | None = None) -> Path:
    """The warm start's Hugging Face folder (cached under ``.verlings/cache/capstone/sft-<key>``);
    ``timeout_s`` defaults to :func:`verlings.capstone.sft.warm_start`'s, which grows with the steps."""
    return sft.warm_start(RECIPE, rebuild=rebuild, log=log, timeout_s=timeout_s)
