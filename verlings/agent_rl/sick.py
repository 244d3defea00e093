"""Chapter 07's classic agent-RL mistakes, as known-wrong variants of the chapter-05 reference.

Each is ``solutions/05/<module>.py`` with one mistake a learner really makes, written as a
:class:`verlings.dev.mutants.Mutant`. Two users:

* ``tests/test_mutants_07_agent_run.py`` — each must fail a graded test of ``07.training`` (a
  real verl run with the broken piece);
* ``scripts/record_agent_failures.py`` — runs them for a few steps and keeps the metrics that
  give each one away, for the lesson's debugging section (chapter 07 §6).

A target folder holds the reference solutions of chapters 03, 05 and 07 (the run uses all
three) with the mutant applied to its chapter-05 module.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from verlings.dev.mutants import Mutant, mutated_source
from verlings.paths import SOLUTIONS

CHAPTERS = ("03", "05", "07")  # what a chapter-07 run loads from the target
EXERCISE = "07.training"

# A loop that keeps the conversation as messages and lets the chat template write the
# trajectory: every turn is rendered again from the parsed text (the "obvious" loop of
# chapter 05 §3.1). The tool turns still get mask 0, the model's turns mask 1 — but the ids
# trained on are the template's, not the ones the engine sampled.
_RETEMPLATING_LOOP = """
async def run_agent(server, tokenizer, messages, tools, sampling_params, max_turns, response_length, *,
                    tools_kwargs=None):
    by_name = {tool.name: tool for tool in tools}
    schemas = [tool.tool_schema.model_dump(exclude_unset=True, exclude_none=True) for tool in tools]
    tools_kwargs = tools_kwargs or {}
    request_id = uuid4().hex
    prompt_ids = chat_ids(tokenizer, messages, tools=schemas, add_generation_prompt=True)
    conversation = list(messages)
    response_ids, response_mask, response_logprobs, tool_rewards = [], [], [], []
    assistant_turns = tool_turns = 0
    instances = {}
    try:
        for name, tool in by_name.items():
            instances[name], _ = await tool.create(create_kwargs=tools_kwargs.get(name, {}).get("create_kwargs", {}))
        while True:
            context = chat_ids(tokenizer, conversation, tools=schemas, add_generation_prompt=True)
            output = await server.generate(request_id=request_id, prompt_ids=context, sampling_params=sampling_params)
            assistant_turns += 1
            content, calls = await parse_tool_calls(tokenizer, output.token_ids)
            conversation.append({
                "role": "assistant",
                "content": content.replace(tokenizer.eos_token, "").strip(),
                "tool_calls": [{"type": "function", "function": {"name": c["name"],
                                                                 "arguments": json.loads(c["arguments"])}}
                               for c in calls],
            })
            # the model's turn as the template writes it, not as the engine sampled it
            rendered = chat_ids(tokenizer, conversation, tools=schemas)[len(prompt_ids) + len(response_ids):]
            response_ids += rendered
            response_mask += [1] * len(rendered)
            response_logprobs += (list(output.log_probs) + [0.0] * len(rendered))[: len(rendered)]
            if len(response_mask) >= response_length or assistant_turns >= max_turns or not calls:
                break
            results = await _run_tools(calls, by_name, instances)
            tool_rewards += [reward for _text, reward in results if reward is not None]
            conversation += [{"role": "tool", "content": t} for t, _ in results]
            delta = chat_ids(tokenizer, conversation, tools=schemas, add_generation_prompt=True)[
                len(prompt_ids) + len(response_ids):]
            if len(response_mask) + len(delta) >= response_length:
                break
            response_ids += delta
            response_mask += [0] * len(delta)
            response_logprobs += [0.0] * len(delta)
            tool_turns += 1
        tool_scores = {name: await by_name[name].calc_reward(iid) for name, iid in instances.items()}
    finally:
        await _release_all(by_name, instances)
    return AgentLoopOutput(
        prompt_ids=prompt_ids,
        response_ids=response_ids[:response_length],
        response_mask=response_mask[:response_length],
        response_logprobs=response_logprobs[:response_length],
        num_turns=assistant_turns + tool_turns + 1,
        metrics={},
        extra_fields={"turn_scores": [], "tool_rewards": tool_rewards, "tool_scores": tool_scores},
    )
"""

MUTANTS: dict[str, Mutant] = {
    m.name: m
    for m in (
        # The parser never finds a call (a regex that does not match the model's blocks, a
        # wrong marker, an early return): every trajectory stops after the first model turn.
        Mutant(
            "parser_finds_no_calls",
            EXERCISE,
            "tool_parser",
            """
            def parse_hermes(text):
                return text, []
            """,
        ),
        # Tool answers appended with mask 1: the policy is trained to predict the environment,
        # with log-probs it never had (the rollout's 0.0 for those tokens).
        Mutant(
            "tool_output_mask_1",
            EXERCISE,
            "agent_loop",
            replace={"response_mask += [0] * len(delta)": "response_mask += [1] * len(delta)"},
        ),
        Mutant("retemplating_loop", EXERCISE, "agent_loop", _RETEMPLATING_LOOP),
    )
}


def build_target(mutant: Mutant | None, root: Path) -> Path:
    """``root`` holding the reference chapters 03, 05, 07 — with ``mutant`` applied to its 05 module."""
    root = Path(root)
    for chapter in CHAPTERS:
        shutil.copytree(SOLUTIONS / chapter, root / chapter, ignore=shutil.ignore_patterns("__pycache__"))
    if mutant is not None:
        module = root / "05" / f"{mutant.module}.py"
        reference = (SOLUTIONS / "05" / f"{mutant.module}.py").read_text(encoding="utf-8")
        module.write_text(mutated_source(mutant, reference), encoding="utf-8")
    return root
